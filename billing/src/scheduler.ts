/**
 * The daily run on a timer: node-cron fires after each UTC day closes (default 00:30 UTC, giving exporters
 * time to flush their spools), and once at start, catching up on any day missed while nothing ran. Two
 * instances are harmless: the run lock lets one work and the other skip.
 */
import cron from 'node-cron';
import type { Pool } from 'pg';
import type { HashrateSource } from './hashrate';
import { catchUp, type RunSettings } from './run';

export interface BillingScheduler {
  stop(): Promise<void>;
  /** Resolves when the catch-up started by the last tick is over. */
  idle(): Promise<void>;
}

export function startBillingScheduler(
  pool: Pool,
  source: HashrateSource,
  settings: RunSettings & { cron?: string; windowDays?: number } = {},
): BillingScheduler {
  const expression = settings.cron ?? process.env.FLYMINING_BILLING_CRON ?? '30 0 * * *';
  if (!cron.validate(expression)) throw new Error(`FLYMINING_BILLING_CRON: "${expression}" is not a cron expression`);
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running.then(async () => {
      const results = await catchUp(pool, source, settings);
      for (const r of results) settings.log?.(`${r.day}: ${r.status}`);
    });
    return running;
  };
  const task = cron.schedule(expression, () => void tick().catch((err: Error) => settings.log?.(`daily run failed: ${err.message}`)), {
    timezone: 'UTC',
    noOverlap: true,
  });
  void tick().catch((err: Error) => settings.log?.(`catch-up failed: ${err.message}`));
  return {
    async stop() {
      await task.stop();
      await running.catch(() => undefined);
    },
    idle: () => running.catch(() => undefined),
  };
}
