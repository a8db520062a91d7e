/**
 * The sensors' MQTT broker goes away for a while (a private Mosquitto this test starts and stops): the exporter says
 * so once in its log, on /healthz and in a metric, and says when it is back; the readings that the sensors held back
 * during the outage and deliver together afterwards are stored at the times the devices stamped them, each its own
 * point, and readings stamped far off the arrival time are refused and counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { parseInventory, type InfluxStore } from '@flymining/shared';
import { stringify } from 'yaml';
import { freePort } from '../../../scripts/jest/influx-server';
import { ClimateExporter } from '../../src/climate/climate-exporter';
import { startClimateHttp } from '../../src/climate/main';
import { configureSensors } from '../../src/climate/settings';
import { acceptsConnections, freshStore, waitFor } from '../e2e/helpers';

const run = `bo${process.pid.toString(36)}${Date.now().toString(36)}`;
const Q = `Q${process.pid % 1000}`;
const topics = { intake: `${run}/tele/intake/SENSOR`, exhaust: `${run}/shelly/events/rpc`, probe: `${run}/probe/sensor/temperature/state` };
/** The intake's Tasmota runs on local time two hours east of UTC (inventory: utcOffset "+02:00"). */
const DEVICE_OFFSET_MS = 2 * 3600_000;

interface LogLine {
  level: number;
  msg: string;
  broker?: string;
  reason?: string;
}

let port: number;
let brokerUrl: string;
let broker: ChildProcess | undefined;
let store: InfluxStore;
let exporter: ClimateExporter;
let http: Server;
let publisher: MqttClient;
const logLines: LogLine[] = [];

async function startBroker(): Promise<ChildProcess> {
  const child = spawn('mosquitto', ['-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(`mosquitto on port ${port}`, () => acceptsConnections(port), 10_000, () => stderr.slice(-500));
  return child;
}

async function stopBroker(): Promise<void> {
  const child = broker;
  broker = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function healthz(): Promise<{ status: string; problems: string[] }> {
  const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/healthz`);
  return (await res.json()) as { status: string; problems: string[] };
}

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await exporter.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

const tasmotaAt = (ms: number, t: number): string =>
  JSON.stringify({ Time: new Date(ms + DEVICE_OFFSET_MS).toISOString().slice(0, 19), SHT3X: { Temperature: t, Humidity: 40 }, TempUnit: 'C' });
const shellyAt = (ms: number, t: number): string => JSON.stringify({ method: 'NotifyStatus', params: { ts: ms / 1000, 'temperature:0': { id: 0, tC: t } } });

beforeAll(async () => {
  port = await freePort();
  brokerUrl = `mqtt://127.0.0.1:${port}`;
  broker = await startBroker();
  store = await freshStore(`climate_outage_${process.pid}`);
  const yaml = stringify({
    site: 'outage',
    containers: [
      {
        name: Q,
        racks: [],
        sensors: [
          { id: `${Q}-intake`, position: 'intake', protocol: 'mqtt', topic: topics.intake, utcOffset: '+02:00' },
          { id: `${Q}-exhaust`, position: 'exhaust', protocol: 'mqtt', format: 'shelly', topic: topics.exhaust },
          { id: `${Q}-probe`, position: 'other', protocol: 'mqtt', format: 'esphome', topics: { temperatureC: topics.probe } },
        ],
      },
    ],
  });
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as LogLine) });
  exporter = new ClimateExporter(
    configureSensors(parseInventory(yaml, 'outage.yaml')),
    store,
    { name: 'edge-outage', mqttUrl: brokerUrl, intervalS: 3600, firstEvaluationMs: 3_600_000 },
    log,
  );
  await exporter.start();
  await exporter.evaluate(); // /healthz answers 503 "starting" until the first evaluation
  http = await startClimateHttp(exporter, () => true, '127.0.0.1', 0);
  // A sensor side that queues while the broker is away and delivers on reconnect (reconnected by the test).
  publisher = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0 });
  publisher.on('error', () => undefined);
});

afterAll(async () => {
  await exporter?.stop();
  await publisher?.endAsync(true);
  http?.close();
  await stopBroker();
  await store?.close();
});

