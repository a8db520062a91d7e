/**
 * Sweep benchmark: one exporter sweep over N simulated miners (default 5,000) on this machine, into a real
 * InfluxDB. Figures: wall time per sweep (goal < 10 s at a 30 s interval), CPU seconds per 1,000 miners, peak RSS of
 * the exporter process (goal < 300 MB). Baseline, same run, same miners: a bare TCP loop that sends the same
 * commands and reads the replies without parsing, judging or storing anything, at the same concurrency.
 * The simulator runs in a child process, so its CPU and memory are not counted.
 *
 * Then, in the same run, a mixed-protocol farm of as many miners (a quarter each: CGMiner, Whatsminer API v3, the
 * Antminer web CGI behind digest auth, HTTP JSON (half Braiins OS REST, half ePIC)): wall time and CPU per 1,000
 * miners as ratios to the all-CGMiner sweep. The exporter reads what its backends support; the figure reports how
 * many miners each sweep scraped and how many were reachable, so a farm it cannot fully read yet shows as such.
 * `BENCH_SKIP_MIXED=1` leaves the mixed farm out.
 *
 * A process here may hold at most 20,000 open files and each simulated miner is a listener, so the farm is served by
 * ceil(miners / 7,000) simulator processes (`--part k/n`, whole containers each). Every child (simulators, exporters,
 * the throwaway influxd) is owned by bench/lib/children.ts and stopped on every way out, failures and signals too.
 * The interval is 60 s (`BENCH_INTERVAL_S`) so that sweeps do not overlap even on a busy machine.
 * `BENCH_EXPORTER_NODE_FLAGS='--max-old-space-size=256 --cpu-prof --cpu-prof-dir=DIR'` profiles the exporter.
 *
 *   npx tsx bench/sweep.ts [miners] [sweeps]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { InventoryHolder } from '@flymining/shared';
import { inventoryYaml, type SimMinerSpec } from '@flymining/simulator';
import { DIALECTS, type Dialect } from '../exporters/src/miner/dialects';
import { joinableCommands } from '../exporters/src/miner/joined';
import { Limiter } from '../exporters/src/scheduler';
import { runBench, type ChildProcesses } from './lib/children';

const MINERS = Number(process.argv[2] ?? 5000);
const SWEEPS = Number(process.argv[3] ?? 4);
/**
 * Long enough that a sweep ends before the next starts on a busy shared machine: an overlapping sweep skips the
 * miners still in flight and its figure means nothing (`complete: false` in the output then).
 */
const INTERVAL_S = Number(process.env.BENCH_INTERVAL_S ?? 60);
/** Miners per simulator process: each is a listener, and a process may hold at most 20,000 open files. */
const MINERS_PER_SIMULATOR = 7000;
const CONCURRENCY = 256;
/** The flags of `npm run exporter` (package.json): the exporter is measured as it is launched. */
const EXPORTER_NODE_FLAGS = '--max-old-space-size=256';
const ROOT = path.resolve(__dirname, '..');

/** The mixed farm: a quarter each CGMiner, v3, Antminer web, HTTP JSON (Braiins OS REST and ePIC). */
const MIXED_FARM = 'antminer-s19pro=2,whatsminer-m60s=2,antminer-s23-hyd=2,braiins-s19xp=1,epic-s19xp=1';

/**
 * One simulator process serving part `part` of `parts` of the farm (flags in `farm` choose its composition); resolves
 * once it listens. Part 1 writes the whole farm's specs.
 */
function startSimulator(children: ChildProcesses, specsFile: string, farm: readonly string[], baseAddress: string, part: number, parts: number): Promise<ChildProcess> {
  const child = children.spawn(
    `simulator ${part}/${parts}`,
    process.execPath,
    ['-r', 'tsx/cjs', 'simulator/src/main.ts', '--miners', String(MINERS), '--control-port', '0', '--base-address', baseAddress, '--seed', '42', '--part', `${part}/${parts}`, ...(part === 1 ? ['--specs-out', specsFile] : []), ...farm],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('control API')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`simulator ${part}/${parts} exited (${code}) before it was ready: ${out}`)));
  });
}

