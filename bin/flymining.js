#!/usr/bin/env node
// Staff CLI. Runs the TypeScript sources directly through tsx: the stack ships no build step.
require('tsx/cjs');
require('./flymining-cli.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    process.stderr.write(`flymining: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
