/** SQL of the daily runs aggregate (daily_runs: one row per day and revision, with its frozen inputs and totals). */
import type { Queryable, Tx } from '../db';
import { satoshi } from '../db';
import type { DailyRun, DailyRunStatus } from '../domain';
import { toDailyRun, type DailyRunRow } from './rows';

/** A day's latest revision as the run reads it back; I is the frozen inputs' type (RunInputs). */
export interface StoredRun<I> {
  revision: number;
  status: DailyRunStatus;
  inputs: I;
}

export async function latestRun<I>(db: Queryable, day: string): Promise<StoredRun<I> | undefined> {
  const { rows } = await db.query<{ revision: number; status: DailyRunStatus; inputs: I }>(
    'SELECT revision, status, inputs FROM daily_runs WHERE day = $1 ORDER BY revision DESC LIMIT 1',
    [day],
  );
  return rows[0];
}

/** Records a revision's inputs as 'running' (once: a revision already there is kept). */
export async function insertRun(db: Queryable, v: { day: string; revision: number; inputs: unknown; contracts: number; revenueSat: number }): Promise<void> {
  await db.query(
    `INSERT INTO daily_runs (day, revision, status, inputs, contracts, revenue_sat) VALUES ($1, $2, 'running', $3, $4, $5) ON CONFLICT DO NOTHING`,
    [v.day, v.revision, JSON.stringify(v.inputs), v.contracts, v.revenueSat],
  );
}

export async function runTotals(db: Queryable, day: string, revision: number): Promise<{ creditedSat: number; farmSat: number }> {
  const { rows } = await db.query<{ credited_sat: string | null; farm_sat: string | null }>(
    'SELECT credited_sat, farm_sat FROM daily_runs WHERE day = $1 AND revision = $2',
    [day, revision],
  );
  return { creditedSat: satoshi(rows[0]?.credited_sat), farmSat: satoshi(rows[0]?.farm_sat) };
}

export async function markRunDone(tx: Tx, day: string, revision: number, creditedSat: number, farmSat: number): Promise<void> {
  await tx.query(`UPDATE daily_runs SET status = 'done', credited_sat = $3, farm_sat = $4, finished_at = now() WHERE day = $1 AND revision = $2`, [
    day,
    revision,
    creditedSat,
    farmSat,
  ]);
}

export async function selectRuns(db: Queryable, limit: number, offset = 0): Promise<DailyRun[]> {
  const { rows } = await db.query<DailyRunRow>(`SELECT *, to_char(day, 'YYYY-MM-DD') AS day_s FROM daily_runs ORDER BY day DESC, revision DESC LIMIT $1 OFFSET $2`, [limit, offset]);
  return rows.map(toDailyRun);
}

export async function countRuns(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM daily_runs');
  return Number(rows[0]!.n);
}

export async function doneDaysSince(db: Queryable, day: string): Promise<Set<string>> {
  const { rows } = await db.query<{ day: string }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day FROM daily_runs WHERE status = 'done' AND day >= $1`, [day]);
  return new Set(rows.map((r) => r.day));
}

/** Whether any credit of this revision of the day is in the journal (a run being finished rather than started). */
export async function revisionHasCredits(db: Queryable, day: string, revision: number): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM journal_transactions WHERE day = $1 AND kind = 'credit' AND idempotency_key LIKE '%:r' || $2::text) AS found`,
    [day, revision],
  );
  return rows[0]?.found === true;
}

/** The credit, farm-share and curtailment top-up transactions of one revision of a day not reversed yet, oldest first. */
export async function unreversedRevisionTransactions(db: Queryable, day: string, revision: number): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT t.id FROM journal_transactions t WHERE t.day = $1 AND t.kind IN ('credit', 'farm_share', 'curtailment_topup')
        AND (t.idempotency_key LIKE '%:r' || $2::text) AND NOT EXISTS (SELECT 1 FROM journal_transactions r WHERE r.reverses_id = t.id)
      ORDER BY t.created_at, t.id`,
    [day, revision],
  );
  return rows.map((r) => Number(r.id));
}
