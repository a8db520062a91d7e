/** SQL of the daily credits aggregate (daily_credits: one row per credit or reversal transaction). */
import { pgArrayLiteral } from '@flymining/shared/src/pg/array-literal';
import type { Queryable, Tx } from '../db';
import { postingParts, type NewTransaction, type PreparedPosting } from '../ledger';
import { satoshi } from '../db';
import type { CreditInputs, DailyCredit } from '../domain';
import { toCredit, type CreditRow } from './rows';

/** The part of CreditInputs every credit of one run shares. */
export type RunCreditInputs = Omit<CreditInputs, 'quotaSat' | 'maintenanceUsd'>;

/** A credit to record beside its journal transaction, with the inputs particular to it. */
export interface NewCredit {
  transactionId: number;
  contractId: string;
  investorId: string;
  contractedThs: string;
  grossSat: number;
  maintenanceFeeSat: number;
  revenueFeeSat: number;
  netSat: number;
  quotaSat: string;
  maintenanceUsd: string;
}

/**
 * An investor's credits and reversals, oldest first, optionally between two days (inclusive). A contract's day
 * reads in the order it was booked: revision 1's credit, its reversal, revision 2's credit, and so on.
 */
export async function selectCredits(db: Queryable, investorId: string, range: { from?: string; to?: string } = {}): Promise<DailyCredit[]> {
  const { rows } = await db.query<CreditRow>(
    `SELECT *, to_char(day, 'YYYY-MM-DD') AS day_s FROM daily_credit_records
      WHERE investor_id = $1 AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day <= $3::date)
      ORDER BY day, contract_id, revision, kind`,
    [investorId, range.from ?? null, range.to ?? null],
  );
  return rows.map(toCredit);
}

const CREDIT_COLUMNS =
  'transaction_id, contract_id, investor_id, day, revision, kind, contracted_ths, gross_sat, maintenance_fee_sat, revenue_fee_sat, net_sat, inputs';

/**
 * The credit records' rows from parameters $p.. (see creditValues), the k-th row `u` with ordinality u.k, and
 * `transactionId` the SQL of its journal transaction's id. Each record keeps only the inputs particular to it (its
 * quota and maintenance charge); what the run's credits share is stored once (recordRunCreditInputs).
 */
function creditRows(transactionId: string, p: number): string {
  return `SELECT ${transactionId}, u.c, u.i, $${p}::date, $${p + 1}::int, 'credit', u.h, u.g, u.m, u.r, u.n,
            jsonb_build_object('quotaSat', u.q, 'maintenanceUsd', u.mu)
       FROM unnest($${p + 2}::text[], $${p + 3}::text[], $${p + 4}::numeric[], $${p + 5}::bigint[], $${p + 6}::bigint[], $${p + 7}::bigint[],
                   $${p + 8}::bigint[], $${p + 9}::text[], $${p + 10}::text[]) WITH ORDINALITY AS u(c, i, h, g, m, r, n, q, mu, k)`;
}

function creditValues(day: string, revision: number, credits: readonly CreditOfTransaction[]): string[] {
  return [
    day,
    String(revision),
    pgArrayLiteral(credits.map((c) => c.contractId)),
    pgArrayLiteral(credits.map((c) => c.investorId)),
    pgArrayLiteral(credits.map((c) => c.contractedThs)),
    pgArrayLiteral(credits.map((c) => c.grossSat)),
    pgArrayLiteral(credits.map((c) => c.maintenanceFeeSat)),
    pgArrayLiteral(credits.map((c) => c.revenueFeeSat)),
    pgArrayLiteral(credits.map((c) => c.netSat)),
    pgArrayLiteral(credits.map((c) => c.quotaSat)),
    pgArrayLiteral(credits.map((c) => c.maintenanceUsd)),
  ];
}

/**
 * Stores what every credit of one revision of a day shares, once, before its first credit record: readers see it
 * joined to each record's own inputs (daily_credit_records). A revision being finished after a crash finds it
 * there already; it is computed from the same frozen inputs, so the first one written stands.
 */
export async function recordRunCreditInputs(db: Queryable, day: string, revision: number, shared: RunCreditInputs): Promise<void> {
  await db.query('INSERT INTO credit_run_inputs (day, revision, inputs) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [day, revision, JSON.stringify(shared)]);
}

/** Records a chunk of one day's credits of one revision (one statement), beside journal transactions already posted. */
export async function insertCredits(tx: Tx, day: string, revision: number, credits: readonly NewCredit[]): Promise<void> {
  await tx.query(
    `INSERT INTO daily_credits (${CREDIT_COLUMNS})
     ${creditRows('t.id', 2)} JOIN unnest($1::bigint[]) WITH ORDINALITY AS t(id, k) ON t.k = u.k`,
    [pgArrayLiteral(credits.map((c) => c.transactionId)), ...creditValues(day, revision, credits)],
  );
}

/** A credit to record with the journal transaction that books it, in the same statement. */
export type CreditOfTransaction = Omit<NewCredit, 'transactionId'>;

/**
 * One statement that posts a chunk of one day's credit transactions (none of whose keys is in the journal yet:
 * see postingParts) and records each beside its transaction: `credits[k]` is booked by `txns[k]`. Built before
 * anything is sent (pure), so a caller may build the next chunk's while the database works on this one.
 */
export function prepareCreditsPosting(
  day: string,
  revision: number,
  txns: readonly NewTransaction[],
  credits: readonly CreditOfTransaction[],
): PreparedPosting {
  if (txns.length !== credits.length) throw new Error(`${txns.length} credit transactions for ${credits.length} credits`);
  const journal = postingParts(txns);
  return {
    text: `WITH ${journal.ctes}, credits AS (
       INSERT INTO daily_credits (${CREDIT_COLUMNS})
       ${creditRows('i.id', journal.values.length + 1)} JOIN journal_ids i ON i.n = u.k
     )
     SELECT count(*)::int AS posted FROM journal_ids`,
    values: [...journal.values, ...creditValues(day, revision, credits)],
  };
}

/** Records the reversal transactions just posted as negated copies of the credits they reverse. */
export async function insertReversals(tx: Tx, reversalTransactionIds: readonly number[]): Promise<void> {
  await tx.query(
    `INSERT INTO daily_credits (transaction_id, contract_id, investor_id, day, revision, kind, contracted_ths, gross_sat, maintenance_fee_sat, revenue_fee_sat, net_sat, inputs)
     SELECT r.id, c.contract_id, c.investor_id, c.day, c.revision, 'reversal', c.contracted_ths, -c.gross_sat, -c.maintenance_fee_sat, -c.revenue_fee_sat, -c.net_sat, c.inputs
       FROM journal_transactions r JOIN daily_credits c ON c.transaction_id = r.reverses_id WHERE r.id = ANY($1::bigint[])`,
    [[...reversalTransactionIds]],
  );
}

/** Net credit per contract of one revision of a day. */
export async function netByContract(db: Queryable, day: string, revision: number): Promise<Map<string, number>> {
  const { rows } = await db.query<{ contract_id: string; net_sat: string }>(
    `SELECT contract_id, net_sat FROM daily_credits WHERE day = $1 AND revision = $2 AND kind = 'credit'`,
    [day, revision],
  );
  return new Map(rows.map((r) => [r.contract_id, satoshi(r.net_sat)]));
}
