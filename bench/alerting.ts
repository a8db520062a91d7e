/**
 * Alerting benchmark: 50,000 active alerts across 5,000 miners (10 faults each) in real Redis.
 * Measures the evaluation cycle (read faults and alerts, lifecycle, inhibit, silence, group, dedup, write back) in
 * the service as its start command runs it (package.json's `alerting` script, a process of its own: its RSS and
 * peak RSS from /proc, its cycle times from its own log lines), and notices/s through the dispatcher (claim, send to a counting notifier, notification log), each against a
 * bare loop over the same alerts doing only the same Redis round trips; then the steady cycle with 1,000 silences
 * in place (half regex + equality, half equality only; none matching, so every alert is checked against each) as
 * a ratio to the steady cycle with none, same run. Prints JSON.
 * Run: npx tsx bench/alerting.ts [miners] [faultsPerMiner] [silences]   (uses Redis database 15 on FLYMINING_BENCH_REDIS_URL;
 *   FLYMINING_BENCH_ALERTING_COMMAND replaces the start command, e.g. to try node flags)
 */
import { REDIS_KEYS, createLogger, type Fault, type FaultCode } from '../shared/src';
import Redis from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseConfig } from '../alerting/src/config';
import type { Notifier } from '../alerting/src/notify/notice';
import { AlertingService } from '../alerting/src/service';

const MINERS = Number(process.argv[2] ?? 5000);
const PER_MINER = Number(process.argv[3] ?? 10);
const SILENCES = Number(process.argv[4] ?? 1000);
const REDIS_URL = process.env.FLYMINING_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const CODES: FaultCode[] = ['FAN_STOPPED', 'FAN_MISSING', 'CHIPS_DEAD', 'BOARD_MISSING', 'BOARD_OVERHEAT', 'CHIP_OVERHEAT', 'TEMP_SENSOR_FAULT', 'HASHRATE_LOW', 'POOLS_DEAD', 'MINER_NOT_HASHING'];

function faults(): Fault[] {
  const out: Fault[] = [];
  for (let m = 0; m < MINERS; m++) {
    const container = `C${String(Math.floor(m / 250)).padStart(2, '0')}`;
    const location = { site: 'bench', container, rack: `R${Math.floor((m % 250) / 25)}`, shelf: `S${Math.floor((m % 25) / 5)}`, slot: String(m % 5) };
    for (let k = 0; k < PER_MINER; k++) {
      const code = CODES[k % CODES.length]!;
      out.push({ code, severity: 'critical', minerId: `${container}-${m}`, location, part: `part ${Math.floor(k / CODES.length)}`, message: `${code} on ${m}`, since: Date.now() - 60_000 });
    }
  }
  return out;
}

const yaml = (groupBy: string, extra = '', webhookUrl = 'http://127.0.0.1:9/unused') => `
redis: ${REDIS_URL}${extra}
resolved_retention: 1h
rules:
  - { name: Hardware, faults: [${CODES.join(', ')}] }
inhibit_rules:
  - { source_matchers: ['alertname="ContainerDown"'], target_matchers: ['alertname="Hardware"'], equal: [container] }
route: { receiver: oncall, group_by: ${groupBy}, group_wait: 0s, group_interval: 1m, repeat_interval: 4h }
receivers:
  - { name: oncall, slack: { webhook_url: '${webhookUrl}' } }
maintenance_windows:
  - { name: never, matchers: ['container="none"'], schedule: { days: [sun], start: '02:00', end: '03:00' } }
`;

const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return Math.round((used.user + used.system) / 1000);
};

/**
 * Seeds the active faults and times the baseline. Its data is dropped on return, so the RSS reported below is
 * the service's (plus the keys kept for the notice baseline), not the bench's copies of 50,000 faults.
 */
