/**
 * The uplink end to end over a real, impaired link. An edge in its own network namespace (simulated miners of one
 * container on 127.x there, the REAL miner exporter process) writes to the center in the root namespace through a
 * veth with 5 % random loss each way (iptables) and 300 ms ± 100 ms latency each way (our LinkProxy on the veth's
 * center address, forwarding to InfluxDB). The alerting service runs as a real process: its relay turns heartbeats
 * into Redis state and pages ContainerSilent. Then the link is cut for ~20 sweeps, the exporter is SIGKILLed and
 * restarted mid-outage, a fault comes and goes, and the link comes back.
 *
 * Runs as root (CI does): without namespaces or iptables it FAILS with the refusing command, it does not skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import type { ParsedMail } from 'mailparser';
import { InfluxStore, REDIS_KEYS, edgeStatusKey, ensureDatabase, schemaRetention, type EdgeStatus, type Fault } from '@flymining/shared';
import { LinkProxy } from '../../../simulator/src/link-proxy';
import { freePort, InfluxTestServer, makeTestCertificates } from '../../../scripts/jest/influx-server';
import { startMailbox, type Mailbox } from '../../../alerting/test/helpers';
import { centerAlertingConfig, EdgeNamespace, type LossRule } from './netns';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '../../..');
const REDIS_DB = 9; // this file's own Redis database, flushed at start
const SITE = 'SIM';
const CONTAINER = 'C01';
const EDGE = `edge-${CONTAINER}`;
const MINERS = 30;
const INTERVAL_MS = 1000;
const GROUP_WAIT_MS = 1000;
const EVALUATION_MS = 1000;
const SILENT_AFTER_INTERVALS = 3;
const OUTAGE_SWEEPS = 20;
const CONTROL_PORT = 4100; // inside the namespace: no other test can hold it

function redisUrl(): string {
  return `${process.env.FLYMINING_TEST_REDIS_URL?.replace(/\/\d*$/, '') ?? 'redis://127.0.0.1:6379'}/${REDIS_DB}`;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, describe?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `\n${describe()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A child process with the tail of its output kept, for failure messages and for the log assertions. */
class Watched {
  output = '';
  readonly exited: Promise<NodeJS.Signals | number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-200_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Signals the process and waits for its exit; SIGKILL after graceMs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<NodeJS.Signals | number | null> {
    if (!this.running) return this.child.signalCode ?? this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  tail(lines = 30): string {
    return `--- ${this.name} (${this.running ? 'running' : `exited ${this.child.signalCode ?? this.child.exitCode}`}) ---\n${this.output.split('\n').slice(-lines).join('\n')}`;
  }
}

/** Cleanup steps, run in reverse on every path (afterAll), each on its own so one failure does not skip the rest. */
class Cleanup {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];
  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        process.stderr.write(`uplink-link cleanup: ${(err as Error).message}\n`);
      }
    }
  }
}

interface EdgeFiles {
  dir: string;
  inventory: string;
  spoolDir: string;
  stateDir: string;
}

function edgeFiles(label: string): EdgeFiles {
  const dir = mkdtempSync(path.join(tmpdir(), `flymining-uplink-${label}-`));
  return { dir, inventory: path.join(dir, 'farm.yaml'), spoolDir: path.join(dir, 'spool'), stateDir: path.join(dir, 'state') };
}

/** The simulated container inside the namespace; resolves once its control API answers there. */
async function startSimulator(ns: EdgeNamespace, files: EdgeFiles, seed: number): Promise<Watched> {
  const sim = new Watched(
    'simulator',
    ns.spawn(
      process.execPath,
      ['-r', 'tsx/cjs', 'simulator/src/main.ts', '--miners', String(MINERS), '--containers', '1', '--control-port', String(CONTROL_PORT),
        // The link is under test, not the miners' protocols: CGMiner-API units only (one short TCP exchange each).
        '--inventory-out', files.inventory, '--base-address', '127.1.0.1', '--seed', String(seed), '--cgminer-only'],
      { cwd: ROOT },
    ),
  );
  await waitFor(
    'the simulator control API inside the namespace',
    async () => sim.running && (await ns.http('GET', `http://127.0.0.1:${CONTROL_PORT}/miners`).catch(() => ({ status: 0 }))).status === 200,
    60_000,
    () => sim.tail(),
  );
  return sim;
}

