/** Importing a range of days from a pool or the network source into PostgreSQL, and the scheduled import. */
import type { Pool } from 'pg';
import { daySchema, parseInput } from '../domain';
import { recordNetworkImports, recordRevenueImports, recordWorkerImport } from './store';
import type { NetworkSource, PoolImporter } from './types';

export interface ImportSummary {
  pool: string;
  account: string;
  days: number;
  amountSat: number;
  workerDays: number;
  requests: string[];
  /** Days asked for that the source did not report (not recorded; retried next time). */
  missing: string[];
}

function checkRange(from: string, to: string): void {
  parseInput(daySchema, from, '--from');
  parseInput(daySchema, to, '--to');
  if (from > to) throw new Error(`--from ${from} is after --to ${to}`);
}

function missingDays(from: string, to: string, have: Set<string>): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    const d = new Date(t).toISOString().slice(0, 10);
    if (!have.has(d)) out.push(d);
  }
  return out;
}

/** Revenue for [from, to]; with `workerDays`, also per-worker hashrate of those days (where the pool answers). */
export async function importPool(pg: Pool, importer: PoolImporter, from: string, to: string, opts: { workerDays?: string[] } = {}): Promise<ImportSummary> {
  checkRange(from, to);
  const rows = await importer.dailyRevenue(from, to);
  await recordRevenueImports(pg, importer.name, importer.account, rows);
  let workerDays = 0;
  const requests = [...new Set(rows.map((r) => r.request))];
  for (const day of opts.workerDays ?? []) {
    if (!importer.workerHashrate) break;
    const w = await importer.workerHashrate(day);
    await recordWorkerImport(pg, importer.name, importer.account, w);
    requests.push(w.request);
    workerDays += 1;
  }
  return {
    pool: importer.name,
    account: importer.account,
    days: rows.length,
    amountSat: rows.reduce((s, r) => s + r.amountSat, 0),
    workerDays,
    requests,
    missing: missingDays(from, to, new Set(rows.map((r) => r.day))),
  };
}

export async function importNetwork(pg: Pool, source: NetworkSource, from: string, to: string): Promise<ImportSummary> {
  checkRange(from, to);
  const days = await source.networkDays(from, to);
  await recordNetworkImports(pg, source.name, days);
  return { pool: source.name, account: '', days: days.length, amountSat: 0, workerDays: 0, requests: [...new Set(days.map((d) => d.request))], missing: missingDays(from, to, new Set(days.map((d) => d.day))) };
}

export interface ScheduledImport {
  importers: readonly PoolImporter[];
  network?: NetworkSource;
  /** Days back from yesterday re-imported each tick (late corrections by the pool), default 3. */
  days?: number;
}

/**
 * What the scheduler runs before the daily run: the last few closed days from every configured pool (and the
 * network source), with per-worker hashrate of yesterday. A failing source is logged and does not stop the others;
 * the day it lacks is not run until it is there (the run requires each configured pool's revenue).
 */
export async function runScheduledImport(pg: Pool, plan: ScheduledImport, today: string, log?: (m: string) => void): Promise<ImportSummary[]> {
  const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const from = new Date(Date.parse(`${yesterday}T00:00:00Z`) - ((plan.days ?? 3) - 1) * 86_400_000).toISOString().slice(0, 10);
  const out: ImportSummary[] = [];
  for (const importer of plan.importers) {
    try {
      const summary = await importPool(pg, importer, from, yesterday);
      if (importer.workerHashrate) {
        try {
          const w = await importer.workerHashrate(yesterday);
          await recordWorkerImport(pg, importer.name, importer.account, w);
          summary.workerDays = 1;
          summary.requests.push(w.request);
        } catch (err) {
          log?.(`${importer.name}: worker hashrate of ${yesterday} not imported: ${(err as Error).message}`);
        }
      }
      out.push(summary);
      log?.(`${importer.name}/${importer.account}: ${summary.days} day(s) imported${summary.missing.length ? `, missing ${summary.missing.join(', ')}` : ''}`);
    } catch (err) {
      log?.(`${importer.name}/${importer.account}: import failed: ${(err as Error).message}`);
    }
  }
  if (plan.network) {
    try {
      out.push(await importNetwork(pg, plan.network, from, yesterday));
    } catch (err) {
      log?.(`${plan.network.name}: network import failed: ${(err as Error).message}`);
    }
  }
  return out;
}
