/**
 * bench/lib/children.ts: a bench that fails midway, however it fails, leaves nothing running — no simulator, no
 * throwaway influxd (nor its data folder). The bench is a real process (bench/test/fixtures/failing-bench.ts) that
 * starts a real simulator and a real influxd.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

interface Started {
  influxd: number;
  influxDataDir: string;
  simulator: number;
}

/** Running, and not a zombie waiting for a parent to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

/** Runs the failing bench; `signal` is sent once it has printed what it started. */
function runFailing(mode: string, signal?: NodeJS.Signals): Promise<{ started: Started; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'bench/test/fixtures/failing-bench.ts', mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let started: Started | undefined;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!started && line) {
        started = JSON.parse(line) as Started;
        if (signal) child.kill(signal);
      }
    });
    child.once('exit', (code) => (started ? resolve({ started, code }) : reject(new Error(`the bench exited (${code}) before starting anything: ${err}`))));
  });
}

describe.each([
  ['its main throws', 'throw', undefined, 1],
  ['an uncaught exception', 'uncaught', undefined, 1],
  ['an unhandled rejection', 'rejection', undefined, 1],
  ['process.exit', 'exit', undefined, 3],
  ['SIGTERM', 'signal', 'SIGTERM', 143],
  ['SIGINT (Ctrl-C)', 'signal', 'SIGINT', 130],
] as Array<[string, string, NodeJS.Signals | undefined, number]>)('a bench that fails midway: %s', (_label, mode, signal, exitCode) => {
  it('leaves no simulator, no influxd and no InfluxDB data behind', async () => {
    const { started, code } = await runFailing(mode, signal);
    expect(code).toBe(exitCode);
    expect(await gone(started.simulator, 10_000)).toBe(true);
    expect(await gone(started.influxd, 10_000)).toBe(true);
    expect(existsSync(started.influxDataDir)).toBe(false);
  }, 120_000);
});

/** The influxd processes whose parent is `pid`. */
function influxdChildrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [, name, rest] = /^\d+ \((.*)\) (.*)$/.exec(stat.trim())!;
      if (name === 'influxd' && Number(rest!.split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

// The benches with an InfluxDB of their own (climate-ingest, write-path, demo-history, door, uplink) take it from
// children.influx(): stopped on Ctrl-C too. climate-ingest left its influxd running when it died mid-run (seen once).
it('a bench with its own InfluxDB stopped by Ctrl-C midway leaves no influxd behind', async () => {
  const bench = spawn(process.execPath, ['-r', 'tsx/cjs', 'bench/climate-ingest.ts', '10000', '60'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => bench.once('exit', (code) => resolve(code)));
  let influxd: number[] = [];
  const deadline = Date.now() + 60_000;
  while (influxd.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    influxd = influxdChildrenOf(bench.pid!);
  }
  expect(influxd).toHaveLength(1);
  bench.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(await gone(influxd[0]!, 10_000)).toBe(true);
}, 120_000);
