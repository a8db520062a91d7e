/**
 * Contract lifecycle: end a contract early, extend it, change its fees from a day on. Each change is one database
 * transaction under the run lock: the contract's terms change, every day already credited that the change touches
 * is re-allocated from its frozen inputs as a new revision (the previous revision reversed, new credits posted:
 * balanced like any correction), and the change is recorded in contract_changes with who, why, the terms before
 * and after and the days re-allocated. Credits taken back from an investor who already withdrew them become an
 * amount owed, recovered from later credits (services/position.ts), never a negative balance.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { inTransaction, type Queryable, type Tx } from './db';
import { BillingInputError, daySchema, decimalSchema, idSchema, parseInput, staffSchema } from './domain';
import { freezeRun, latestDayRun, postRun, soldThs, within } from './services/daily-run';
import { activeContractTerms } from './store/contracts';
import { withRunLock } from './run';

export type ContractChangeKind = 'end_early' | 'extend' | 'change_fee';

export interface ContractChange {
  id: number;
  contractId: string;
  kind: ContractChangeKind;
  effectiveDay: string;
  before: ContractTermsRecord;
  after: ContractTermsRecord;
  staff: string;
  reason: string;
  /** Days already credited that were re-allocated, each as a new revision. */
  daysReallocated: string[];
  changedAt: Date;
}

export interface ContractTermsRecord {
  endDay: string;
  maintenanceUsdPerThsDay: string;
  revenueFeePct: string;
}

const who = { staff: staffSchema, reason: z.string().trim().min(1, 'say why').max(500) };
const endSchema = z.object({ contractId: idSchema, lastDay: daySchema, ...who });
const feeSchema = z
  .object({ contractId: idSchema, fromDay: daySchema, maintenanceUsdPerThsDay: decimalSchema.optional(), revenueFeePct: decimalSchema.optional(), ...who })
  .refine((v) => v.maintenanceUsdPerThsDay !== undefined || v.revenueFeePct !== undefined, { message: 'give a new maintenance fee or revenue fee', path: ['revenueFeePct'] })
  .refine((v) => v.revenueFeePct === undefined || Number(v.revenueFeePct) <= 100, { message: 'at most 100', path: ['revenueFeePct'] });

interface LockedContract extends ContractTermsRecord {
  id: string;
  startDay: string;
}

async function lockContract(tx: Tx, id: string): Promise<LockedContract> {
  const { rows } = await tx.query<{ id: string; start_s: string; end_s: string; maintenance_usd_per_ths_day: string; revenue_fee_pct: string }>(
    `SELECT id, to_char(start_day, 'YYYY-MM-DD') AS start_s, to_char(end_day, 'YYYY-MM-DD') AS end_s, maintenance_usd_per_ths_day::text, revenue_fee_pct::text
       FROM contracts WHERE id = $1 FOR UPDATE`,
    [id],
  );
  const r = rows[0];
  if (!r) throw new BillingInputError(`contractId: contract ${id} does not exist`);
  return { id: r.id, startDay: r.start_s, endDay: r.end_s, maintenanceUsdPerThsDay: r.maintenance_usd_per_ths_day, revenueFeePct: r.revenue_fee_pct };
}

/** Days between from and to (inclusive) that have a run; refuses when one is unfinished (it must finish first). */
async function runDaysBetween(tx: Tx, from: string, to: string): Promise<string[]> {
  const { rows } = await tx.query<{ day: string; status: string }>(
    `SELECT DISTINCT ON (day) to_char(day, 'YYYY-MM-DD') AS day, status FROM daily_runs WHERE day BETWEEN $1 AND $2 ORDER BY day, revision DESC`,
    [from, to],
  );
  const unfinished = rows.filter((r) => r.status !== 'done').map((r) => r.day);
  if (unfinished.length) throw new BillingInputError(`the runs of ${unfinished.join(', ')} are not finished: run them (flymining billing run --date D) before changing the contract`);
  return rows.map((r) => r.day);
}

/** A credited day allocated again from its frozen inputs over today's contract terms, as the next revision. */
async function reallocateDay(tx: Tx, day: string): Promise<void> {
  const run = await latestDayRun(tx, day);
  if (!run) return;
  const contracts = await activeContractTerms(tx, day);
  const inputs = { ...run.inputs, contracts: contracts.length, soldThs: soldThs(contracts) };
  await postRun(within(tx), await freezeRun(tx, inputs, run.revision + 1), {});
}

const addDay = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

async function change(
  pool: Pool,
  contractId: string,
  kind: ContractChangeKind,
  staff: string,
  reason: string,
  apply: (tx: Tx, before: LockedContract) => Promise<{ effectiveDay: string; after: ContractTermsRecord; affected: [from: string, to: string] | null }>,
): Promise<ContractChange> {
  const result = await withRunLock(pool, () =>
    inTransaction(pool, async (tx) => {
      const before = await lockContract(tx, contractId);
      const { effectiveDay, after, affected } = await apply(tx, before);
      const days = affected ? await runDaysBetween(tx, affected[0], affected[1]) : [];
      for (const day of days) await reallocateDay(tx, day);
      const { rows } = await tx.query<{ id: string; changed_at: Date }>(
        `INSERT INTO contract_changes (contract_id, kind, effective_day, before, after, staff, reason, days_reallocated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, changed_at`,
        [contractId, kind, effectiveDay, JSON.stringify(termsOf(before)), JSON.stringify(after), staff, reason, days],
      );
      return { id: Number(rows[0]!.id), contractId, kind, effectiveDay, before: termsOf(before), after, staff, reason, daysReallocated: days, changedAt: rows[0]!.changed_at };
    }),
  );
  if (!result) throw new BillingInputError('a daily run holds the run lock right now; try again in a moment');
  return result;
}