test('a broker outage is logged once, shown on /healthz and /metrics, and the held-back readings keep their own times', async () => {
  expect(await healthz()).toMatchObject({ status: 'ok', problems: [] });
  expect(await metric('flymining_climate_mqtt_connected')).toBe(1);

  await stopBroker();
  // Degraded with the reason, after mqtt.js tried again at least once (the refused connection is the reason then).
  await waitFor('/healthz to say degraded, naming the broker and the refused connection', async () => {
    const h = await healthz();
    return h.status === 'degraded' && h.problems.some((p) => p.includes(brokerUrl) && p.includes('ECONNREFUSED'));
  }, 15_000, () => logLines.slice(-3));
  expect(await metric('flymining_climate_mqtt_connected')).toBe(0);
  expect(await metric('flymining_climate_mqtt_disconnects_total')).toBe(1);
  const lost = logLines.filter((l) => l.msg.includes('lost'));
  expect(lost).toEqual([expect.objectContaining({ level: 50, broker: brokerUrl })]);
  expect(lost[0]!.msg).toContain(brokerUrl);

  // Readings the devices stamp during the outage (Tasmota: whole seconds, device local time; Shelly: epoch seconds).
  const t0 = Math.floor(Date.now() / 1000) * 1000;
  const held = [
    tasmotaAt(t0 - 30_000, 20),
    tasmotaAt(t0 - 20_000, 21),
    tasmotaAt(t0 - 10_000, 22),
    tasmotaAt(t0 - 10_000, 22.5), // a second reading within the same second: its own point, 1 ms later
    tasmotaAt(t0 - 2 * 3600_000, 5), // a device clock two hours slow: refused (maxAgeS 3600)
    tasmotaAt(t0 + 3600_000, 6), // an hour ahead: refused (maxAheadS 300)
  ];
  for (const payload of held) publisher.publish(topics.intake, payload);
  publisher.publish(topics.exhaust, shellyAt(t0 - 25_000, 30));
  publisher.publish(topics.exhaust, shellyAt(t0 - 15_000, 31));

  broker = await startBroker();
  await waitFor('/healthz ok again', async () => (await healthz()).status === 'ok', 15_000, () => logLines.slice(-3));
  const back = logLines.filter((l) => l.msg.includes('back after'));
  expect(back).toEqual([expect.objectContaining({ level: 30, broker: brokerUrl })]);
  expect(await metric('flymining_climate_mqtt_connected')).toBe(1);
  // The exporter's subscriptions are renewed once a probe reading gets through; then the sensors deliver.
  const probe = await mqtt.connectAsync(brokerUrl);
  try {
    await waitFor('a probe reading through the renewed subscription', async () => {
      await probe.publishAsync(topics.probe, '19.5');
      await new Promise((r) => setTimeout(r, 100));
      return (await metric('flymining_climate_readings_total', { sensor: `${Q}-probe` })) > 0;
    });
  } finally {
    await probe.endAsync();
  }
  publisher.reconnect();
  await waitFor('the held-back readings', async () =>
    (await metric('flymining_climate_readings_total', { sensor: `${Q}-intake` })) === 4 &&
    (await metric('flymining_climate_readings_total', { sensor: `${Q}-exhaust` })) === 2 &&
    (await metric('flymining_climate_rejected_total', { sensor: `${Q}-intake`, reason: 'too-old' })) === 1 &&
    (await metric('flymining_climate_rejected_total', { sensor: `${Q}-intake`, reason: 'in-future' })) === 1,
  );

  await store.flush();
  const stored = async (sensor: string): Promise<Array<[number, unknown]>> =>
    (await store.queryRows(`SELECT temperature_c FROM climate_sensor WHERE sensor = '${sensor}'`)).map((r) => [r.time, r.temperature_c]);
  expect(await stored(`${Q}-intake`)).toEqual([
    [t0 - 30_000, 20],
    [t0 - 20_000, 21],
    [t0 - 10_000, 22],
    [t0 - 10_000 + 1, 22.5],
  ]);
  expect(await stored(`${Q}-exhaust`)).toEqual([
    [t0 - 25_000, 30],
    [t0 - 15_000, 31],
  ]);
  // Judged on the newest reading, whatever order they came in.
  await exporter.evaluate();
  await store.flush();
  const [container] = await store.queryRows(`SELECT intake_c, exhaust_c FROM climate_container WHERE container = '${Q}' ORDER BY time DESC LIMIT 1`);
  expect(container).toMatchObject({ intake_c: 22.5, exhaust_c: 31 });
  expect(logLines.filter((l) => l.msg.includes('lost'))).toHaveLength(1);
});
