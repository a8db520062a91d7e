/** Runs bash with `args` (a script and its arguments, or ['-c', line]) and collects stdout and stderr together. */
import { spawn } from 'node:child_process';

export interface BashResult {
  /** The exit code; null when bash was killed (e.g. by the 60 s timeout). */
  code: number | null;
  output: string;
}

/** Asynchronous on purpose: a server living in the test process must keep answering while bash runs. */
export function runBash(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<BashResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}
