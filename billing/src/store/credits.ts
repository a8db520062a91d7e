/** SQL of the daily credits aggregate (daily_credits: one row per credit or reversal transaction). */
import type { Queryable, Tx } from '../db';
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

/** An investor's credits and reversals, oldest first, optionally between two days (inclusive). */
export async function selectCredits(db: Queryable, investorId: string, range: { from?: string; to?: string } = {}): Promise<DailyCredit[]> {
  const { rows } = await db.query<CreditRow>(
    `SELECT *, to_char(day, 'YYYY-MM-DD') AS day_s FROM daily_credits
      WHERE investor_id = $1 AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day <= $3::date)
      ORDER BY day, contract_id, transaction_id`,
    [investorId, range.from ?? null, range.to ?? null],
  );
  return rows.map(toCredit);
}

/**
 * Records a chunk of one day's credits of one revision (one statement). Each row's inputs are the run's shared
 * ones plus its own quota and maintenance charge, joined by the server: the shared part is sent once.
 */
export async function insertCredits(tx: Tx, day: string, revision: number, shared: RunCreditInputs, credits: readonly NewCredit[]): Promise<void> {
  await tx.query(
    `INSERT INTO daily_credits (transaction_id, contract_id, investor_id, day, revision, kind, contracted_ths, gross_sat, maintenance_fee_sat, revenue_fee_sat, net_sat, inputs)
     SELECT t, c, i, $1::date, $2::int, 'credit', h, g, m, r, n, $3::jsonb || jsonb_build_object('quotaSat', q, 'maintenanceUsd', mu)
       FROM unnest($4::bigint[], $5::text[], $6::text[], $7::numeric[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[], $13::text[])
       AS u(t, c, i, h, g, m, r, n, q, mu)`,
    [
      day,
      revision,
      JSON.stringify(shared),
      credits.map((c) => c.transactionId),
      credits.map((c) => c.contractId),
      credits.map((c) => c.investorId),
      credits.map((c) => c.contractedThs),
      credits.map((c) => c.grossSat),
      credits.map((c) => c.maintenanceFeeSat),
      credits.map((c) => c.revenueFeeSat),
      credits.map((c) => c.netSat),
      credits.map((c) => c.quotaSat),
      credits.map((c) => c.maintenanceUsd),
    ],
  );
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
