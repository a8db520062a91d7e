/**
 * Uplink benchmark: a 300-miner container's edge loses its uplink for 20 sweeps (a ten-minute outage at the
 * production interval of 30 s), then gets it back. Measured, in one run on one machine:
 *  - cut → ContainerSilent mail (the alerting service's relay, as a real process, mailing a local SMTP server);
 *  - spool bytes per miner-hour on disk (what the outage left in the exporter's spool, scaled to 30 s sweeps);
 *  - end of the outage → center current (newest heartbeat visible in InfluxDB and the spool empty);
 *  - replay points/s, as a ratio to a raw POST of the same lines (read from the spool before the restore) into
 *    another database of the same InfluxDB, in the same run.
 * The edge is the real miner exporter process against the real simulator; its uplink is our LinkProxy, cut with
 * 'refuse' (no latency: the replay is compared with a raw POST on the same loopback). The exporter sweeps every
 * --interval seconds (default 2) so the 20 sweeps take 40 s, not 10 minutes: the spool holds the same points
 * (only their timestamps are closer together), and the silence figures are also given in intervals.
 *
 * Run: npx tsx bench/uplink.ts [miners=300] [sweeps=20] [intervalS=2]
 * Uses Redis database 14 of FLYMINING_BENCH_REDIS_URL (default redis://127.0.0.1:6379), flushed at start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rawHttpPost } from './raw-post';
import Redis from 'ioredis';
import { freePort } from '../scripts/jest/influx-server';
import { runBench, type ChildProcesses } from './lib/children';
import { InfluxStore, REDIS_KEYS, edgeStatusKey, ensureDatabase, schemaRetention, type EdgeStatus } from '../shared/src';
import { LinkProxy } from '../simulator/src/link-proxy';
import { startMailbox, type Mailbox } from '../alerting/test/helpers';
import { centerAlertingConfig } from '../shared/test/ops/netns';

const MINERS = Number(process.argv[2] ?? 300);
const SWEEPS = Number(process.argv[3] ?? 20);
const INTERVAL_S = Number(process.argv[4] ?? 2);
const PRODUCTION_INTERVAL_S = 30;
const SILENT_AFTER_INTERVALS = 3;
const GROUP_WAIT_MS = 1000;
const EVALUATION_MS = 1000;
const RAW_BATCH = 5_000;
const ROOT = path.resolve(__dirname, '..');
const REDIS_URL = `${(process.env.FLYMINING_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/14`;
const SITE = 'SIM';
const CONTAINER = 'C01';
const DATABASE = 'bench_uplink';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A child process whose output tail is kept for the error message when it dies. */
function launch(name: string, args: string[], env: NodeJS.ProcessEnv, children: Map<string, ChildProcess>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  children.set(name, child);
  return { child, output: () => output };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Complete lines of the spool's segment files, and their size and allocated blocks on disk. */
function readSpool(dir: string): { lines: string[]; bytes: number; allocatedBytes: number } {
  const lines: string[] = [];
  let bytes = 0;
  let allocatedBytes = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => /^\d{16}\.lp$/.test(n)).sort();
  } catch {
    /* no spool yet */
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const st = statSync(file);
    bytes += st.size;
    allocatedBytes += st.blocks * 512;
    const text = readFileSync(file, 'utf8');
    lines.push(...text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l.length > 0));
  }
  return { lines, bytes, allocatedBytes };
}

async function heartbeatCounter(metricsUrl: string): Promise<number> {
  const text = await fetch(metricsUrl).then((r) => r.text(), () => '');
  return Number(/^flymining_edge_heartbeats_total (\d+)/m.exec(text)?.[1] ?? 0);
}

