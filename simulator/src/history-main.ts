/**
 * Writes weeks of the simulated farm's history into InfluxDB (history.ts), fast, for the demo:
 *   tsx simulator/src/history-main.ts --specs farm-specs.json [--days 21] [--seed 1] [--step-minutes 20] [--delivered-out farm-delivered.json]
 * The specs are the live simulator's (`main.ts --specs-out`), so the past has the same miners and tags as the
 * present. InfluxDB settings from FLYMINING_INFLUX_* (a user that may write). --delivered-out writes what each pool
 * worker delivered per closed day and the outages, for the demo's pool API (pools-main.ts).
 */
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { InfluxStore, loadInfluxConfig, readJsonFile } from '@flymining/shared';
import { z } from 'zod';
import { isProfileId, type ProfileId } from './catalog';
import { demoOutages, historyDays, writeHistory } from './history';
import type { SimMinerSpec } from './miner';

const specsSchema = z.array(
  z.object({
    id: z.string().min(1),
    host: z.string(),
    port: z.number().int(),
    profile: z.string().refine(isProfileId, 'not a simulator profile'),
    position: z.object({ site: z.string(), container: z.string(), rack: z.string(), shelf: z.string(), slot: z.string() }),
  }),
);

function wholeNumber(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

async function loadSpecs(file: string): Promise<SimMinerSpec[]> {
  const specs = await readJsonFile(file, '--specs', specsSchema);
  return specs.map((s) => ({ ...s, profile: s.profile as ProfileId }));
}

async function main(): Promise<void> {
  const o = new Command('flymining-history')
    .description("write weeks of the simulated farm's miner history (miner, miner_up) into InfluxDB")
    .requiredOption('--specs <file>', 'the simulated farm (simulator --specs-out)')
    .option('--days <n>', 'closed days before today to write (today up to now is written too)', wholeNumber('--days', 1, 35), 21)
    .option('--seed <n>', 'random seed', wholeNumber('--seed', 0, 2 ** 31), 1)
    .option('--step-minutes <n>', 'minutes between two samples of a miner', wholeNumber('--step-minutes', 1, 60), 20)
    .option('--delivered-out <file>', 'write each pool worker\'s delivered TH/s per closed day and the outages (JSON)')
    .parse()
    .opts<{ specs: string; days: number; seed: number; stepMinutes: number; deliveredOut?: string }>();
  const specs = await loadSpecs(o.specs);
  const started = performance.now();
  const untilMs = Date.now();
  const days = historyDays(new Date(untilMs).toISOString().slice(0, 10), o.days);
  const outages = demoOutages(specs, days);
  // One writer, big batches, no spool: a failed write fails the run (the demo says so) rather than waiting on disk.
  const store = new InfluxStore(loadInfluxConfig({ url: 'http://127.0.0.1:8086', batchSize: 20_000, maxBufferLines: 2_000_000, maxRetries: 1 }, process.env, 'FLYMINING_INFLUX_*'), {
    spool: false,
  });
  let written: Awaited<ReturnType<typeof writeHistory>>;
  try {
    written = await writeHistory(store, { specs, seed: o.seed, days, untilMs, stepMs: o.stepMinutes * 60_000, outages });
  } finally {
    await store.close();
  }
  const { points: lines, delivered } = written;
  if (o.deliveredOut) {
    const doc = {
      seed: o.seed,
      days: Object.fromEntries([...delivered].map(([day, workers]) => [day, Object.fromEntries([...workers].map(([w, ths]) => [w, Math.round(ths * 1e6) / 1e6]))])),
      outages: outages.map(({ day, kind, what, miners }) => ({ day, kind, what, miners: miners.length })),
    };
    await writeFile(o.deliveredOut, `${JSON.stringify(doc)}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `history: ${specs.length} miners, ${days.length - 1} days and today until now, one sample per ${o.stepMinutes} min: ${lines} points in ${seconds.toFixed(1)} s; ` +
      `outages: ${outages.map((x) => `${x.day} ${x.what}`).join('; ') || 'none'}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`history: ${(err as Error).message}\n`);
  process.exit(1);
});
