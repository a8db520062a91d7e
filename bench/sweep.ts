/**
 * Sweep benchmark: one exporter sweep over N simulated miners (default 5,000) on this machine, into a real
 * InfluxDB. Figures: wall time per sweep (goal < 10 s at a 30 s interval), CPU seconds per 1,000 miners, peak RSS of
 * the exporter process (goal < 300 MB). Baseline, same run, same miners: a bare TCP loop that sends the same
 * commands and reads the replies without parsing, judging or storing anything, at the same concurrency.
 * The simulator runs in a child process, so its CPU and memory are not counted.
 *
 *   npx tsx bench/sweep.ts [miners] [sweeps]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { InventoryHolder } from '@flymining/shared';
import { inventoryYaml, type SimMinerSpec } from '@flymining/simulator';
import { DIALECTS } from '../exporters/src/miner/dialects';
import { Limiter } from '../exporters/src/scheduler';
import { InfluxTestServer } from '../scripts/jest/influx-server';

const MINERS = Number(process.argv[2] ?? 5000);
const SWEEPS = Number(process.argv[3] ?? 4);
const INTERVAL_S = 15;
const CONCURRENCY = 256;
/** The flags of `npm run exporter` (package.json): the exporter is measured as it is launched. */
const EXPORTER_NODE_FLAGS = '--max-old-space-size=256';
const ROOT = path.resolve(__dirname, '..');

function startSimulator(specsFile: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'simulator/src/main.ts', '--miners', String(MINERS), '--control-port', '0', '--specs-out', specsFile, '--base-address', '127.60.0.1', '--seed', '42'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('control API')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}) before it was ready: ${out}`)));
  });
}

/** Baseline: the same commands over bare sockets, replies read and thrown away. */
function rawCommand(host: string, port: number, command: string): Promise<number> {
  return new Promise((resolve) => {
    let bytes = 0;
    const s = net.connect({ host, port }, () => s.write(JSON.stringify({ command })));
    s.on('data', (d: Buffer) => (bytes += d.length));
    s.on('close', () => resolve(bytes));
    s.on('error', () => resolve(bytes));
  });
}

async function rawSweep(specs: SimMinerSpec[], commandsOf: (s: SimMinerSpec) => readonly string[]): Promise<number> {
  const limiter = new Limiter(CONCURRENCY);
  const t0 = performance.now();
  await Promise.all(
    specs.map((s) =>
      limiter.run(async () => {
        for (const c of commandsOf(s)) await rawCommand(s.host, s.port, c);
      }),
    ),
  );
  return performance.now() - t0;
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

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'flymining-bench-'));
  const influx = await InfluxTestServer.create();
  await influx.start();
  const specsFile = path.join(work, 'specs.json');
  const sim = await startSimulator(specsFile);
  try {
    const specs = JSON.parse(readFileSync(specsFile, 'utf8')) as SimMinerSpec[];
    const inventoryFile = path.join(work, 'farm.yaml');
    writeFileSync(inventoryFile, inventoryYaml(specs));
    const inventory = new InventoryHolder(inventoryFile);
    // The exporter runs as it does in production: its own process, its real entry point.
    const metricsPort = 19410;
    const exporter = spawn(
      process.execPath,
      [...(process.env.BENCH_EXPORTER_NODE_FLAGS ?? EXPORTER_NODE_FLAGS).split(' ').filter(Boolean), '-r', 'tsx/cjs', 'exporters/src/main.ts', '--inventory', inventoryFile, '--interval', String(INTERVAL_S), '--jitter', '0', '--concurrency', String(CONCURRENCY), '--listen', `127.0.0.1:${metricsPort}`, '--name', 'bench', '--state-dir', path.join(work, 'edge-state')],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, FLYMINING_INFLUX_URL: influx.url, FLYMINING_INFLUX_DB: 'bench_sweep', FLYMINING_INFLUX_SPOOL_DIR: path.join(work, 'spool'), FLYMINING_LOG_LEVEL: 'error' },
      },
    );
    const pid = exporter.pid as number;
    const sweeps: Array<{ wallS: number; cpuS: number }> = [];
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
      sweeps.push({ wallS: last.durationMs / 1000, cpuS: cpuNow - cpuBefore });
      cpuBefore = cpuNow;
      process.stderr.write(`sweep ${sweeps.length}/${SWEEPS}: ${last.scraped} miners in ${(last.durationMs / 1000).toFixed(2)} s, rss ${(rssOf(pid).rss / 1024).toFixed(0)} MB\n`);
    }
    const { hwm } = rssOf(pid);
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    if (process.env.BENCH_DEBUG) process.stderr.write(metrics.split('\n').filter((l) => /heap_size|external|resident/.test(l) && !l.startsWith('#')).join('\n') + '\n');
    exporter.kill('SIGTERM');
    const written = Number(/^flymining_points_written_total (\d+)/m.exec(metrics)?.[1] ?? NaN);
    const reachable = Number(/^flymining_miners_reachable (\d+)/m.exec(metrics)?.[1] ?? NaN);
    const steady = sweeps.slice(1);
    const best = Math.min(...steady.map((s) => s.wallS)) * 1000;
    const meanCpu = (steady.reduce((a, s) => a + s.cpuS, 0) / steady.length) * 1000;
    const peakRss = hwm * 1024;

    const family = new Map(specs.map((s) => [s.id, inventory.current.miners.get(s.id)?.firmware]));
    const commandsOf = (s: SimMinerSpec): readonly string[] => DIALECTS.find((d) => d.family === family.get(s.id))?.commands ?? ['summary'];
    const raw: number[] = [];
    for (let i = 0; i < SWEEPS; i++) raw.push(await rawSweep(specs, commandsOf));
    const bestRaw = Math.min(...raw);
    const result = {
      benchmark: 'sweep',
      miners: MINERS,
      interval: INTERVAL_S,
      sweeps: sweeps.map((s) => ({ wallS: +s.wallS.toFixed(3), cpuS: +s.cpuS.toFixed(3) })),
      bestWallS: +(best / 1000).toFixed(3),
      cpuSecondsPer1000Miners: +(meanCpu / 1000 / (MINERS / 1000)).toFixed(3),
      peakRssMB: +(peakRss / 2 ** 20).toFixed(1),
      reachableLastSweep: reachable,
      pointsWritten: written,
      baseline: { what: 'bare TCP, same commands, replies discarded', bestWallS: +(bestRaw / 1000).toFixed(3) },
      ratioToBaseline: +(best / bestRaw).toFixed(2),
      goals: { wallUnder10s: best < 10_000, rssUnder300MB: peakRss < 300 * 2 ** 20 },
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    sim.kill('SIGTERM');
    await influx.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