async function seedAndBaseline(redis: Redis): Promise<{ keys: string[]; baselineFirstMs: number; baselineFirstCpuMs: number; baselineSteadyMs: number }> {
  const all = faults();
  for (let i = 0; i < all.length; i += 5000) {
    const args: string[] = [];
    for (const f of all.slice(i, i + 5000)) args.push(`${f.minerId}|${f.code}|${f.part}`, JSON.stringify(f));
    await redis.hset(REDIS_KEYS.activeFaults, ...args);
  }

  // Baseline 1: the cycle's Redis round trips alone (read the faults and the alerts, write every alert once).
  const cpu0 = process.cpuUsage();
  const b0 = performance.now();
  const rawFaults = await redis.hgetall(REDIS_KEYS.activeFaults);
  await redis.hgetall('bench:baseline:alerts');
  const writes: string[] = [];
  for (const [k, v] of Object.entries(rawFaults)) writes.push(k, v);
  for (let i = 0; i < writes.length; i += 2000) await redis.hset('bench:baseline:alerts', ...writes.slice(i, i + 2000));
  const baselineFirstMs = ms(b0);
  const baselineFirstCpuMs = cpuMs(cpu0);
  const b1 = performance.now();
  await redis.hgetall(REDIS_KEYS.activeFaults);
  await redis.hgetall('bench:baseline:alerts');
  const baselineSteadyMs = ms(b1);
  await redis.del('bench:baseline:alerts');
  return { keys: Object.keys(rawFaults), baselineFirstMs, baselineFirstCpuMs, baselineSteadyMs };
}

const ROOT = join(__dirname, '..');

/** What the service logs after each evaluation (see AlertingService.cycle). */
interface CycleTiming {
  alerts: number;
  written: number;
  ms: number;
  cpuMs: number;
}

interface ServiceProcessFigures {
  startCommand: string;
  first: CycleTiming;
  steady: CycleTiming[];
  /** The service process (the node that runs main.ts), from /proc/<pid>/status. */
  rssAfterFirstMB: number;
  rssAfterSteadyMB: number;
  peakRssMB: number;
  /** The other processes of the start command (sh, the tsx CLI above the service, esbuild below it). */
  launcherRssMB: number;
}

/** VmRSS and VmHWM (peak) of one process, in MB. */
function memoryOf(pid: number): { rssMB: number; peakMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: Math.round(kB('VmRSS') / 1024), peakMB: Math.round(kB('VmHWM') / 1024) };
}

/** The process and its descendants, parents first. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    for (const child of children ? children.split(' ') : []) out.push(...processTree(Number(child)));
  }
  return out;
}

/**
 * Starts the service with package.json's `alerting` script (the node flags the farm runs it with), times its first
 * evaluation and `steadyCycles` more (each woken by a fault event, as the exporter wakes it), and reads its memory.
 */