interface ExporterSetup {
  influxUrl: string;
  database: string;
  username?: string;
  passwordFile?: string;
  caFile?: string;
}

/** The real miner exporter of the edge, inside the namespace, as the brief's command line runs it. */
function startExporter(ns: EdgeNamespace, files: EdgeFiles, setup: ExporterSetup, label: string): Watched {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FLYMINING_LOG_LEVEL: 'info',
    FLYMINING_INFLUX_URL: setup.influxUrl,
    FLYMINING_INFLUX_DB: setup.database,
    FLYMINING_INFLUX_SPOOL_DIR: files.spoolDir,
    FLYMINING_INFLUX_SPOOL_REPLAY_INTERVAL_MS: '500',
    FLYMINING_INFLUX_SPOOL_MAX_REPLAY_INTERVAL_MS: '2000',
    FLYMINING_INFLUX_SPOOL_SYNC_WHEN_DOWN: 'true',
    FLYMINING_INFLUX_MAX_RETRIES: '1',
    FLYMINING_INFLUX_TIMEOUT_MS: '5000',
    FLYMINING_INFLUX_USERNAME: setup.username,
    FLYMINING_INFLUX_PASSWORD_FILE: setup.passwordFile,
    FLYMINING_INFLUX_CA_FILE: setup.caFile,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return new Watched(
    `exporter ${label}`,
    ns.spawn(
      process.execPath,
      ['-r', 'tsx/cjs', 'exporters/src/main.ts', '--inventory', files.inventory, '--name', EDGE, '--containers', CONTAINER,
        '--interval', String(INTERVAL_MS / 1000), '--jitter', '0', '--state-dir', files.stateDir, '--listen', '127.0.0.1:9410'],
      { cwd: ROOT, env },
    ),
  );
}

/** Complete lines in the spool's segment files (a torn last line of a killed writer is not counted). */
function spooledLines(spoolDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(spoolDir).filter((n) => /^\d{16}\.lp$/.test(n)).sort();
  } catch {
    return [];
  }
  const lines: string[] = [];
  for (const name of names) {
    const text = readFileSync(path.join(spoolDir, name), 'utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    lines.push(...complete.split('\n').filter((l) => l.length > 0 && !l.includes('\0')));
  }
  return lines;
}

/** measurement,tags and timestamp of a line: its identity in InfluxDB. */
function pointKey(line: string): { measurement: string; tags: Record<string, string>; time: number } {
  const firstSpace = line.search(/(?<!\\) /);
  const lastSpace = line.lastIndexOf(' ');
  const [measurement = '', ...tagParts] = line.slice(0, firstSpace).split(/(?<!\\),/);
  const tags: Record<string, string> = {};
  for (const part of tagParts) {
    const eq = part.search(/(?<!\\)=/);
    tags[part.slice(0, eq).replace(/\\(.)/g, '$1')] = part.slice(eq + 1).replace(/\\(.)/g, '$1');
  }
  return { measurement: measurement.replace(/\\(.)/g, '$1'), tags, time: Number(line.slice(lastSpace + 1)) };
}

interface Heartbeat {
  time: number;
  seq: number;
  spool_lines?: number;
  uplink?: string;
  uplink_error?: string;
}

async function heartbeats(store: InfluxStore): Promise<Heartbeat[]> {
  const rows = await store.queryRows(
    `SELECT * FROM "edge_heartbeat" WHERE "container" = '${CONTAINER}' AND "source" = 'miner' AND time > now() - 1h ORDER BY time ASC`,
  );
  return rows as unknown as Heartbeat[];
}

/** Heartbeats split into exporter runs: the sequence number restarts at 1 with each process. */
function exporterRuns(hbs: readonly Heartbeat[]): Heartbeat[][] {
  const runs: Heartbeat[][] = [];
  for (const h of hbs) {
    if (h.seq === 1 || runs.length === 0) runs.push([]);
    (runs[runs.length - 1] as Heartbeat[]).push(h);
  }
  return runs;
}

