/**
 * Starts the real servers the test suite shares: one throwaway InfluxDB. Redis, PostgreSQL and Mosquitto are
 * expected on their standard 127.0.0.1 ports (scripts/test.sh starts them when missing).
 * Tests that stop and restart InfluxDB start their own InfluxTestServer instead of touching this one.
 */
import { InfluxTestServer } from './influx-server';

declare global {
  // eslint-disable-next-line no-var
  var __FLYMINING_INFLUX__: InfluxTestServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const server = await InfluxTestServer.create();
  await server.start();
  globalThis.__FLYMINING_INFLUX__ = server;
  process.env.FLYMINING_TEST_INFLUX_URL = server.url;
  process.env.FLYMINING_TEST_REDIS_URL ??= 'redis://127.0.0.1:6379/0';
}
