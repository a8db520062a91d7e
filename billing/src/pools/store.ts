/**
 * Recording imported figures: each one in pool_imports with its request, and revenue into pool_payouts (source
 * 'api', pool name `<pool>/<account>`), network days into market_days, in one transaction per import.
 */
import type { Pool } from 'pg';
import { inTransaction, satoshi, type Queryable } from '../db';
import type { NetworkDay, PoolDayRevenue, PoolWorkerDay } from './types';

export const payoutPoolName = (pool: string, account: string): string => `${pool}/${account}`.slice(0, 100);

export async function recordRevenueImports(pg: Pool, pool: string, account: string, rows: readonly PoolDayRevenue[]): Promise<void> {
  await inTransaction(pg, async (tx) => {
    for (const r of rows) {
      const { rows: ins } = await tx.query<{ id: string }>(
        `INSERT INTO pool_imports (pool, account, day, figure, amount_sat, raw, request) VALUES ($1, $2, $3, 'revenue', $4, $5, $6) RETURNING id`,
        [pool, account, r.day, r.amountSat, JSON.stringify(r.raw), r.request],
      );
      await tx.query(
        `INSERT INTO pool_payouts (day, pool, amount_sat, source, import_id) VALUES ($1, $2, $3, 'api', $4)
         ON CONFLICT (day, pool) DO UPDATE SET amount_sat = EXCLUDED.amount_sat, source = 'api', import_id = EXCLUDED.import_id, recorded_at = now()`,
        [r.day, payoutPoolName(pool, account), r.amountSat, ins[0]!.id],
      );
    }
  });
}

export async function recordWorkerImport(pg: Queryable, pool: string, account: string, w: PoolWorkerDay): Promise<void> {
  await pg.query(`INSERT INTO pool_imports (pool, account, day, figure, total_ths, raw, request) VALUES ($1, $2, $3, 'worker_hashrate', $4, $5, $6)`, [
    pool,
    account,
    w.day,
    w.totalThs,
    JSON.stringify({ workers: w.workers }),
    w.request,
  ]);
}

export async function recordNetworkImports(pg: Pool, source: string, days: readonly NetworkDay[]): Promise<void> {
  await inTransaction(pg, async (tx) => {
    for (const d of days) {
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO pool_imports (pool, account, day, figure, raw, request) VALUES ($1, '', $2, 'network', $3, $4) RETURNING id`,
        [source, d.day, JSON.stringify({ difficulty: d.difficulty, subsidySat: String(d.subsidySat), feesPerBlockSat: String(d.feesPerBlockSat), hashpriceSatPerThsDay: d.hashpriceSatPerThsDay, btcPriceUsd: d.btcPriceUsd }), d.request],
      );
      await tx.query(
        `INSERT INTO market_days (day, difficulty, subsidy_sat, fees_per_block_sat, btc_price_usd, import_id) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (day) DO UPDATE SET difficulty = EXCLUDED.difficulty, subsidy_sat = EXCLUDED.subsidy_sat, fees_per_block_sat = EXCLUDED.fees_per_block_sat,
           btc_price_usd = EXCLUDED.btc_price_usd, import_id = EXCLUDED.import_id, recorded_at = now()`,
        [d.day, d.difficulty, d.subsidySat, d.feesPerBlockSat, d.btcPriceUsd, rows[0]!.id],
      );
    }
  });
}

/** Where a figure the run uses came from: 'manual', 'csv', or the API with its request. */
export interface FigureSource {
  source: 'manual' | 'csv' | 'api';
  pool?: string;
  request?: string;
  importedAt?: string;
  raw?: Record<string, string>;
}

export async function payoutSources(pg: Queryable, day: string): Promise<Array<{ pool: string; amountSat: number } & FigureSource>> {
  const { rows } = await pg.query<{ pool: string; amount_sat: string; source: 'api' | 'csv'; request: string | null; imported_at: Date | null; raw: Record<string, string> | null }>(
    `SELECT p.pool, p.amount_sat, p.source, i.request, i.imported_at, i.raw FROM pool_payouts p LEFT JOIN pool_imports i ON i.id = p.import_id WHERE p.day = $1 ORDER BY p.pool`,
    [day],
  );
  return rows.map((r) => ({
    pool: r.pool,
    amountSat: satoshi(r.amount_sat),
    source: r.source,
    ...(r.request ? { request: r.request, importedAt: r.imported_at?.toISOString(), raw: r.raw ?? undefined } : {}),
  }));
}

export async function marketSource(pg: Queryable, day: string): Promise<FigureSource | null> {
  const { rows } = await pg.query<{ import_id: string | null; pool: string | null; request: string | null; imported_at: Date | null }>(
    `SELECT m.import_id, i.pool, i.request, i.imported_at FROM market_days m LEFT JOIN pool_imports i ON i.id = m.import_id WHERE m.day = $1`,
    [day],
  );
  const r = rows[0];
  if (!r) return null;
  return r.import_id ? { source: 'api', pool: r.pool ?? undefined, request: r.request ?? undefined, importedAt: r.imported_at?.toISOString() } : { source: 'manual' };
}

/** The latest per-worker hashrate sum of each (pool, account) for the day. */
export async function poolWorkerTotals(pg: Queryable, day: string): Promise<Array<{ pool: string; account: string; totalThs: string; request: string }>> {
  const { rows } = await pg.query<{ pool: string; account: string; total_ths: string; request: string }>(
    `SELECT DISTINCT ON (pool, account) pool, account, total_ths::text, request FROM pool_imports
      WHERE day = $1 AND figure = 'worker_hashrate' ORDER BY pool, account, imported_at DESC, id DESC`,
    [day],
  );
  return rows.map((r) => ({ pool: r.pool, account: r.account, totalThs: r.total_ths, request: r.request }));
}