/**
 * "One `miner` point per miner per sweep": each point belongs to the sweep whose heartbeat (the sweep's start)
 * precedes it; every sweep must hold exactly one point of every miner. A sweep in `mayHoldTwo` may hold two: the
 * window of a run's last heartbeat, where a sweep cut short by a kill left points without its heartbeat; or none:
 * the points of that last sweep still in the killed process's write buffer (its 1 s flush) die with it, as anything
 * in a SIGKILLed process's memory does. What was spooled is checked line by line separately.
 */
async function sweepProblems(store: InfluxStore, sweeps: readonly number[], mayHoldTwo: ReadonlySet<number>): Promise<{ miners: number; problems: string[]; failedScrapes: number }> {
  const rows = await store.queryRows(`SELECT "hashrate_ths", "miner" FROM "miner" WHERE "container" = '${CONTAINER}' AND time > now() - 1h`);
  const byMiner = new Map<string, number[]>();
  for (const r of rows) byMiner.set(String(r.miner), [...(byMiner.get(String(r.miner)) ?? []), r.time]);
  // A scrape that failed (the miner did not answer in time, e.g. while the restarted exporter starts up on a busy
  // machine) leaves no sample but a miner_up point with reachable=0: that sweep delivered what there was.
  const unanswered = await store.queryRows(`SELECT "reachable", "miner" FROM "miner_up" WHERE "container" = '${CONTAINER}' AND "reachable" = 0 AND time > now() - 1h`);
  const sweepOf = (t: number): number | undefined => {
    let sweep: number | undefined;
    for (const h of sweeps) if (h <= t) sweep = h;
    return sweep;
  };
  const failedScrapes = new Set(unanswered.map((r) => `${String(r.miner)}@${sweepOf(r.time)}`));
  const problems: string[] = [];
  let failed = 0;
  for (const [id, pointTimes] of byMiner) {
    const perSweep = new Map<number, number>();
    for (const t of pointTimes) {
      let sweep: number | undefined;
      for (const h of sweeps) if (h <= t) sweep = h;
      if (sweep === undefined) problems.push(`${id}: point at ${new Date(t).toISOString()} before the first sweep`);
      else perSweep.set(sweep, (perSweep.get(sweep) ?? 0) + 1);
    }
    for (const h of sweeps) {
      const n = perSweep.get(h) ?? 0;
      if (n === 0 && failedScrapes.has(`${id}@${h}`)) {
        failed++;
        continue;
      }
      if (n !== 1 && !(mayHoldTwo.has(h) && n <= 2)) problems.push(`${id}: ${n} points in the sweep of ${new Date(h).toISOString()}`);
    }
  }
  return { miners: byMiner.size, problems, failedScrapes: failed };
}

/** The lines that are not at the center: matched on measurement, every tag, and time. */
async function missingAtCenter(store: InfluxStore, lines: readonly string[]): Promise<string[]> {
  const keys = lines.map(pointKey);
  const missing: string[] = [];
  for (const measurement of [...new Set(keys.map((k) => k.measurement))]) {
    const rowsAt = new Map<number, Array<Record<string, unknown>>>();
    for (const r of await store.queryRows(`SELECT * FROM "${measurement}" WHERE time > now() - 1h`)) rowsAt.set(r.time, [...(rowsAt.get(r.time) ?? []), r]);
    for (const k of keys.filter((x) => x.measurement === measurement)) {
      const found = rowsAt.get(k.time)?.some((r) => Object.entries(k.tags).every(([tag, value]) => String(r[tag]) === value));
      if (!found) missing.push(`${measurement} ${JSON.stringify(k.tags)} @${new Date(k.time).toISOString()}`);
    }
  }
  return missing;
}

function mailsMatching(mailbox: Mailbox, status: 'FIRING' | 'RESOLVED', alertname: string): ParsedMail[] {
  return mailbox.mails.filter((m) => (m.subject ?? '').startsWith(`[${status}`) && `${m.subject ?? ''}\n${m.text ?? ''}`.includes(alertname));
}

