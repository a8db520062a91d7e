/**
 * Second opinion on delivered hashrate: the farm's measured figure (InfluxDB) against the sum of the pool's
 * per-worker hashrate for the day. A gap beyond the tolerance (FLYMINING_BILLING_POOL_GAP_PCT, default 5 %) blocks
 * freezing the day until staff accept it with a reason (`flymining billing run --accept-pool-gap REASON`). Every
 * check is recorded in pool_hashrate_checks; a blocked day writes nothing else.
 */
import { BillingDecimal as D } from '../fpps';
import type { Queryable } from '../db';
import { poolWorkerTotals } from './store';

export interface HashrateCheck {
  day: string;
  measuredThs: string;
  poolThs: string;
  gapPct: string;
  tolerancePct: string;
  outcome: 'within' | 'blocked' | 'accepted';
  reason: string | null;
  pools: Array<{ pool: string; account: string; totalThs: string; request: string }>;
  checkedAt?: string;
}

export class PoolHashrateGapError extends Error {
  override name = 'PoolHashrateGapError';
  constructor(readonly check: HashrateCheck) {
    super(
      `${check.day}: the farm measured ${check.measuredThs} TH/s but the pool's workers sum to ${check.poolThs} TH/s, ` +
        `a gap of ${check.gapPct} % (tolerance ${check.tolerancePct} %); the day is not credited. Check the miners and the pool, ` +
        `then re-import or run 'flymining billing run --date ${check.day} --accept-pool-gap "<reason>"'`,
    );
  }
}

/**
 * Compares and records; throws PoolHashrateGapError on a gap beyond the tolerance unless `acceptReason` is
 * given. Returns undefined when no pool hashrate was imported for the day (nothing to compare).
 */
export async function checkPoolHashrate(
  db: Queryable,
  day: string,
  measuredThs: string,
  opts: { tolerancePct?: string; acceptReason?: string } = {},
): Promise<HashrateCheck | undefined> {
  const pools = await poolWorkerTotals(db, day);
  if (pools.length === 0) return undefined;
  const tolerancePct = opts.tolerancePct ?? '5';
  const measured = new D(measuredThs);
  const pool = pools.reduce((s, p) => s.add(p.totalThs), new D(0));
  // Relative to the farm's figure; a farm that measured nothing against a pool that saw hashes is a full gap.
  const gap = measured.isZero() ? (pool.isZero() ? new D(0) : new D(100)) : pool.sub(measured).abs().div(measured).mul(100);
  const beyond = gap.gt(tolerancePct);
  const outcome: HashrateCheck['outcome'] = !beyond ? 'within' : opts.acceptReason ? 'accepted' : 'blocked';
  const check: HashrateCheck = {
    day,
    measuredThs: measured.toDecimalPlaces(6).toString(),
    poolThs: pool.toDecimalPlaces(6).toString(),
    gapPct: gap.toDecimalPlaces(2).toString(),
    tolerancePct,
    outcome,
    reason: outcome === 'accepted' ? opts.acceptReason! : null,
    pools,
  };
  await db.query(
    `INSERT INTO pool_hashrate_checks (day, measured_ths, pool_ths, gap_pct, tolerance_pct, outcome, reason, pools) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [day, check.measuredThs, check.poolThs, check.gapPct, tolerancePct, outcome, check.reason, JSON.stringify(pools)],
  );
  if (outcome === 'blocked') throw new PoolHashrateGapError(check);
  return check;
}

export async function listHashrateChecks(db: Queryable, opts: { outcome?: HashrateCheck['outcome']; limit?: number } = {}): Promise<HashrateCheck[]> {
  const { rows } = await db.query<{
    day: string; measured_ths: string; pool_ths: string; gap_pct: string; tolerance_pct: string; outcome: HashrateCheck['outcome']; reason: string | null; pools: HashrateCheck['pools']; checked_at: Date;
  }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, measured_ths::text, pool_ths::text, gap_pct::text, tolerance_pct::text, outcome, reason, pools, checked_at
       FROM pool_hashrate_checks WHERE ($1::text IS NULL OR outcome = $1) ORDER BY checked_at DESC, id DESC LIMIT $2`,
    [opts.outcome ?? null, opts.limit ?? 100],
  );
  return rows.map((r) => ({
    day: r.day, measuredThs: r.measured_ths, poolThs: r.pool_ths, gapPct: r.gap_pct, tolerancePct: r.tolerance_pct, outcome: r.outcome, reason: r.reason, pools: r.pools, checkedAt: r.checked_at.toISOString(),
  }));
}
