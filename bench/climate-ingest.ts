/**
 * Climate ingest benchmark: MQTT sensor messages through the climate exporter (decode, gate, line protocol,
 * InfluxStore) into a throwaway InfluxDB, against a same-run baseline: a bare MQTT subscriber that only
 * JSON.parses each message. Two figures each:
 *   - throughput: messages/s ingested when a publisher sends as fast as it can;
 *   - CPU share of one core for N sensors each reporting every 10 s (N/10 messages per second, evenly paced).
 * The publisher runs in a child process so its CPU is not counted. Needs Mosquitto (FLYMINING_MQTT_URL or
 * mqtt://127.0.0.1:1883). Run: npx tsx bench/climate-ingest.ts [sensors=10000] [pacedSeconds=30]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { runBench, type ChildProcesses } from './lib/children';
import { InfluxStore, createLogger, ensureDatabase, parseInventory, schemaRetention } from '../shared/src';
import { ClimateExporter } from '../exporters/src/climate/climate-exporter';
import { configureSensors } from '../exporters/src/climate/settings';

const SENSORS = Number(process.argv[2] ?? 10_000);
const PACED_S = Number(process.argv[3] ?? 30);
const BURST_ROUNDS = 5;
const MQTT_URL = process.env.FLYMINING_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const RUN = `bench-${process.pid}`;
const topic = (i: number): string => `${RUN}/s${i}/SENSOR`;

/** Child: publishes `rounds` Tasmota messages per sensor, either flat out or paced over `seconds` per round. */
const PUBLISHER = `
const mqtt = require('mqtt');
const [url, run, sensors, rounds, secondsPerRound] = process.argv.slice(2).map((v, i) => (i < 2 ? v : Number(v)));
(async () => {
  const c = await mqtt.connectAsync(url, { clientId: run + '-pub-' + Math.random() });
  // Stamped now (Tasmota's local time, here UTC): the exporter refuses readings stamped an hour or more before arrival.
  const payload = (t) => JSON.stringify({ Time: new Date().toISOString().slice(0, 19), SHT3X: { Temperature: t, Humidity: 45.5, DewPoint: 9.1 }, TempUnit: 'C' });
  const started = Date.now();
  let sent = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < sensors; i++) {
      c.publish(run + '/s' + i + '/SENSOR', payload(20 + (i % 100) / 10 + r / 100), { qos: 0 });
      sent++;
      if (secondsPerRound > 0 && sent % 100 === 0) {
        const due = started + (sent / sensors) * secondsPerRound * 1000;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      } else if (sent % 2000 === 0) await new Promise((res) => setImmediate(res));
    }
  }
  await c.endAsync();
  process.send({ sent, ms: Date.now() - started });
})();
`;

function publish(rounds: number, secondsPerRound: number): Promise<{ sent: number; ms: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-bench-pub-'));
  const file = path.join(dir, 'publisher.js');
  writeFileSync(file, PUBLISHER);
  const child = fork(file, [MQTT_URL, RUN, String(SENSORS), String(rounds), String(secondsPerRound)], { cwd: process.cwd(), env: { ...process.env, NODE_PATH: path.resolve('node_modules') } });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as { sent: number; ms: number }));
    child.once('exit', (code) => (code ? reject(new Error(`publisher exited ${code}`)) : undefined));
  }).finally(() => rmSync(dir, { recursive: true, force: true })) as Promise<{ sent: number; ms: number }>;
}

interface Measured {
  messagesPerSecond: number;
  received: number;
  cpuSharePaced: number;
}

/** Runs both phases against a consumer that reports how many messages it has handled. */
async function measure(handled: () => number, drain: () => Promise<void>): Promise<Measured> {
  const start = handled();
  const t0 = Date.now();
  const pub = publish(BURST_ROUNDS, 0);
  const total = SENSORS * BURST_ROUNDS;
  await pub;
  // Wait until the consumer has caught up (or stopped making progress: QoS 0 may drop under overload).
  let last = -1;
  while (handled() - start < total && handled() !== last) {
    last = handled();
    await new Promise((r) => setTimeout(r, 500));
  }
  await drain();
  const received = handled() - start;
  const seconds = (Date.now() - t0) / 1000;

  const cpu0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  await publish(Math.max(1, Math.round(PACED_S / 10)), 10);
  await drain();
  const cpu = process.cpuUsage(cpu0);
  const wallS = Number(process.hrtime.bigint() - w0) / 1e9;
  return { messagesPerSecond: Math.round(received / seconds), received, cpuSharePaced: Math.round(((cpu.user + cpu.system) / 1e6 / wallS) * 1000) / 1000 };
}

