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
import { InfluxStore, InventoryHolder, createLogger, ensureDatabase, schemaRetention } from '@flymining/shared';
import { inventoryYaml, type SimMinerSpec } from '@flymining/simulator';
import { DIALECTS } from '../exporters/src/miner/dialects';
import { MinerExporter } from '../exporters/src/miner-exporter';
import { Limiter } from '../exporters/src/scheduler';
import { InfluxTestServer } from '../scripts/jest/influx-server';

const MINERS = Number(process.argv[2] ?? 5000);
const SWEEPS = Number(process.argv[3] ?? 3);
const CONCURRENCY = 256;
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
    const store = new InfluxStore({ url: influx.url, database: 'bench_sweep', spool: { dir: path.join(work, 'spool') } });
    await ensureDatabase(store, schemaRetention('bench_sweep'));
    const exporter = new MinerExporter(
      inventory,
      store,
      { name: 'bench', intervalMs: 30_000, jitterMs: 0, concurrency: CONCURRENCY },
      createLogger('bench', 'error'),
    );

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const sweeps: Array<{ wallMs: number; cpuMs: number; scraped: number }> = [];
    for (let i = 0; i < SWEEPS; i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const report = await exporter.sweep(0);
      await store.flush();
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      sweeps.push({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, scraped: report.scraped });
      process.stderr.write(`sweep ${i + 1}/${SWEEPS}: ${report.scraped} miners in ${(wallMs / 1000).toFixed(2)} s\n`);
    }
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
    const stats = store.stats();
    const reachable = exporter.metrics.minersUp.get ? (await exporter.metrics.minersUp.get()).values[0]?.value : undefined;

    const family = new Map(specs.map((s) => [s.id, inventory.current.miners.get(s.id)?.firmware]));
    const commandsOf = (s: SimMinerSpec): readonly string[] => DIALECTS.find((d) => d.family === family.get(s.id))?.commands ?? ['summary'];
    const raw: number[] = [];
    for (let i = 0; i < SWEEPS; i++) raw.push(await rawSweep(specs, commandsOf));

    const best = Math.min(...sweeps.map((s) => s.wallMs));
    const bestRaw = Math.min(...raw);
    const meanCpu = sweeps.reduce((a, s) => a + s.cpuMs, 0) / sweeps.length;
    const result = {
      benchmark: 'sweep',
      miners: MINERS,
      sweeps: sweeps.map((s) => ({ wallS: +(s.wallMs / 1000).toFixed(3), cpuS: +(s.cpuMs / 1000).toFixed(3), scraped: s.scraped })),
      bestWallS: +(best / 1000).toFixed(3),
      cpuSecondsPer1000Miners: +(meanCpu / 1000 / (MINERS / 1000)).toFixed(3),
      peakRssMB: +(peakRss / 2 ** 20).toFixed(1),
      reachableLastSweep: reachable,
      pointsWritten: stats.written,
      pointsSpooled: stats.spooled,
      baseline: { what: 'bare TCP, same commands, replies discarded', bestWallS: +(bestRaw / 1000).toFixed(3) },
      ratioToBaseline: +(best / bestRaw).toFixed(2),
      goals: { wallUnder10s: best < 10_000, rssUnder300MB: peakRss < 300 * 2 ** 20 },
    };
    console.log(JSON.stringify(result, null, 2));
    await store.close();
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