async function measureServiceProcess(steadyCycles: number): Promise<ServiceProcessFigures> {
  // FLYMINING_BENCH_ALERTING_COMMAND tries another start command (other node flags) against the same baseline.
  const script =
    process.env.FLYMINING_BENCH_ALERTING_COMMAND ?? (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.alerting!;
  // Its notices (one per container) go to a local webhook that accepts them, so no retries run beside the cycles.
  const webhook = createServer((req, res) => req.resume().on('end', () => res.end('ok')));
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'alerting-bench-'));
  const configFile = join(dir, 'alerting.yaml');
  // A long interval: cycles run only when the bench wakes them, so each log line is one timed cycle.
  writeFileSync(configFile, yaml('[container]', '\nevaluation_interval: 10m\nlisten: 127.0.0.1:0', `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`));
  const child: ChildProcess = spawn('sh', ['-c', `${script} --config ${configFile}`], {
    cwd: ROOT,
    detached: true, // its own process group, so every path below can end the whole tree
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, FLYMINING_LOG_LEVEL: 'debug', FLYMINING_REDIS_URL: REDIS_URL },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting: Array<(t: CycleTiming) => void> = [];
  const early: CycleTiming[] = [];
  const errors: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    let entry: { msg?: string; level?: number } & Partial<CycleTiming>;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      errors.push(line);
      return;
    }
    if (entry.level !== undefined && entry.level >= 50) errors.push(line);
    if (entry.msg !== 'evaluation' && entry.msg !== 'first evaluation as lease holder') return;
    const timing = { alerts: entry.alerts!, written: entry.written!, ms: entry.ms!, cpuMs: entry.cpuMs! };
    const next = waiting.shift();
    if (next) next(timing);
    else early.push(timing);
  });
  const nextCycle = (timeoutMs: number) =>
    early.length
      ? Promise.resolve(early.shift()!)
      : Promise.race([
          new Promise<CycleTiming>((resolve) => waiting.push(resolve)),
          exited.then(() => Promise.reject(new Error(`the alerting service exited: ${errors.join('\n')}`))),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no evaluation within ${timeoutMs} ms: ${errors.join('\n')}`)), timeoutMs).unref()),
        ]);
  const publisher = new Redis(REDIS_URL);
  try {
    const first = await nextCycle(300_000);
    // The deepest process running main.ts is the service (the tsx CLI above it runs it in a child node; esbuild,
    // tsx's compiler, runs below it and counts with the launchers).
    const tree = processTree(child.pid!);
    const service = tree.filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('alerting/src/main.ts')).pop()!;
    const afterFirst = memoryOf(service);
    const steady: CycleTiming[] = [];
    for (let i = 0; i < steadyCycles; i++) {
      await publisher.publish(REDIS_KEYS.faultChannel, 'bench');
      steady.push(await nextCycle(120_000));
    }
    const afterSteady = memoryOf(service);
    let launcherRssMB = 0;
    for (const pid of tree) if (pid !== service) launcherRssMB += memoryOf(pid).rssMB;
    // Stopped as the farm stops it: SIGTERM to the service, which resigns its lease.
    process.kill(service, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
    return { startCommand: script, first, steady, rssAfterFirstMB: afterFirst.rssMB, rssAfterSteadyMB: afterSteady.rssMB, peakRssMB: afterSteady.peakMB, launcherRssMB };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    publisher.disconnect();
    webhook.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  await redis.flushdb();
  const { keys, baselineFirstMs, baselineFirstCpuMs, baselineSteadyMs } = await seedAndBaseline(redis);

  const service = await measureServiceProcess(5);
  await redis.del('flymining:alerting:leader'); // in case the child was killed before it could resign

  // The silence and notice figures below run the service in this process (a counting notifier, no mail).
  let sent = 0;
  const counting: Notifier = { notify: async () => { sent += 1; return { ok: true } as const; } };
  const logger = createLogger('bench', 'silent');
  const cycles = new AlertingService(parseConfig(yaml('[container]'), 'bench.yaml'), logger, { notifiers: new Map([['oncall/slack', counting]]) });
  await cycles.cycle(); // takes the lease over; the alerts are already in Redis
  await cycles.idle();
  const steady: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await cycles.cycle();
    steady.push(ms(t));
  }
  const alerts = await redis.hlen('flymining:alerting:alerts');

  // 1,000 silences in force: the cycle checks every alert against them (issue #10: they must not stall it).
  const now = Date.now();
  /** Saves SILENCES silences (matchers of the i-th from `matchersOf`), then times 5 cycles (ms each). */
  const cyclesWithSilences = async (idPrefix: string, matchersOf: (i: number) => string[]): Promise<number[]> => {
    for (let i = 0; i < SILENCES; i++) {
      const matchers = matchersOf(i);
      await cycles.state.saveSilence({ id: `${idPrefix}${i}`, matchers, comment: 'bench', createdBy: 'bench', createdAt: now, startsAt: now, endsAt: now + 3_600_000 });
    }
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await cycles.cycle();
      times.push(ms(t));
    }
    return times;
  };
  const withSilences = await cyclesWithSilences('bench-', (i) =>
    i % 2 === 0 ? [`miner=~"C${String(i % 100).padStart(2, '0')}-(9{3}|x+)+"`, `container="C${i}"`] : [`container="X${i}"`, `alertname="Hardware"`],
  );
  // The worst case: regex matchers only, no equality matcher to look silences up by (each alert tries every one).
  await redis.del('flymining:alerting:silences');
  const regexOnly = await cyclesWithSilences('bench-re-', (i) => [`miner=~"C${String(i % 100).padStart(2, '0')}-(9{3}|x+)+"`, `part=~"(part )+${i}"`]);
  await redis.del('flymining:alerting:silences');
  await cycles.stop();

  // Notices/s: one group per alert, so 50,000 notices each claim, send and log.
  await redis.del('flymining:alerting:nflog', 'flymining:alerting:leader');
  for (let cursor = '0'; ; ) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'flymining:alerting:claim:*', 'COUNT', 10000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
    if (cursor === '0') break;
  }
  sent = 0;
  const notify = new AlertingService(parseConfig(yaml("['...']"), 'bench.yaml'), logger, { notifiers: new Map([['oncall/slack', counting]]) });
  const n0 = performance.now();
  await notify.cycle(); // evaluates and hands the notices over; delivery runs after it returns
  const cycleBeforeNoticesMs = ms(n0);
  const d0 = performance.now();
  await notify.idle();
  const notifyMs = ms(d0);
  const noticesSent = sent;
  await notify.stop();

  // Baseline 2: the same per-notice round trips (claim SET NX, then MULTI HSET+HDEL), all at once.
  const r0 = performance.now();
  await Promise.all(
    keys.map(async (k) => {
      await redis.set(`bench:claim:${k}`, '1', 'PX', 60_000, 'NX');
      await redis.multi().hset('bench:nflog', k, '{"firing":["x"],"sentAt":0}').hdel('bench:retry', k).exec();
    }),
  );
  const baselineNotifyMs = ms(r0);

  await redis.flushdb();
  redis.disconnect();
  const steadyBest = Math.min(...steady);
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'alerting',
        miners: MINERS,
        activeAlerts: alerts,
        loadAverage: loadavg().map((l) => +l.toFixed(1)),
        // The service as its start command runs it, in a process of its own (cycle times from its log lines).
        cycle: {
          startCommand: service.startCommand,
          firstMs: service.first.ms,
          steadyMs: service.steady.map((c) => c.ms),
          steadyCpuMs: service.steady.map((c) => c.cpuMs),
          baselineFirstMs,
          baselineSteadyMs,
          firstVsBaseline: Math.round((service.first.ms / baselineFirstMs) * 10) / 10,
          // CPU time of the service's process during the cycle: steadier than wall time on a shared machine.
          firstCpuMs: service.first.cpuMs,
          baselineFirstCpuMs,
          firstCpuVsBaseline: Math.round((service.first.cpuMs / baselineFirstCpuMs) * 10) / 10,
          steadyVsBaseline: Math.round((Math.min(...service.steady.map((c) => c.ms)) / baselineSteadyMs) * 10) / 10,
        },
        memory: {
          rssAfterFirstMB: service.rssAfterFirstMB,
          rssAfterSteadyMB: service.rssAfterSteadyMB,
          peakRssMB: service.peakRssMB,
          launcherRssMB: service.launcherRssMB,
        },
        silences: {
          count: SILENCES,
          // In this process, against its own steady cycles without silences.
          noneSteadyMs: steady,
          steadyMs: withSilences,
          vsNone: Math.round((Math.min(...withSilences) / steadyBest) * 100) / 100,
          regexOnlySteadyMs: regexOnly,
          regexOnlyVsNone: Math.round((Math.min(...regexOnly) / steadyBest) * 100) / 100,
        },
        notify: {
          notices: noticesSent,
          cycleMs: cycleBeforeNoticesMs,
          ms: notifyMs,
          perSecond: Math.round((noticesSent / notifyMs) * 1000),
          baselineMs: baselineNotifyMs,
          baselinePerSecond: Math.round((keys.length / baselineNotifyMs) * 1000),
          vsBaseline: Math.round((noticesSent / notifyMs / (keys.length / baselineNotifyMs)) * 100) / 100,
        },
      },
      null,
      2,
    ) + '\n',
  );
}

void main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