/** Baseline: the same requests over bare sockets, replies read and thrown away (but for their first bytes). */
function rawCommand(host: string, port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    let head = '';
    const s = net.connect({ host, port }, () => s.write(JSON.stringify({ command })));
    s.on('data', (d: Buffer) => {
      if (head.length < 16) head += d.subarray(0, 16).toString('latin1');
    });
    s.on('close', () => resolve(head));
    s.on('error', () => resolve(head));
  });
}

/** One bare sweep: wall time and the CPU seconds of this process (nothing else runs in it meanwhile). */
interface RawSweep {
  ms: number;
  cpuS: number;
}

/** Miners (by id) that answered a joined request with a top-level STATUS: asked one command per connection after. */
const refusedJoined = new Set<string>();

/**
 * One bare-TCP sweep. `joined`: what the exporter sends — the joinable commands in one request (joined.ts), the rest
 * one per connection, and after a refusal (learned in the first sweep, as the exporter learns it) one per connection.
 */
async function rawSweep(specs: SimMinerSpec[], dialectOf: (s: SimMinerSpec) => Dialect | undefined, joined: boolean): Promise<RawSweep> {
  const limiter = new Limiter(CONCURRENCY);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    specs.map((s) =>
      limiter.run(async () => {
        const dialect = dialectOf(s);
        const commands = dialect?.commands ?? ['summary'];
        const joinable = joined && dialect && !refusedJoined.has(s.id) ? joinableCommands(dialect, commands) : [];
        let separate = commands;
        if (joinable.length >= 2) {
          const head = await rawCommand(s.host, s.port, joinable.join('+'));
          if (head.startsWith('{"STATUS"')) refusedJoined.add(s.id);
          else separate = commands.filter((c) => !joinable.includes(c));
        }
        for (const c of separate) await rawCommand(s.host, s.port, c);
      }),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - t0, cpuS: (cpu.user + cpu.system) / 1e6 };
}

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** Current and peak resident memory of a process in KiB (VmRSS, VmHWM). */
function rssOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

interface SweepFigures {
  sweeps: Array<{ wallS: number; cpuS: number; scraped: number }>;
  bestWallS: number;
  cpuSecondsPer1000Miners: number;
  peakRssMB: number;
  reachableLastSweep: number;
  pointsWritten: number;
}

