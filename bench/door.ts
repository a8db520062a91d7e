/**
 * Door benchmark (issue 15): time from a container door's MQTT message to the on-call mail, with the demo's
 * timings: alerting's evaluation_interval 5 s, the DoorOpen route's group_wait 0 s (provisioning/alerting/
 * alerting.yaml), the edge store's default 1 s flush. Real Mosquitto, InfluxDB, Redis and SMTP server; the
 * simulator's door contact opened through its control API (the README's curl), read by the climate exporter from
 * the inventory the simulator writes, relayed by the alerting service. Each round opens the door, waits for the
 * mail, closes it, waits for the resolved mail and a random part of an evaluation interval, so the rounds fall on
 * different phases of the alerting cycle. Baseline, same run: the same DOOR_OPEN written straight into Redis (the
 * active-fault hash and the wake-up event, as the center's relay writes it) for a container no edge reports: what
 * alerting and the SMTP server alone take, so the difference is the edge's path (exporter, flush, relay cycle).
 *
 * Run: npx tsx bench/door.ts [rounds=8]
 * Uses Redis database 13 of FLYMINING_BENCH_REDIS_URL (default redis://127.0.0.1:6379), flushed at start, and the
 * broker at FLYMINING_MQTT_URL (default mqtt://127.0.0.1:1883).
 */
import mqtt from 'mqtt';
import pino from 'pino';
import Redis from 'ioredis';
import { runBench, type ChildProcesses } from './lib/children';
import { InfluxStore, ensureDatabase, parseInventory, schemaRetention } from '../shared/src';
import { ClimateExporter } from '../exporters/src/climate/climate-exporter';
import { configureSensors } from '../exporters/src/climate/settings';
import { AlertingService } from '../alerting/src/service';
import { config, fault, raise, startMailbox } from '../alerting/test/helpers';
import { REDIS_KEYS } from '../shared/src';
import { SimulatedFarm, generateFarmSpecs } from '../simulator/src/farm';
import { startControlServer } from '../simulator/src/control';
import { inventoryYaml } from '../simulator/src/write-inventory';

