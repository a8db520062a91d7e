/** Runs the `flymining` CLI in-process, capturing what it writes to stdout and stderr. */
import { main } from '../../bin/flymining-cli';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `args` follow `flymining` (e.g. ['tokens', 'list', '--redis', url]); process.exitCode is cleared before and after. */
export async function runCli(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'flymining', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}
