#!/usr/bin/env node
// Staff CLI. Runs the TypeScript sources directly through tsx: the stack ships no build step.
require('tsx/cjs');
// `flymining ... | head`: the reader went away; stop quietly instead of printing a stack.
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') process.exit(0);
  throw err;
});
require('./flymining-cli.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    process.stderr.write(`flymining: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