const ROUNDS = Number(process.argv[2] ?? 8);
const EVALUATION_MS = 5000;
const REDIS_URL = `${(process.env.FLYMINING_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/13`;
const MQTT_URL = process.env.FLYMINING_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const DATABASE = 'bench_door';
const C = `B${process.pid.toString(36).toUpperCase()}`;

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(children: ChildProcesses): Promise<void> {
  const closers: Array<() => Promise<unknown> | unknown> = [];
  try {
    // Owned by the bench's children: stopped on every way out (a signal, a crash) as well as at the end.
    const influx = await children.influx();
    // The edge's store as in the demo: the default batch flush (1 s).
    const store = new InfluxStore({ url: influx.url, database: DATABASE }, { spool: false });
    closers.push(() => store.close());
    await ensureDatabase(store, schemaRetention(DATABASE));
    const redis = new Redis(REDIS_URL);
    closers.push(() => redis.disconnect());
    await redis.flushdb();
    const mailbox = await startMailbox();
    closers.push(() => mailbox.close());

    const specs = generateFarmSpecs({ miners: 4, containers: 1, racksPerContainer: 1, baseAddress: '127.62.0.1', seed: 5 }).map((s) => ({ ...s, position: { ...s.position, container: C } }));
    const farm = new SimulatedFarm({ specs, seed: 5, mqttUrl: MQTT_URL, mqttIntervalMs: 10_000 });
    await farm.start();
    closers.push(() => farm.stop());
    const control = await startControlServer(farm, 0);
    closers.push(() => control.close());

    const inventory = parseInventory(inventoryYaml(specs, { sensors: true }), 'farm.yaml');
    const exporter = new ClimateExporter(configureSensors(inventory), store, { name: `edge-${C}`, mqttUrl: MQTT_URL, intervalS: 10 }, pino({ level: 'silent' }));
    await exporter.start();
    closers.push(() => exporter.stop());

    const service = new AlertingService(
      config(`
redis: ${REDIS_URL}
key_prefix: flymining:alerting:benchdoor
evaluation_interval: ${EVALUATION_MS}ms
influx: { url: '${influx.url}', database: ${DATABASE} }
rules: [{ name: DoorOpen, faults: [DOOR_OPEN] }]
route:
  { receiver: oncall, group_by: [site, container, alertname], group_wait: 5s, group_interval: 1m, repeat_interval: 4h,
    routes: [{ matchers: ['severity="info"'], receiver: daytime }, { matchers: ['alertname=~"DoorOpen|ContainerHazard"'], group_wait: 0s, group_interval: 1s }] }
receivers:
  - { name: oncall, email: { to: [oncall@farm.example], smarthost: '${mailbox.url}' } }
  - { name: daytime }
`),
      pino({ level: 'silent' }),
    );
    await service.start();
    closers.push(() => service.stop());

    // When the door's message is on the wire (the broker's copy to a subscriber of our own).
    const wire = await mqtt.connectAsync(MQTT_URL);
    closers.push(() => wire.endAsync(true));
    let messageAt = 0;
    wire.on('message', (_t, payload) => {
      if (payload.toString().includes('"Switch1":"ON"')) messageAt = Date.now();
    });
    await wire.subscribeAsync(`tele/${C}-door/SENSOR`);
    await new Promise((r) => setTimeout(r, 2 * EVALUATION_MS)); // the closed door's heartbeats reach the center

    const post = (fault: string): Promise<Response> =>
      fetch(`${control.url}/containers/${C}/sensor-faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault }) });
    const mails = (kind: 'FIRING' | 'RESOLVED'): number => mailbox.mails.filter((m) => (m.subject ?? '').startsWith(`[${kind}`) && (m.subject ?? '').includes('DOOR_OPEN')).length;
    const samples: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const firing = mails('FIRING');
      const resolved = mails('RESOLVED');
      messageAt = 0;
      await post('doorOpen');
      await waitFor('the door mail', () => (mails('FIRING') > firing ? true : undefined));
      const mailedAt = mailbox.dataStarted[mailbox.dataStarted.length - 1]!;
      samples.push(mailedAt - messageAt);
      await post('clear');
      await waitFor('the resolved mail', () => (mails('RESOLVED') > resolved ? true : undefined));
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * EVALUATION_MS));
    }
    // Baseline: the fault put into Redis directly (no edge), same alerting service and mailbox.
    const direct: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const firing = mails('FIRING');
      const resolved = mails('RESOLVED');
      const door = { ...fault(`BASE-door`, 'DOOR_OPEN', 'BASE'), part: 'BASE-door', location: { site: 'north-1', container: 'BASE', rack: '-', shelf: '-', slot: '-' } };
      const raisedAt = Date.now();
      await raise(redis, [door]);
      await waitFor('the baseline mail', () => (mails('FIRING') > firing ? true : undefined));
      direct.push(mailbox.dataStarted[mailbox.dataStarted.length - 1]! - raisedAt);
      await redis.hdel(REDIS_KEYS.activeFaults, `${door.minerId}|${door.code}|${door.part}`);
      await waitFor('the baseline resolved mail', () => (mails('RESOLVED') > resolved ? true : undefined));
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * EVALUATION_MS));
    }
    const sortedDirect = [...direct].sort((a, b) => a - b);
    const sorted = [...samples].sort((a, b) => a - b);
    const result = {
      benchmark: 'door-open message → on-call mail (demo timings)',
      rounds: ROUNDS,
      settings: { evaluationIntervalMs: EVALUATION_MS, groupWaitMs: 0, edgeFlushMs: 1000 },
      bound: 'edge flush + one evaluation interval + group_wait + SMTP',
      samplesMs: samples,
      medianMs: quantile(sorted, 0.5),
      maxMs: sorted[sorted.length - 1],
      minMs: sorted[0],
      baseline: { what: 'DOOR_OPEN written straight into Redis (no edge path)', samplesMs: direct, medianMs: quantile(sortedDirect, 0.5), maxMs: sortedDirect[sortedDirect.length - 1] },
      ratioOfMedians: Math.round((quantile(sorted, 0.5) / Math.max(1, quantile(sortedDirect, 0.5))) * 10) / 10,
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    for (const close of closers.splice(0).reverse()) await Promise.resolve().then(close).catch(() => undefined);
  }
}

runBench(main);
