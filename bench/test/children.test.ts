/**
 * bench/lib/children.ts: a bench that fails midway, however it fails, leaves nothing running — no simulator, no
 * throwaway influxd (nor its data folder). The bench is a real process (bench/test/fixtures/failing-bench.ts) that
 * starts a real simulator and a real influxd.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