describe('the uplink over a real impaired link (network namespace, veth, loss, latency, cut)', () => {
  const cleanup = new Cleanup();
  const processes: Watched[] = [];
  let ns: EdgeNamespace;
  let store: InfluxStore;
  let redis: Redis;
  let mailbox: Mailbox;
  /** The simulated container, shared by both tests (the namespace is the same edge). */
  let simulator: { process: Watched; inventory: string } | undefined;
  const ensureSimulator = async (files: EdgeFiles): Promise<string> => {
    if (simulator?.process.running) return simulator.inventory;
    const started = await startSimulator(ns, files, 5);
    processes.push(started);
    simulator = { process: started, inventory: files.inventory };
    return files.inventory;
  };

  const describeAll = (): string => processes.map((p) => p.tail()).join('\n');

  beforeAll(async () => {
    ns = await EdgeNamespace.create();
    cleanup.add(() => ns.teardown());
    redis = new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
    cleanup.add(() => redis.disconnect());
    await redis.flushdb();
    mailbox = await startMailbox();
    cleanup.add(() => mailbox.close());
  });

  afterAll(async () => {
    for (const p of processes) await p.stop('SIGKILL');
    await cleanup.run();
  });

  test('cut, SIGKILL and restart mid-outage: every sample arrives once with its own time, ContainerSilent pages and resolves', async () => {
    const influxUrl = process.env.FLYMINING_TEST_INFLUX_URL as string;
    const influxPort = Number(new URL(influxUrl).port);
    const database = `uplink_link_${process.pid}`;
    const files = edgeFiles('link');
    cleanup.add(() => rmSync(files.dir, { recursive: true, force: true }));
    store = new InfluxStore({ url: influxUrl, database, spool: { dir: path.join(files.dir, 'center-spool') } }, { spool: false });
    cleanup.add(() => store.close());
    await store.query(`DROP DATABASE "${database}"`).catch(() => undefined);
    await ensureDatabase(store, schemaRetention(database));
    cleanup.add(() => store.query(`DROP DATABASE "${database}"`));

    // The LTE link: latency and jitter by our proxy on the veth's center end, loss by iptables in the namespace.
    const link = await LinkProxy.start({
      listenHost: ns.centerAddress,
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: influxPort,
      up: { delayMs: 300, jitterMs: 100 },
      down: { delayMs: 300, jitterMs: 100 },
      seed: 9,
    });
    cleanup.add(() => link.close());
    const loss: LossRule = await ns.addLoss(0.05);
    cleanup.add(() => loss.remove());

    await ensureSimulator(files);
    const alertingPort = await freePort();
    const configFile = path.join(files.dir, 'alerting.yaml');
    writeFileSync(
      configFile,
      centerAlertingConfig({
        redisUrl: redisUrl(),
        keyPrefix: 'flymining:alerting:uplinklink',
        listen: `127.0.0.1:${alertingPort}`,
        influxUrl,
        database,
        smtp: mailbox.url,
        silentAfterIntervals: SILENT_AFTER_INTERVALS,
        groupWaitMs: GROUP_WAIT_MS,
        evaluationMs: EVALUATION_MS,
        rules: [{ name: 'PoolsDead', faults: ['POOLS_DEAD'] }],
      }),
    );
    const alerting = new Watched('alerting', spawn(process.execPath, ['-r', 'tsx/cjs', 'alerting/src/main.ts', '--config', configFile], {
      cwd: ROOT,
      env: { ...process.env, FLYMINING_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    processes.push(alerting);
    cleanup.add(() => alerting.stop('SIGTERM', 10_000));

    const setup: ExporterSetup = { influxUrl: `http://${ns.centerAddress}:${link.address().port}`, database };
    let exporter = startExporter(ns, files, setup, 'first');
    processes.push(exporter);

    // Steady state: the center is current (a heartbeat seen in InfluxDB and the edge known in Redis, reporting).
    const statusKey = edgeStatusKey(SITE, CONTAINER, 'miner');
    const edgeStatus = async (): Promise<EdgeStatus | undefined> => {
      const raw = await redis.hget(REDIS_KEYS.edges, statusKey);
      return raw ? (JSON.parse(raw) as EdgeStatus) : undefined;
    };
    await waitFor('heartbeats at the center and the edge reporting in Redis', async () => {
      const status = await edgeStatus();
      return status !== undefined && status.silentSinceMs === undefined && (await heartbeats(store)).length >= 3;
    }, 90_000, describeAll);

    // A fault known at the center before the cut: while the container is silent it is kept but marked stale.
    const control = `http://127.0.0.1:${CONTROL_PORT}`;
    const miners = JSON.parse((await ns.http('GET', `${control}/miners`)).body) as { miners: Array<{ id: string }> };
    const faultyBefore = miners.miners[5]?.id as string;
    const faulty = miners.miners[3]?.id as string;
    expect(await ns.http('POST', `${control}/miners/${faultyBefore}/faults`, { fault: 'poolsDead' })).toMatchObject({ status: 200 });
    const activeFaultOf = async (minerId: string): Promise<Fault | undefined> => {
      const all = await redis.hvals(REDIS_KEYS.activeFaults);
      return all.map((v) => JSON.parse(v) as Fault).find((f) => f.minerId === minerId);
    };
    await waitFor('the pre-cut fault at the center', async () => (await activeFaultOf(faultyBefore))?.stale === undefined && (await activeFaultOf(faultyBefore)), 60_000, describeAll);
    await sleep(2 * INTERVAL_MS);

    // The cut: the veth goes down (carrier lost on both ends) for ~20 sweeps.
    const cutAt = Date.now();
    await ns.setLink('down');
    const silentMail = await waitFor(
      'the ContainerSilent mail after the cut',
      () => mailsMatching(mailbox, 'FIRING', 'ContainerSilent')[0],
      60_000,
      () => `mails: ${mailbox.mails.map((m) => m.subject).join(' | ')}\n${describeAll()}`,
    );
    const silentAfterMs = Date.now() - cutAt;
    expect(silentMail.subject).toContain(CONTAINER);
    // Judged on the center's receive time: 3 intervals of silence, then group_wait; plus two evaluation cycles and
    // the SMTP hop as slack for a loaded machine.
    expect(silentAfterMs).toBeLessThanOrEqual(SILENT_AFTER_INTERVALS * INTERVAL_MS + GROUP_WAIT_MS + 2 * EVALUATION_MS + 2000);
    expect((await edgeStatus())?.silentSinceMs).toBeDefined();
    const staleDuringSilence = await waitFor('the pre-cut fault marked stale', async () => {
      const f = await activeFaultOf(faultyBefore);
      return f?.stale ? f : undefined;
    }, 10_000, describeAll);
    expect(staleDuringSilence.stale?.sinceMs).toBeGreaterThanOrEqual(cutAt);

    // A fault comes up at the edge during the outage (the center cannot know yet).
    const injected = await ns.http('POST', `${control}/miners/${faulty}/faults`, { fault: 'poolsDead' });
    expect(injected).toMatchObject({ status: 200 });
    const faultAt = Date.now();

    // SIGKILL mid-outage, once the spool holds what the exporter wrote since the cut.
    await waitFor('the exporter to spool during the outage', () => spooledLines(files.spoolDir).length > MINERS * 5, 30_000, describeAll);
    await sleep(3 * INTERVAL_MS);
    expect(await exporter.stop('SIGKILL')).toBe('SIGKILL');
    const killAt = Date.now();
    const spooledAtKill = spooledLines(files.spoolDir);
    exporter = startExporter(ns, files, setup, 'restarted');
    processes.push(exporter);
    // Its first sweeps happen while the link is still down (they must be spooled and backfilled too).
    await waitFor('the restarted exporter\'s first sweep', async () => {
      const metrics = await ns.http('GET', 'http://127.0.0.1:9410/metrics').catch(() => ({ status: 0, body: '' }));
      return Number(/^flymining_edge_heartbeats_total (\d+)/m.exec(metrics.body)?.[1] ?? 0) >= 1;
    }, 60_000, describeAll);

    const restoreAt = Math.max(Date.now(), cutAt + OUTAGE_SWEEPS * INTERVAL_MS);
    await sleep(restoreAt - Date.now());
    await ns.setLink('up');

    // Backfill: the center becomes current again, and the page resolves.
    await waitFor('a resolved ContainerSilent mail after the restore', () => mailsMatching(mailbox, 'RESOLVED', 'ContainerSilent')[0], 90_000, () => `mails: ${mailbox.mails.map((m) => m.subject).join(' | ')}\n${describeAll()}`);
    // The fault raised during the outage reaches Redis from the first complete snapshot after the restore.
    const activeFault = (): Promise<Fault | undefined> => activeFaultOf(faulty);
    const seen = await waitFor('the outage-time fault in the center\'s active faults', activeFault, 60_000, describeAll);
    expect(seen.since).toBeGreaterThanOrEqual(faultAt - 2 * INTERVAL_MS);
    expect(seen.since).toBeLessThan(restoreAt);
    expect(seen.stale).toBeUndefined();
    // The fault from before the cut is confirmed by the fresh snapshot: current again, with its original since.
    const confirmed = await waitFor('the pre-cut fault to be current again', async () => {
      const f = await activeFaultOf(faultyBefore);
      return f && f.stale === undefined ? f : undefined;
    }, 30_000, describeAll);
    expect(confirmed.since).toBe(staleDuringSilence.since);

    const cleared = await ns.http('DELETE', `${control}/miners/${faulty}/faults`);
    expect(cleared).toMatchObject({ status: 200 });
    const clearAt = Date.now();
    await waitFor('the cleared fault to leave the center\'s active faults', async () => (await activeFault()) === undefined, 60_000, describeAll);
    await waitFor('the spool to drain and the newest heartbeat to be current', async () => {
      const hb = await heartbeats(store);
      const last = hb[hb.length - 1];
      return spooledLines(files.spoolDir).length === 0 && last !== undefined && last.time > clearAt && last.spool_lines === 0;
    }, 90_000, describeAll);

    // A graceful stop flushes what the exporter holds; the last sweeps then arrive too.
    await exporter.stop('SIGTERM', 30_000);

    // --- What arrived ---------------------------------------------------------------------------------------
    const hbs = await heartbeats(store);
    const times = hbs.map((h) => h.time);
    // Sweeps went on through the outage and were backfilled: two runs of the exporter (seq restarts at 1), each with
    // every sequence number from 1 on, no gap: not one heartbeat lost, not even the ones spooled by the killed run.
    const runs = exporterRuns(hbs);
    expect(runs.map((r) => r.map((h) => h.seq))).toEqual(runs.map((r) => r.map((_, i) => i + 1)));
    expect(runs).toHaveLength(2);
    const [first, second] = runs as [Heartbeat[], Heartbeat[]];
    expect(first[0]?.time).toBeLessThan(cutAt);
    const lastBeforeKill = (first[first.length - 1] as Heartbeat).time;
    expect(lastBeforeKill).toBeGreaterThan(cutAt);
    expect(lastBeforeKill).toBeLessThan(killAt);
    expect(second[0]?.time).toBeGreaterThan(killAt);
    expect(second[0]?.time).toBeLessThan(restoreAt);
    expect(second[second.length - 1]?.time).toBeGreaterThan(restoreAt);
    const duringOutage = times.filter((t) => t > cutAt && t < restoreAt).length;

    // Every miner: exactly one `miner` point per sweep, at the time it was scraped (after its sweep's start, before
    // the next), no extras. The sweep cut short by the SIGKILL may have left points without its heartbeat: they fall
    // in the window of the last heartbeat before the kill, which alone may hold two.
    const { miners: minersSeen, problems, failedScrapes } = await sweepProblems(store, times, new Set([lastBeforeKill]));
    expect(minersSeen).toBe(MINERS);
    expect(problems.slice(0, 20)).toEqual([]);
    // Miners that did not answer in a sweep are the exception, not the rule.
    expect(failedScrapes).toBeLessThan((times.length * MINERS) / 20);

    // The SIGKILL lost nothing spooled: every line in the spool at the kill is at the center.
    expect(spooledAtKill.length).toBeGreaterThan(0);
    const missing = await missingAtCenter(store, spooledAtKill);
    expect(missing.slice(0, 20)).toEqual([]);

    // Fault transitions arrive in order, with the edge's times: raised during the outage, cleared after the clear.
    const transitions = await store.queryRows(`SELECT "active", "code" FROM "fault" WHERE "miner" = '${faulty}' AND time > now() - 1h ORDER BY time ASC`);
    const codes = [...new Set(transitions.map((t) => String(t.code)))];
    expect(codes).toContain(seen.code);
    for (const code of codes) {
      // Per code: raised, cleared, (raised, cleared ...): never raised twice in a row (a restart must not re-raise).
      const ofCode = transitions.filter((t) => t.code === code).map((t) => ({ at: new Date(t.time).toISOString(), active: Number(t.active) }));
      const expected = ofCode.map((_, i) => ({ at: ofCode[i]?.at, active: i % 2 === 0 ? 1 : 0 }));
      expect({ code, transitions: ofCode }).toEqual({ code, transitions: expected });
      expect(ofCode.length % 2).toBe(0);
    }
    const ofSeen = transitions.filter((t) => t.code === seen.code);
    expect((ofSeen[0] as { time: number }).time).toBeGreaterThan(cutAt);
    expect((ofSeen[0] as { time: number }).time).toBeLessThan(restoreAt);
    expect((ofSeen[ofSeen.length - 1] as { time: number }).time).toBeGreaterThanOrEqual(clearAt - INTERVAL_MS);

    // The link really was impaired: packets were dropped and every byte went through the delaying proxy.
    expect(await ns.droppedPackets()).toBeGreaterThan(0);
    expect(link.stats().bytesUp).toBeGreaterThan(0);
    if (process.env.FLYMINING_UPLINK_FIGURES) {
      process.stderr.write(`uplink-link figures: ${JSON.stringify({ silentAfterMs, heartbeats: times.length, duringOutage, spooledAtKill: spooledAtKill.length, runs: runs.map((r) => r.length), droppedPackets: await ns.droppedPackets(), link: link.stats() })}\n`);
    }
    const finalStatus = await edgeStatus();
    expect(finalStatus?.silentSinceMs).toBeUndefined();
    expect(finalStatus?.last.time).toBeGreaterThan(restoreAt);
  });

  test('wrong credentials, then a wrong CA: one clear error naming the host, spooling meanwhile; fixed settings deliver everything once', async () => {
    const files = edgeFiles('tls');
    cleanup.add(() => rmSync(files.dir, { recursive: true, force: true }));
    const certs = makeTestCertificates(path.join(files.dir, 'certs'));
    const influx = await InfluxTestServer.create({ auth: true, tls: { certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile } });
    cleanup.add(() => influx.destroy());
    await influx.start();
    const admin = { username: 'admin', password: `admin-${process.pid}-secret` };
    await influx.createAdmin(admin);
    const database = 'uplink_tls';
    await influx.query(`CREATE DATABASE "${database}"`);
    await influx.query(`CREATE RETENTION POLICY "raw" ON "${database}" DURATION 40d REPLICATION 1 DEFAULT`);
    const writer = { username: `edge_${CONTAINER.toLowerCase()}`, password: `writer-${process.pid}-secret` };
    await influx.createWriter(writer, database);
    const goodPassword = path.join(files.dir, 'password');
    const badPassword = path.join(files.dir, 'wrong-password');
    writeFileSync(goodPassword, writer.password, { mode: 0o600 });
    writeFileSync(badPassword, 'not-the-password', { mode: 0o600 });

    // Center end of the veth → InfluxDB's HTTPS port; inside the namespace the edge reaches it as 127.0.0.1 (the
    // name its certificate carries) through a forwarder process there.
    const link = await LinkProxy.start({ listenHost: ns.centerAddress, listenPort: 0, targetHost: '127.0.0.1', targetPort: influx.httpPort, up: { delayMs: 50 }, down: { delayMs: 50 } });
    cleanup.add(() => link.close());
    const localPort = 18086;
    const forwarder = new Watched('in-namespace forwarder', ns.spawn(process.execPath, ['-r', 'tsx/cjs', 'simulator/src/link-proxy.ts', '--listen', `127.0.0.1:${localPort}`, '--target', `${ns.centerAddress}:${link.address().port}`], { cwd: ROOT }));
    processes.push(forwarder);
    await waitFor('the forwarder inside the namespace', () => forwarder.output.includes('listening'), 30_000, () => forwarder.tail());
    const edge: EdgeFiles = { ...files, inventory: await ensureSimulator(files) };
    const url = `https://127.0.0.1:${localPort}`;
    const queryStore = new InfluxStore({ url: influx.url, database, username: admin.username, password: admin.password, ca: readFileSync(certs.caFile, 'utf8'), spool: { dir: path.join(files.dir, 'center-spool') } }, { spool: false });
    cleanup.add(() => queryStore.close());
    const heartbeatCount = async (): Promise<number> => {
      const [row] = await queryStore.queryRows(`SELECT count("seq") AS n FROM "edge_heartbeat"`);
      return typeof row?.n === 'number' ? row.n : 0;
    };
    /** Error-level log lines (pino level 50) matching `pattern`: the one clear message the brief asks for. */
    const errorLines = (w: Watched, pattern: RegExp): string[] => w.output.split('\n').filter((l) => /"level":50/.test(l) && pattern.test(l));

    // 1. Wrong password: InfluxDB answers 401.
    let exporter = startExporter(ns, edge, { influxUrl: url, database, username: writer.username, passwordFile: badPassword, caFile: certs.caFile }, 'wrong password');
    processes.push(exporter);
    await waitFor('a clear error about the refused credentials', () => /401|unauthori[sz]ed|credentials|authentication/i.test(exporter.output) && exporter.output, 60_000, () => exporter.tail());
    await waitFor('sweeps spooled while refused', () => spooledLines(edge.spoolDir).length > MINERS * 3, 30_000, () => exporter.tail());
    const authErrors = errorLines(exporter, /401|unauthori[sz]ed|authentication|credentials/i);
    expect(authErrors.length).toBe(1);
    expect(authErrors[0]).toContain(`127.0.0.1:${localPort}`);
    expect(exporter.output).not.toContain(writer.password);
    expect(exporter.output).not.toContain('not-the-password');
    expect(await heartbeatCount()).toBe(0);
    await exporter.stop();

    // 2. Right password, wrong CA: TLS verification fails; the spool keeps growing.
    const spooledAfterAuth = spooledLines(edge.spoolDir).length;
    exporter = startExporter(ns, edge, { influxUrl: url, database, username: writer.username, passwordFile: goodPassword, caFile: certs.otherCaFile }, 'wrong CA');
    processes.push(exporter);
    await waitFor('a clear error about the certificate', () => /certificate|self.signed|UNABLE_TO_VERIFY|unable to verify|TLS/i.test(exporter.output) && exporter.output, 60_000, () => exporter.tail());
    await waitFor('sweeps spooled while the certificate is refused', () => spooledLines(edge.spoolDir).length > spooledAfterAuth + MINERS * 3, 30_000, () => exporter.tail());
    const tlsErrors = errorLines(exporter, /certificate|UNABLE_TO_VERIFY|unable to verify/i);
    expect(tlsErrors.length).toBe(1);
    expect(tlsErrors[0]).toContain(`127.0.0.1:${localPort}`);
    expect(await heartbeatCount()).toBe(0);
    await exporter.stop();
    const spooledBeforeFix = spooledLines(edge.spoolDir);
    if (process.env.FLYMINING_UPLINK_FIGURES) process.stderr.write(`uplink-link errors:\n${authErrors[0]}\n${tlsErrors[0]}\nspooled before the fix: ${spooledBeforeFix.length}\n`);

    // 3. Right settings: the spool drains, every spooled point arrives, and the new run's sweeps too.
    exporter = startExporter(ns, edge, { influxUrl: url, database, username: writer.username, passwordFile: goodPassword, caFile: certs.caFile }, 'fixed');
    processes.push(exporter);
    await waitFor('the spool to drain with the right settings, and three live sweeps', async () => {
      if (spooledLines(edge.spoolDir).length > 0) return false;
      return (exporterRuns(await heartbeats(queryStore))[2]?.length ?? 0) >= 3;
    }, 90_000, () => exporter.tail());
    await exporter.stop();
    expect(await missingAtCenter(queryStore, spooledBeforeFix)).toEqual([]);
    // Exactly once: three runs, each with every sequence number once; one point per miner per sweep.
    const hbs = await heartbeats(queryStore);
    const runs = exporterRuns(hbs);
    expect(runs.map((r) => r.map((h) => h.seq))).toEqual(runs.map((r) => r.map((_, i) => i + 1)));
    expect(runs).toHaveLength(3);
    const runEnds = new Set(runs.slice(0, -1).map((r) => (r[r.length - 1] as Heartbeat).time));
    const { miners: minersSeen, problems } = await sweepProblems(queryStore, hbs.map((h) => h.time), runEnds);
    expect(minersSeen).toBe(MINERS);
    expect(problems.slice(0, 20)).toEqual([]);
  });
});