async function main(children: ChildProcesses): Promise<void> {
  // Owned by the bench's children: stopped on every way out (a signal, a crash) as well as here.
  const server = await children.influx();
  const spool = mkdtempSync(path.join(os.tmpdir(), 'flymining-bench-spool-'));
  try {
    // Baseline: a bare subscriber that parses JSON and nothing else.
    const bare = await mqtt.connectAsync(MQTT_URL, { clientId: `${RUN}-bare` });
    let parsed = 0;
    bare.on('message', (_t, p) => {
      JSON.parse(p.toString('utf8'));
      parsed++;
    });
    await bare.subscribeAsync(`${RUN}/+/SENSOR`);
    const baseline = await measure(() => parsed, async () => undefined);
    await bare.endAsync();

    // The climate exporter with SENSORS Tasmota sensors in 100-sensor containers.
    const containers = Array.from({ length: Math.ceil(SENSORS / 100) }, (_, c) => ({
      name: `B${c}`,
      sensors: Array.from({ length: Math.min(100, SENSORS - c * 100) }, (_, k) => {
        const i = c * 100 + k;
        return { id: `b${i}`, position: k === 0 ? 'intake' : k === 1 ? 'exhaust' : 'other', protocol: 'mqtt', topic: topic(i) };
      }),
      racks: [],
    }));
    const inventory = parseInventory(JSON.stringify({ site: 'bench', containers }), 'bench.json');
    const store = new InfluxStore({ url: server.url, database: 'bench_climate', spool: { dir: spool } });
    await ensureDatabase(store, schemaRetention('bench_climate'));
    const exporter = new ClimateExporter(
      configureSensors(inventory),
      store,
      // The flood guard would (rightly) refuse a sensor sending five messages in a burst: open it for the bench.
      { name: 'bench', mqttUrl: MQTT_URL, intervalS: 10, floodBurst: 1000, floodPerSecond: 1000 },
      createLogger('bench', 'silent'),
    );
    await exporter.start();
    const climate = await measure(() => exporter.readingsAccepted, () => store.flush());
    const rejected = (await exporter.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'flymining_climate_rejected_total');
    await exporter.stop();
    const stored = await store.queryRows('SELECT count(temperature_c) FROM climate_sensor');
    await store.close();
    const stats = store.stats();
    const rejectedCount = (rejected?.values ?? []).reduce((s, v) => s + Number(v.value), 0);
    if (rejectedCount > 0 || climate.received === 0) {
      // A bench whose messages were refused measures nothing: say why instead of printing figures.
      const reasons = (rejected?.values ?? []).filter((v) => Number(v.value) > 0).map((v) => `${String(v.labels.reason)} ${v.value}`);
      throw new Error(`the climate exporter accepted ${climate.received} of the messages and rejected ${rejectedCount} (${reasons.join(', ')})`);
    }
    console.log(
      JSON.stringify(
        {
          benchmark: 'climate-ingest',
          sensors: SENSORS,
          burstMessages: SENSORS * BURST_ROUNDS,
          pacedSeconds: Math.max(1, Math.round(PACED_S / 10)) * 10,
          pacedMessagesPerSecond: SENSORS / 10,
          climateExporter: { ...climate, rejected: rejectedCount, pointsStoredInInflux: Number(stored[0]?.count ?? 0), pointsWritten: stats.written },
          baselineBareSubscriber: baseline,
          throughputRatio: Math.round((climate.messagesPerSecond / baseline.messagesPerSecond) * 100) / 100,
          cpuShareGoal: 0.2,
          cpuShareMet: climate.cpuSharePaced < 0.2,
          machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
        },
        null,
        2,
      ),
    );
  } finally {
    rmSync(spool, { recursive: true, force: true });
  }
}

runBench(main);
