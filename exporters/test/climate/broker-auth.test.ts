/**
 * The edge's sensor broker refuses anonymous clients (provisioning/mosquitto/mosquitto.conf): the climate exporter
 * signs in with a user name and a password read from a file, reads its sensors, and never shows the password: not
 * in its log, not on /healthz, not when the password is wrong or was written into the URL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { parseInventory, type InfluxStore } from '@flymining/shared';
import { stringify } from 'yaml';
import { freePort } from '../../../scripts/jest/influx-server';
import { ClimateExporter } from '../../src/climate/climate-exporter';
import { readClimateSettings } from '../../src/climate/main';
import { configureSensors } from '../../src/climate/settings';
import { acceptsConnections, freshStore, waitFor } from '../e2e/helpers';

const PASSWORD = `s3cret-${process.pid}-never-shown`;
const run = `ba${process.pid.toString(36)}${Date.now().toString(36)}`;
const topic = `${run}/tele/intake/SENSOR`;
let dir: string;
let port: number;
let broker: ChildProcess;
let store: InfluxStore;
const exporters: ClimateExporter[] = [];
let logText = '';

function exporterWith(broker: ConstructorParameters<typeof ClimateExporter>[2]['mqttUrl'], name: string): ClimateExporter {
  const inventory = parseInventory(
    stringify({ site: 'auth', containers: [{ name: 'A1', racks: [], sensors: [{ id: `${name}-intake`, position: 'intake', protocol: 'mqtt', topic }] }] }),
    'farm.yaml',
  );
  const log = pino({ level: 'info' }, { write: (line: string) => void (logText += line) });
  const exporter = new ClimateExporter(configureSensors(inventory), store, { name, mqttUrl: broker, intervalS: 3600, firstEvaluationMs: 3_600_000 }, log);
  exporters.push(exporter);
  return exporter;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-broker-auth-'));
  chmodSync(dir, 0o777); // mosquitto run as root drops to its own user and must read the files
  port = await freePort();
  const passwd = path.join(dir, 'passwd');
  const made = spawnSync('mosquitto_passwd', ['-c', '-b', passwd, 'climate', PASSWORD], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
  chmodSync(passwd, 0o644);
  writeFileSync(path.join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${passwd}\n`, { mode: 0o644 });
  writeFileSync(path.join(dir, 'climate.pass'), `${PASSWORD}\n`, { mode: 0o600 });
  broker = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  await waitFor(`mosquitto on port ${port}`, () => acceptsConnections(port), 10_000);
  store = await freshStore(`climate_auth_${process.pid}`);
});

afterAll(async () => {
  for (const e of exporters) await e.stop().catch(() => undefined);
  await store?.close();
  if (broker && broker.exitCode === null) {
    await new Promise<void>((resolve) => {
      broker.once('exit', () => resolve());
      broker.kill('SIGTERM');
    });
  }
  rmSync(dir, { recursive: true, force: true });
});

it('reads the password from FLYMINING_MQTT_PASSWORD_FILE and receives the sensors of a broker that refuses anonymous clients', async () => {
  const settings = readClimateSettings(['node', 'climate', '--inventory', 'farm.yaml'], {
    FLYMINING_MQTT_URL: `mqtt://127.0.0.1:${port}`,
    FLYMINING_MQTT_USERNAME: 'climate',
    FLYMINING_MQTT_PASSWORD_FILE: path.join(dir, 'climate.pass'),
  });
  expect(settings.mqttUsername).toBe('climate');
  expect(settings.mqttPasswordFile).toBe(path.join(dir, 'climate.pass'));
  const exporter = exporterWith({ url: settings.mqttUrl, username: 'climate', password: PASSWORD }, 'edge-auth-ok');
  await exporter.start();
  const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'climate', password: PASSWORD, reconnectPeriod: 0 });
  try {
    await waitFor(
      'the intake reading',
      async () => {
        await sensor.publishAsync(topic, JSON.stringify({ SHT3X: { Temperature: 21.5, Humidity: 40 }, TempUnit: 'C' }));
        return exporter.readingsAccepted > 0;
      },
      10_000,
    );
  } finally {
    await sensor.endAsync();
  }
  expect(exporter.mqtt.link().connected).toBe(true);
});

it('a wrong password is refused by the broker and the exporter names the broker but never the password', async () => {
  await expect(exporterWith({ url: `mqtt://127.0.0.1:${port}`, username: 'climate', password: `${PASSWORD}-wrong` }, 'edge-auth-bad').start()).rejects.toThrow(
    new RegExp(`MQTT broker mqtt://climate@127\\.0\\.0\\.1:${port}.*Not authorized`, 'i'),
  );
  expect(logText).not.toContain(PASSWORD);
});

it('a password written into the URL is used but never shown: messages name the account only', async () => {
  const exporter = exporterWith(`mqtt://climate:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`, 'edge-auth-url');
  await exporter.start();
  expect(exporter.mqtt.link().connected).toBe(true);
  const error = await exporterWith(`mqtt://climate:${encodeURIComponent(PASSWORD)}x@127.0.0.1:${port}`, 'edge-auth-url-bad')
    .start()
    .then(
      () => 'connected',
      (e: Error) => e.message,
    );
  expect(error).toContain(`MQTT broker mqtt://climate@127.0.0.1:${port}`);
  expect(error).toMatch(/Not authorized/i);
  expect(error).not.toContain(PASSWORD);
  expect(logText).not.toContain(PASSWORD);
});
