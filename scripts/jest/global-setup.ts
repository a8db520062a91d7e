/**
 * Starts the real servers the test suite shares: one throwaway InfluxDB. Redis, PostgreSQL and Mosquitto are
 * expected on their standard 127.0.0.1 ports (scripts/test.sh starts them when missing) or wherever
 * FLYMINING_TEST_*_URL point. Never the application's FLYMINING_*_URL: tests write and delete data.
 * Tests that stop and restart InfluxDB start their own InfluxTestServer instead of touching this one.
 */
import { execFileSync } from 'node:child_process';
import { InfluxTestServer } from './influx-server';

declare global {
  // eslint-disable-next-line no-var
  var __FLYMINING_INFLUX__: InfluxTestServer | undefined;
}

function requireInfluxd(): void {
  try {
    execFileSync('influxd', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      "influxd (InfluxDB 1.x) is not installed: run the tests with 'npm test', which installs it, or 'apt-get install influxdb'",
    );
  }
}

export default async function globalSetup(): Promise<void> {
  requireInfluxd();
  const server = await InfluxTestServer.create();
  await server.start();
  globalThis.__FLYMINING_INFLUX__ = server;
  process.env.FLYMINING_TEST_INFLUX_URL = server.url;
  process.env.FLYMINING_TEST_REDIS_URL ??= 'redis://127.0.0.1:6379/0';
  process.env.FLYMINING_TEST_PG_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  process.env.FLYMINING_TEST_MQTT_URL ??= 'mqtt://127.0.0.1:1883';
}