const termsOf = (c: ContractTermsRecord): ContractTermsRecord => ({ endDay: c.endDay, maintenanceUsdPerThsDay: c.maintenanceUsdPerThsDay, revenueFeePct: c.revenueFeePct });

/** Ends a contract after `lastDay` (earlier than its end); days after it already credited are taken back. */
export async function endContractEarly(pool: Pool, input: { contractId: string; lastDay: string; staff: string; reason: string }): Promise<ContractChange> {
  const v = parseInput(endSchema, input, 'end contract');
  return change(pool, v.contractId, 'end_early', v.staff, v.reason, async (tx, c) => {
    if (v.lastDay >= c.endDay) throw new BillingInputError(`lastDay: ${v.lastDay} is not before the contract's end (${c.endDay}); extend it instead`);
    if (v.lastDay < c.startDay) throw new BillingInputError(`lastDay: ${v.lastDay} is before the contract's start (${c.startDay})`);
    await tx.query('UPDATE contracts SET end_day = $2 WHERE id = $1', [c.id, v.lastDay]);
    return { effectiveDay: addDay(v.lastDay, 1), after: { ...termsOf(c), endDay: v.lastDay }, affected: [addDay(v.lastDay, 1), c.endDay] };
  });
}

/** Extends a contract to `lastDay`; days already run in between (an extension back-dated) are credited now. */
export async function extendContract(pool: Pool, input: { contractId: string; lastDay: string; staff: string; reason: string }): Promise<ContractChange> {
  const v = parseInput(endSchema, input, 'extend contract');
  return change(pool, v.contractId, 'extend', v.staff, v.reason, async (tx, c) => {
    if (v.lastDay <= c.endDay) throw new BillingInputError(`lastDay: ${v.lastDay} is not after the contract's end (${c.endDay}); end it early instead`);
    await tx.query('UPDATE contracts SET end_day = $2 WHERE id = $1', [c.id, v.lastDay]);
    return { effectiveDay: addDay(c.endDay, 1), after: { ...termsOf(c), endDay: v.lastDay }, affected: [addDay(c.endDay, 1), v.lastDay] };
  });
}

/**
 * New fees from `fromDay` on (the days before keep theirs: recorded in contract_fee_terms); days from then on that
 * were credited already are re-allocated with the new fees.
 */
export async function changeContractFee(
  pool: Pool,
  input: { contractId: string; fromDay: string; maintenanceUsdPerThsDay?: string; revenueFeePct?: string; staff: string; reason: string },
): Promise<ContractChange> {
  const v = parseInput(feeSchema, input, 'change fee');
  return change(pool, v.contractId, 'change_fee', v.staff, v.reason, async (tx, c) => {
    if (v.fromDay < c.startDay || v.fromDay > c.endDay) throw new BillingInputError(`fromDay: ${v.fromDay} is outside the contract (${c.startDay} to ${c.endDay})`);
    const after = { ...termsOf(c), maintenanceUsdPerThsDay: v.maintenanceUsdPerThsDay ?? c.maintenanceUsdPerThsDay, revenueFeePct: v.revenueFeePct ?? c.revenueFeePct };
    // The terms so far become the first period, so the days before fromDay keep them.
    await tx.query(
      `INSERT INTO contract_fee_terms (contract_id, from_day, maintenance_usd_per_ths_day, revenue_fee_pct) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [c.id, c.startDay, c.maintenanceUsdPerThsDay, c.revenueFeePct],
    );
    await tx.query(
      `INSERT INTO contract_fee_terms (contract_id, from_day, maintenance_usd_per_ths_day, revenue_fee_pct) VALUES ($1, $2, $3, $4)
       ON CONFLICT (contract_id, from_day) DO UPDATE SET maintenance_usd_per_ths_day = EXCLUDED.maintenance_usd_per_ths_day, revenue_fee_pct = EXCLUDED.revenue_fee_pct`,
      [c.id, v.fromDay, after.maintenanceUsdPerThsDay, after.revenueFeePct],
    );
    // The contract row shows the terms in force last (those of the latest period).
    await tx.query(
      `UPDATE contracts c SET maintenance_usd_per_ths_day = t.maintenance_usd_per_ths_day, revenue_fee_pct = t.revenue_fee_pct
         FROM (SELECT maintenance_usd_per_ths_day, revenue_fee_pct FROM contract_fee_terms WHERE contract_id = $1 ORDER BY from_day DESC LIMIT 1) t WHERE c.id = $1`,
      [c.id],
    );
    return { effectiveDay: v.fromDay, after, affected: [v.fromDay, c.endDay] };
  });
}

/** The audit of contract changes, newest first (one contract's, or all). */
export async function listContractChanges(db: Queryable, contractId?: string): Promise<ContractChange[]> {
  const { rows } = await db.query<{
    id: string;
    contract_id: string;
    kind: ContractChangeKind;
    effective_s: string;
    before: ContractTermsRecord;
    after: ContractTermsRecord;
    staff: string;
    reason: string;
    days_reallocated: string[];
    changed_at: Date;
  }>(
    `SELECT *, to_char(effective_day, 'YYYY-MM-DD') AS effective_s FROM contract_changes WHERE ($1::text IS NULL OR contract_id = $1) ORDER BY id DESC`,
    [contractId ?? null],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    contractId: r.contract_id,
    kind: r.kind,
    effectiveDay: r.effective_s,
    before: r.before,
    after: r.after,
    staff: r.staff,
    reason: r.reason,
    daysReallocated: r.days_reallocated,
    changedAt: r.changed_at,
  }));
}