async function main(owned: ChildProcesses): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'flymining-bench-uplink-'));
  const children = new Map<string, ChildProcess>();
  const closers: Array<() => Promise<unknown> | unknown> = [];
  const stopAll = async (): Promise<void> => {
    for (const child of children.values()) await stopChild(child);
    for (const close of closers.splice(0).reverse()) await Promise.resolve().then(close).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  };
  // Ctrl-C mid-run still stops the servers and processes started here.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().then(() => process.exit(130)));
  try {
    // Owned by the bench's children: stopped on every way out (a signal, a crash) as well as at the end.
    const influx = await owned.influx();
    const center = new InfluxStore({ url: influx.url, database: DATABASE, spool: { dir: path.join(work, 'center-spool') } }, { spool: false });
    closers.push(() => center.close());
    await ensureDatabase(center, schemaRetention(DATABASE));
    await ensureDatabase(center, schemaRetention('bench_uplink_raw'));
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    closers.push(() => redis.disconnect());
    await redis.flushdb();
    const mailbox: Mailbox = await startMailbox();
    closers.push(() => mailbox.close());
    const link = await LinkProxy.start({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: influx.httpPort });
    closers.push(() => link.close());

    const inventory = path.join(work, 'farm.yaml');
    const controlPort = await freePort();
    const racks = Math.ceil(MINERS / 20);
    const sim = launch('simulator', ['simulator/src/main.ts', '--miners', String(MINERS), '--containers', '1', '--racks-per-container', String(racks), '--control-port', String(controlPort), '--inventory-out', inventory, '--base-address', '127.61.0.1', '--seed', '3', '--cgminer-only'], process.env, children);
    await waitFor('the simulator', async () => {
      if (sim.child.exitCode !== null) throw new Error(`simulator exited: ${sim.output()}`);
      return (await fetch(`http://127.0.0.1:${controlPort}/miners`).then((r) => r.ok, () => false)) || undefined;
    }, 60_000);

    const alertingListen = `127.0.0.1:${await freePort()}`;
    const configFile = path.join(work, 'alerting.yaml');
    writeFileSync(
      configFile,
      centerAlertingConfig({
        redisUrl: REDIS_URL,
        keyPrefix: 'flymining:alerting:benchuplink',
        listen: alertingListen,
        influxUrl: influx.url,
        database: DATABASE,
        smtp: mailbox.url,
        silentAfterIntervals: SILENT_AFTER_INTERVALS,
        groupWaitMs: GROUP_WAIT_MS,
        evaluationMs: EVALUATION_MS,
      }),
    );
    const alerting = launch('alerting', ['alerting/src/main.ts', '--config', configFile], process.env, children);

    const spoolDir = path.join(work, 'spool');
    const metricsPort = await freePort();
    const exporter = launch(
      'exporter',
      ['exporters/src/main.ts', '--inventory', inventory, '--name', `edge-${CONTAINER}`, '--containers', CONTAINER, '--interval', String(INTERVAL_S),
        '--state-dir', path.join(work, 'state'), '--listen', `127.0.0.1:${metricsPort}`],
      { ...process.env, FLYMINING_LOG_LEVEL: 'error', FLYMINING_INFLUX_URL: `http://127.0.0.1:${link.address().port}`, FLYMINING_INFLUX_DB: DATABASE, FLYMINING_INFLUX_SPOOL_DIR: spoolDir },
      children,
    );
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;

    const statusKey = edgeStatusKey(SITE, CONTAINER, 'miner');
    const edgeStatus = async (): Promise<EdgeStatus | undefined> => {
      const raw = await redis.hget(REDIS_KEYS.edges, statusKey);
      return raw ? (JSON.parse(raw) as EdgeStatus) : undefined;
    };
    await waitFor('the edge reporting at the center', async () => {
      for (const [name, p] of [['exporter', exporter], ['alerting', alerting]] as const) {
        if (p.child.exitCode !== null) throw new Error(`${name} exited: ${p.output()}`);
      }
      const s = await edgeStatus();
      return s !== undefined && s.silentSinceMs === undefined && (await heartbeatCounter(metricsUrl)) >= 2;
    }, 120_000);

    // The outage.
    const cutAt = Date.now();
    await link.cut('refuse');
    const silentMail = await waitFor('the ContainerSilent mail', () => mailbox.mails.find((m) => (m.subject ?? '').startsWith('[FIRING') && (m.subject ?? '').includes('ContainerSilent')), 120_000);
    const cutToMailMs = Date.now() - cutAt;
    // The outage's sweeps in the spool (the store retries a batch before spooling it): counted by their heartbeats.
    const heartbeatLines = (lines: string[]): number => lines.filter((l) => l.startsWith('edge_heartbeat,')).length;
    const spool = await waitFor(
      `${SWEEPS} sweeps in the spool`,
      () => {
        const now = readSpool(spoolDir);
        return heartbeatLines(now.lines) >= SWEEPS ? now : undefined;
      },
      SWEEPS * INTERVAL_S * 1000 * 3 + 60_000,
    );
    const sweepsSpooled = heartbeatLines(spool.lines);

    // The replay starts with the exporter's next probe (its back-off grows during an outage): the first byte
    // through the link after the restore marks it, the spool's emptying its end.
    const bytesAtRestore = link.stats().bytesUp;
    const restoreAt = Date.now();
    await link.restore();
    let firstByteAt: number | undefined;
    let spoolEmptyAt: number | undefined;
    let resolvedAt: number | undefined;
    const resolvedMail = (): boolean => mailbox.mails.some((m) => (m.subject ?? '').startsWith('[RESOLVED') && (m.subject ?? '').includes('ContainerSilent'));
    const current = await waitFor('the center to be current', async () => {
      const now = Date.now();
      if (resolvedAt === undefined && resolvedMail()) resolvedAt = now;
      if (firstByteAt === undefined && link.stats().bytesUp > bytesAtRestore) firstByteAt = now;
      if (readSpool(spoolDir).lines.length > 0) return undefined;
      spoolEmptyAt ??= now;
      const [row] = await center.queryRows(`SELECT last("seq") AS seq FROM "edge_heartbeat" WHERE "container" = '${CONTAINER}' AND "source" = 'miner'`);
      return row && row.time > restoreAt ? Date.now() : undefined;
    }, 600_000);
    const restoreToCurrentMs = current - restoreAt;
    const replayMs = (spoolEmptyAt ?? current) - (firstByteAt ?? restoreAt);
    resolvedAt ??= await waitFor('the resolved ContainerSilent mail', () => resolvedMail() && Date.now(), 120_000);
    const restoreToResolvedMs = resolvedAt - restoreAt;

    // Baseline in the same run: the spooled lines POSTed raw into another database.
    // Through the same link (the replay's path) and straight to InfluxDB (what the link itself costs).
    const rawViaLinkMs = await rawHttpPost(`http://127.0.0.1:${link.address().port}`, 'bench_uplink_raw', spool.lines, RAW_BATCH);
    const rawMs = await rawHttpPost(influx.url, 'bench_uplink_raw', spool.lines.map((l) => l.replace(/ (\d+)$/, (_, t: string) => ` ${Number(t) + 1}`)), RAW_BATCH);
    const replayPointsPerSec = Math.round((spool.lines.length / Math.max(1, replayMs)) * 1000);
    const rawPointsPerSec = Math.round((spool.lines.length / rawViaLinkMs) * 1000);
    const minerHoursAtProduction = (MINERS * sweepsSpooled * PRODUCTION_INTERVAL_S) / 3600;
    const status = await edgeStatus();
    const result = {
      benchmark: 'uplink',
      miners: MINERS,
      outageSweeps: sweepsSpooled,
      intervalS: INTERVAL_S,
      cutToContainerSilentMailMs: cutToMailMs,
      cutToContainerSilentMailIntervals: +(cutToMailMs / (INTERVAL_S * 1000)).toFixed(2),
      silentBudgetMs: SILENT_AFTER_INTERVALS * INTERVAL_S * 1000 + GROUP_WAIT_MS,
      silentMailSubject: silentMail.subject,
      spool: {
        lines: spool.lines.length,
        bytes: spool.bytes,
        allocatedBytes: spool.allocatedBytes,
        bytesPerMinerSweep: Math.round(spool.bytes / (MINERS * sweepsSpooled)),
        bytesPerMinerHourAt30s: Math.round(spool.bytes / minerHoursAtProduction),
        allocatedBytesPerMinerHourAt30s: Math.round(spool.allocatedBytes / minerHoursAtProduction),
      },
      restoreToFirstByteMs: (firstByteAt ?? restoreAt) - restoreAt,
      replayMs,
      restoreToCurrentMs,
      restoreToResolvedMailMs: restoreToResolvedMs,
      replayPointsPerSec,
      baseline: {
        what: `raw POST of the same ${spool.lines.length} lines, ${RAW_BATCH}-line batches, keep-alive node:http, through the same link`,
        rawMs: Math.round(rawViaLinkMs),
        rawPointsPerSec,
        directToInfluxMs: Math.round(rawMs),
      },
      replayVsRaw: +(replayPointsPerSec / rawPointsPerSec).toFixed(3),
      goals: {
        silentMailWithinBudget: cutToMailMs <= SILENT_AFTER_INTERVALS * INTERVAL_S * 1000 + GROUP_WAIT_MS + EVALUATION_MS,
        replayAtLeastHalfOfRaw: replayPointsPerSec >= rawPointsPerSec / 2,
      },
      centerLastOutage: status?.lastOutage,
      link: link.stats(),
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    await stopAll();
  }
}

runBench(main);
