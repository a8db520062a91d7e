/**
 * The daily run on a timer: node-cron fires after each UTC day closes (default 00:30 UTC, giving exporters
 * time to flush their spools), and once at start, catching up on any day missed while nothing ran. Two
 * instances are harmless: the run lock lets one work and the other skip. With pool importers configured
 * (FLYMINING_POOL_IMPORT), each tick imports the last days' revenue, yesterday's per-worker hashrate and the
 * network figures before running. After the runs, `afterCatchUp` (the CLI: last month's statements, once every day
 * of it is credited; src/statements/issue.ts issueDueStatements) gets its turn on every tick.
 */
import cron from 'node-cron';
import type { Pool } from 'pg';
import type { HashrateSource } from './hashrate';
import { runScheduledImport, type ScheduledImport } from './pools/import';
import { catchUp, utcToday, type PoolRunSettings } from './run';

export interface BillingScheduler {
  stop(): Promise<void>;
  /** Resolves when the catch-up started by the last tick is over. */
  idle(): Promise<void>;
}

export function startBillingScheduler(
  pool: Pool,
  source: HashrateSource,
  settings: PoolRunSettings & {
    cron?: string;
    windowDays?: number;
    imports?: ScheduledImport;
    /** Called for each day a tick credited (the daily-credit mails); a failure is logged, the day stays credited. */
    afterDay?: (day: string) => Promise<string>;
    /** Called once per tick after the runs; its answer (if any) is logged, a failure is logged too. */
    afterCatchUp?: () => Promise<string | undefined>;
  } = {},
): BillingScheduler {
  const expression = settings.cron ?? process.env.FLYMINING_BILLING_CRON ?? '30 0 * * *';
  if (!cron.validate(expression)) throw new Error(`FLYMINING_BILLING_CRON: "${expression}" is not a cron expression`);
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = running.then(async () => {
      // A tick the cron library had already dispatched when stop() was called does nothing.
      if (stopped) return;
      // Pool revenue and network figures first, so the run below finds them; a day a configured pool has not
      // reported yet is left for a later tick instead of being credited from the FPPS expectation.
      const imports = settings.imports;
      if (imports && (imports.importers.length > 0 || imports.network)) {
        await runScheduledImport(pool, imports, settings.today ?? utcToday(), settings.log);
      }
      const requiredPools = imports?.importers.map((i) => i.name) ?? settings.requiredPools;
      const results = await catchUp(pool, source, { ...settings, requiredPools });
      for (const r of results) {
        settings.log?.(`${r.day}: ${r.status}`);
        if (r.status === 'done' && settings.afterDay) {
          await settings.afterDay(r.day).then(
            (what) => settings.log?.(`${r.day}: ${what}`),
            (err: Error) => settings.log?.(`${r.day}: after the run: ${err.message}`),
          );
        }
      }
      if (settings.afterCatchUp) {
        await settings.afterCatchUp().then(
          (what) => what && settings.log?.(what),
          (err: Error) => settings.log?.(`after the runs: ${err.message}`),
        );
      }
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
      stopped = true;
      await task.stop();
      // Until no tick was chained while waiting: nothing of the scheduler is left using the pool after this.
      for (let last: Promise<void> | undefined; last !== running; ) {
        last = running;
        await last.catch(() => undefined);
      }
    },
    idle: () => running.catch(() => undefined),
  };
}