/** Runs the real exporter process against the simulated farm for SWEEPS sweeps and measures it. */
async function measureExporter(children: ChildProcesses, inventoryFile: string, work: string, influxUrl: string, db: string, metricsPort: number): Promise<SweepFigures> {
  const exporter = children.spawn(
    `exporter ${db}`,
    process.execPath,
    [...(process.env.BENCH_EXPORTER_NODE_FLAGS ?? EXPORTER_NODE_FLAGS).split(' ').filter(Boolean), '-r', 'tsx/cjs', 'exporters/src/main.ts', '--inventory', inventoryFile, '--interval', String(INTERVAL_S), '--jitter', '0', '--concurrency', String(CONCURRENCY), '--listen', `127.0.0.1:${metricsPort}`, '--name', 'bench', '--state-dir', path.join(work, `edge-state-${db}`)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, FLYMINING_INFLUX_URL: influxUrl, FLYMINING_INFLUX_DB: db, FLYMINING_INFLUX_SPOOL_DIR: path.join(work, `spool-${db}`), FLYMINING_LOG_LEVEL: 'error' },
    },
  );
  const pid = exporter.pid as number;
  try {
    const sweeps: SweepFigures['sweeps'] = [];
    let seen = 0;
    let cpuBefore = cpuSecondsOf(pid);
    const deadline = Date.now() + (SWEEPS + 3) * INTERVAL_S * 1000 + 60_000;
    while (sweeps.length < SWEEPS && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`).then((r) => r.json() as Promise<{ lastSweep: { startedAt: number; durationMs: number; scraped: number } | null }>, () => undefined);
      const last = health?.lastSweep;
      if (!last || last.startedAt === seen) continue;
      seen = last.startedAt;
      const cpuNow = cpuSecondsOf(pid);
      // The first sweep includes start-up (inventory parse, module loading): reported, not used for the best figure.
      sweeps.push({ wallS: last.durationMs / 1000, cpuS: cpuNow - cpuBefore, scraped: last.scraped });
      cpuBefore = cpuNow;
      process.stderr.write(`${db} sweep ${sweeps.length}/${SWEEPS}: ${last.scraped} miners in ${(last.durationMs / 1000).toFixed(2)} s, rss ${(rssOf(pid).rss / 1024).toFixed(0)} MB\n`);
    }
    if (sweeps.length < 2) throw new Error(`${db}: the exporter finished ${sweeps.length} sweep(s) before the deadline`);
    const { hwm } = rssOf(pid);
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    if (process.env.BENCH_DEBUG) process.stderr.write(metrics.split('\n').filter((l) => /heap_size|external|resident/.test(l) && !l.startsWith('#')).join('\n') + '\n');
    const steady = sweeps.slice(1);
    // Per miner actually scraped: an overlapping sweep skips the miners still in flight.
    const steadyCpu = steady.reduce((a, x) => a + x.cpuS, 0);
    const steadyScraped = steady.reduce((a, x) => a + x.scraped, 0);
    return {
      sweeps: sweeps.map((x) => ({ wallS: +x.wallS.toFixed(3), cpuS: +x.cpuS.toFixed(3), scraped: x.scraped })),
      bestWallS: Math.min(...steady.map((x) => x.wallS)),
      cpuSecondsPer1000Miners: steadyCpu / (steadyScraped / 1000),
      peakRssMB: (hwm * 1024) / 2 ** 20,
      reachableLastSweep: Number(/^flymining_miners_reachable (\d+)/m.exec(metrics)?.[1] ?? NaN),
      pointsWritten: Number(/^flymining_points_written_total (\d+)/m.exec(metrics)?.[1] ?? NaN),
    };
  } finally {
    // It finishes the sweep under way before it exits (and writes its CPU profile when asked to).
    await children.stop(exporter, 120_000);
  }
}

/** The figures as printed (rounded). */
function reported(f: SweepFigures): Record<string, unknown> {
  return {
    sweeps: f.sweeps,
    // Every sweep after the first reached every miner (none skipped as still in flight from an overlapping sweep).
    complete: f.sweeps.slice(1).every((x) => x.scraped === MINERS),
    bestWallS: +f.bestWallS.toFixed(3),
    cpuSecondsPer1000Miners: +f.cpuSecondsPer1000Miners.toFixed(3),
    peakRssMB: +f.peakRssMB.toFixed(1),
    reachableLastSweep: f.reachableLastSweep,
    pointsWritten: f.pointsWritten,
  };
}

interface Farm {
  sims: ChildProcess[];
  specs: SimMinerSpec[];
  inventoryFile: string;
}

/** Starts a simulated farm over as many processes as its listeners need, writes its inventory and returns its specs. */
async function startFarm(children: ChildProcesses, work: string, name: string, farm: readonly string[], baseAddress: string): Promise<Farm> {
  const specsFile = path.join(work, `${name}-specs.json`);
  const parts = Math.max(1, Math.ceil(MINERS / MINERS_PER_SIMULATOR));
  const sims = await Promise.all(Array.from({ length: parts }, (_, i) => startSimulator(children, specsFile, farm, baseAddress, i + 1, parts)));
  const specs = JSON.parse(readFileSync(specsFile, 'utf8')) as SimMinerSpec[];
  const inventoryFile = path.join(work, `${name}.yaml`);
  writeFileSync(inventoryFile, inventoryYaml(specs));
  return { sims, specs, inventoryFile };
}

async function stopFarm(children: ChildProcesses, farm: Farm): Promise<void> {
  await Promise.all(farm.sims.map((sim) => children.stop(sim)));
}

/** The 1-minute load average, rounded: the machine is shared, so every figure carries it. */
function load(): number {
  return +os.loadavg()[0]!.toFixed(2);
}

async function main(children: ChildProcesses): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'flymining-bench-'));
  try {
    const loadAtStart = load();
    const influx = await children.influx();
    // All-CGMiner farm: the composition before issue 13 (--cgminer-only), as every earlier run of this bench measured.
    const cg = await startFarm(children, work, 'cgminer', ['--cgminer-only'], '127.60.0.1');
    const inventory = new InventoryHolder(cg.inventoryFile);
    const figures = await measureExporter(children, cg.inventoryFile, work, influx.url, 'bench_sweep', 19410);
    const loadAfterExporter = load();
    const family = new Map(cg.specs.map((s) => [s.id, inventory.current.miners.get(s.id)?.firmware]));
    const dialectOf = (s: SimMinerSpec): Dialect | undefined => DIALECTS.find((d) => d.family === family.get(s.id));
    // Interleaved, so both baselines see the same load: the requests the exporter sends, and one command per connection.
    const raw: RawSweep[] = [];
    const rawSeparate: RawSweep[] = [];
    for (let i = 0; i < SWEEPS; i++) {
      raw.push(await rawSweep(cg.specs, dialectOf, true));
      rawSeparate.push(await rawSweep(cg.specs, dialectOf, false));
    }
    const bestRaw = Math.min(...raw.slice(1).map((r) => r.ms));
    const bestRawSeparate = Math.min(...rawSeparate.map((r) => r.ms));
    // CPU per 1,000 miners of the bare loop (steady sweeps), against the exporter's: steadier than wall time when the
    // machine is shared, and what one core can sweep.
    const rawCpuPer1000 = raw.slice(1).reduce((a, r) => a + r.cpuS, 0) / ((raw.length - 1) * MINERS / 1000);
    const loadAfterBaseline = load();
    await stopFarm(children, cg);

    let mixed: Record<string, unknown> | undefined;
    if (!process.env.BENCH_SKIP_MIXED) {
      const mx = await startFarm(children, work, 'mixed', ['--mix', MIXED_FARM], '127.62.0.1');
      const m = await measureExporter(children, mx.inventoryFile, work, influx.url, 'bench_sweep_mixed', 19411);
      const composition: Record<string, number> = {};
      for (const s of mx.specs) composition[s.profile] = (composition[s.profile] ?? 0) + 1;
      mixed = {
        what: 'quarter each CGMiner (S19 Pro), Whatsminer API v3 (M60S), Antminer web CGI (S23 Hyd.), HTTP JSON (Braiins OS REST S19 XP, ePIC S19 XP)',
        composition,
        ...reported(m),
        ratioToAllCgminer: {
          wall: +(m.bestWallS / figures.bestWallS).toFixed(2),
          cpuPer1000Miners: +(m.cpuSecondsPer1000Miners / figures.cpuSecondsPer1000Miners).toFixed(2),
        },
        loadAverage1m: load(),
      };
      await stopFarm(children, mx);
    }

    const result = {
      benchmark: 'sweep',
      miners: MINERS,
      simulatorProcesses: cg.sims.length,
      interval: INTERVAL_S,
      ...reported(figures),
      baseline: {
        what: 'bare TCP, the requests the exporter sends (joined where the miner accepts it, learned in the first sweep, which is left out), replies discarded',
        sweepsS: raw.map((r) => +(r.ms / 1000).toFixed(3)),
        bestWallS: +(bestRaw / 1000).toFixed(3),
        cpuSecondsPer1000Miners: +rawCpuPer1000.toFixed(3),
      },
      ratioToBaseline: +((figures.bestWallS * 1000) / bestRaw).toFixed(2),
      cpuRatioToBaseline: +(figures.cpuSecondsPer1000Miners / rawCpuPer1000).toFixed(2),
      baselineOneCommandPerConnection: {
        what: 'bare TCP, every command on its own connection (the baseline before joined commands), replies discarded',
        sweepsS: rawSeparate.map((r) => +(r.ms / 1000).toFixed(3)),
        bestWallS: +(bestRawSeparate / 1000).toFixed(3),
        ratio: +((figures.bestWallS * 1000) / bestRawSeparate).toFixed(2),
      },
      loadAverage1m: { start: loadAtStart, afterExporter: loadAfterExporter, afterBaseline: loadAfterBaseline, cores: os.cpus().length },
      goals: {
        wallUnder10s: figures.bestWallS < 10,
        rssUnder300MB: figures.peakRssMB < 300,
        ...(MINERS >= 20_000 ? { wallUnder30sAt20000: figures.bestWallS < 30, rssUnder500MBAt20000: figures.peakRssMB < 500 } : {}),
        ratioAtMost1_5: (figures.bestWallS * 1000) / bestRaw <= 1.5,
      },
      ...(mixed ? { mixedProtocols: mixed } : {}),
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await children.stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

runBench(main);
