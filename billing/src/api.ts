/**
 * The billing API the investor portal and the staff CLI build on. Every function takes a pg Pool (migrated with
 * `migrate(pool)`) and validates its input with zod; bad input throws BillingInputError with a readable message.
 *
 * Amounts: integer satoshi as JS numbers (the whole supply, 21e14 sat, is far below 2^53, so they are exact).
 * Hashrates, prices and difficulty: decimal strings, never floats. Days: 'YYYY-MM-DD' (UTC).
 * Stable contract: fields are only ever added, never renamed or removed.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { formatIssues } from '@flymining/shared';
import { z } from 'zod';
import { validateBtcAddress, type BtcNetwork } from './address';
import { inTransaction, satoshi } from './db';
import { investorAccountId, postTransactions, systemAccountId } from './ledger';

// ---------------------------------------------------------------- types

export interface Investor {
  id: string;
  name: string;
  email: string | null;
  createdAt: Date;
}

export interface Contract {
  id: string;
  investorId: string;
  hashrateThs: string;
  startDay: string;
  endDay: string; // inclusive
  maintenanceUsdPerThsDay: string;
  revenueFeePct: string;
  createdAt: Date;
}

/** What a credit was computed from: enough to recompute it by hand. */
export interface CreditInputs {
  revenueSat: number; // the whole farm's revenue for the day
  revenueSource: 'pool' | 'fpps';
  farmDeliveredThs: string; // average hashrate the farm delivered over the day
  soldThs: string; // sum of contracted TH/s active that day
  scale: string; // min(1, delivered / sold): the contract's hashrate is scaled by this
  quotaSat: string; // exact (unrounded) gross share: revenue × contracted / max(delivered, sold)
  difficulty: string | null;
  btcPriceUsd: string | null;
  maintenanceUsd: string; // fee in USD before conversion
  reachableUptime: string; // farm-wide mean(miner_up.reachable)
  hashingUptime: string; // farm-wide mean(miner_up.hashing)
}

export interface DailyCredit {
  transactionId: number;
  contractId: string;
  investorId: string;
  day: string;
  revision: number; // 1, then +1 for each recomputation that was applied
  kind: 'credit' | 'reversal'; // a reversal negates an earlier credit of the same day and contract
  contractedThs: string;
  grossSat: number;
  maintenanceFeeSat: number;
  revenueFeeSat: number;
  netSat: number; // credited to the investor's balance (negative for a reversal)
  inputs: CreditInputs;
  createdAt: Date;
}

export interface Balance {
  investorId: string;
  availableSat: number; // can be withdrawn now
  pendingPayoutSat: number; // requested or approved, not sent yet
  creditedSat: number; // all net credits minus reversals
  paidOutSat: number; // sent
}

export type PayoutStatus = 'requested' | 'approved' | 'sent' | 'rejected';

export interface Payout {
  id: number;
  investorId: string;
  amountSat: number;
  address: string;
  status: PayoutStatus;
  requestedAt: Date;
  approvedAt: Date | null;
  approvedBy: string | null;
  sentAt: Date | null;
  btcTxid: string | null;
  rejectedReason: string | null;
}

export interface DailyRun {
  day: string;
  revision: number;
  status: 'running' | 'done';
  contracts: number;
  revenueSat: number;
  creditedSat: number | null; // investors' gross
  farmSat: number | null; // farm's share (unsold or undelivered hashrate)
  inputs: Record<string, unknown>; // the frozen run inputs (see billing/README.md)
  startedAt: Date;
  finishedAt: Date | null;
}

export class BillingInputError extends Error {
  override name = 'BillingInputError';
}

export type PayoutErrorCode = 'INVALID_ADDRESS' | 'BELOW_MINIMUM' | 'INSUFFICIENT_BALANCE' | 'NOT_FOUND' | 'WRONG_STATUS';

export class PayoutError extends Error {
  override name = 'PayoutError';
  constructor(readonly code: PayoutErrorCode, message: string) {
    super(message);
  }
}

/** Smallest withdrawal (sat); FLYMINING_BILLING_MIN_PAYOUT_SAT overrides the default 0.001 BTC. */
export function minimumPayoutSat(): number {
  const env = Number(process.env.FLYMINING_BILLING_MIN_PAYOUT_SAT);
  return Number.isSafeInteger(env) && env > 0 ? env : 100_000;
}

// ---------------------------------------------------------------- validation

const idSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only, at most 64');
export const daySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a day is YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar day');
const decimalSchema = z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal number such as 100 or 12.5');
const satSchema = z.number().int('satoshi are whole numbers').nonnegative().max(21e14);

export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = formatIssues(result.error, { whole: 'value' }).join('; ');
  throw new BillingInputError(`${what}: ${issues}`);
}

// ---------------------------------------------------------------- investors and contracts

const investorSchema = z.object({ id: idSchema, name: z.string().min(1).max(200), email: z.string().email().optional() });

export async function createInvestor(pool: Pool, input: { id: string; name: string; email?: string }): Promise<Investor> {
  const v = parseInput(investorSchema, input, 'investor');
  const { rows } = await pool.query(
    'INSERT INTO investors (id, name, email) VALUES ($1, $2, $3) RETURNING *',
    [v.id, v.name, v.email ?? null],
  );
  await investorAccountId(pool, v.id);
  return toInvestor(rows[0]);
}

export async function listInvestors(pool: Pool): Promise<Investor[]> {
  const { rows } = await pool.query('SELECT * FROM investors ORDER BY id');
  return rows.map(toInvestor);
}

export async function getInvestor(pool: Pool, investorId: string): Promise<Investor | null> {
  const { rows } = await pool.query('SELECT * FROM investors WHERE id = $1', [investorId]);
  return rows[0] ? toInvestor(rows[0]) : null;
}

const contractSchema = z
  .object({
    id: idSchema,
    investorId: idSchema,
    hashrateThs: decimalSchema,
    startDay: daySchema,
    endDay: daySchema,
    maintenanceUsdPerThsDay: decimalSchema.default('0'),
    revenueFeePct: decimalSchema.default('0'),
  })
  .refine((c) => c.endDay >= c.startDay, { message: 'endDay is before startDay', path: ['endDay'] })
  .refine((c) => Number(c.hashrateThs) > 0, { message: 'must be more than 0', path: ['hashrateThs'] })
  .refine((c) => Number(c.revenueFeePct) <= 100, { message: 'at most 100', path: ['revenueFeePct'] });

export type NewContract = z.input<typeof contractSchema>;

/** Contracts are never edited (credits refer to their terms); end one early by adding no more, or ask for a new issue. */
export async function createContract(pool: Pool, input: NewContract): Promise<Contract> {
  const v = parseInput(contractSchema, input, 'contract');
  if (!(await getInvestor(pool, v.investorId))) throw new BillingInputError(`contract: investor ${v.investorId} does not exist`);
  const { rows } = await pool.query(
    `INSERT INTO contracts (id, investor_id, hashrate_ths, start_day, end_day, maintenance_usd_per_ths_day, revenue_fee_pct)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *, to_char(start_day, 'YYYY-MM-DD') AS start_s, to_char(end_day, 'YYYY-MM-DD') AS end_s`,
    [v.id, v.investorId, v.hashrateThs, v.startDay, v.endDay, v.maintenanceUsdPerThsDay, v.revenueFeePct],
  );
  return toContract(rows[0]);
}

export async function listContracts(pool: Pool, filter: { investorId?: string; activeOn?: string } = {}): Promise<Contract[]> {
  const { rows } = await pool.query(
    `SELECT *, to_char(start_day, 'YYYY-MM-DD') AS start_s, to_char(end_day, 'YYYY-MM-DD') AS end_s FROM contracts
      WHERE ($1::text IS NULL OR investor_id = $1) AND ($2::date IS NULL OR $2::date BETWEEN start_day AND end_day)
      ORDER BY investor_id, id`,
    [filter.investorId ?? null, filter.activeOn ?? null],
  );
  return rows.map(toContract);
}

// ---------------------------------------------------------------- credits and balances

/** An investor's credits and reversals, oldest first, optionally between two days (inclusive). */
export async function listDailyCredits(pool: Pool, investorId: string, range: { from?: string; to?: string } = {}): Promise<DailyCredit[]> {
  const { rows } = await pool.query(
    `SELECT *, to_char(day, 'YYYY-MM-DD') AS day_s FROM daily_credits
      WHERE investor_id = $1 AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day <= $3::date)
      ORDER BY day, contract_id, transaction_id`,
    [investorId, range.from ?? null, range.to ?? null],
  );
  return rows.map(toCredit);
}

export async function getBalance(pool: Pool, investorId: string): Promise<Balance> {
  const { rows } = await pool.query(
    `SELECT (SELECT balance_sat FROM accounts WHERE investor_id = $1) AS available,
            (SELECT coalesce(sum(amount_sat), 0) FROM payouts WHERE investor_id = $1 AND status IN ('requested', 'approved')) AS pending,
            (SELECT coalesce(sum(amount_sat), 0) FROM payouts WHERE investor_id = $1 AND status = 'sent') AS paid,
            (SELECT coalesce(sum(net_sat), 0) FROM daily_credits WHERE investor_id = $1) AS credited`,
    [investorId],
  );
  const r = rows[0];
  return {
    investorId,
    availableSat: satoshi(r.available),
    pendingPayoutSat: satoshi(r.pending),
    creditedSat: satoshi(r.credited),
    paidOutSat: satoshi(r.paid),
  };
}

export async function listDailyRuns(pool: Pool, options: { limit?: number } = {}): Promise<DailyRun[]> {
  const { rows } = await pool.query(
    `SELECT *, to_char(day, 'YYYY-MM-DD') AS day_s FROM daily_runs ORDER BY day DESC, revision DESC LIMIT $1`,
    [options.limit ?? 100],
  );
  return rows.map(
    (r): DailyRun => ({
      day: r.day_s,
      revision: r.revision,
      status: r.status,
      contracts: r.contracts,
      revenueSat: satoshi(r.revenue_sat),
      creditedSat: r.credited_sat === null ? null : satoshi(r.credited_sat),
      farmSat: r.farm_sat === null ? null : satoshi(r.farm_sat),
      inputs: r.inputs,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }),
  );
}

// ---------------------------------------------------------------- payouts

const payoutRequestSchema = z.object({
  investorId: idSchema,
  amountSat: satSchema.positive('must be more than 0'),
  address: z.string().min(1).max(100),
  /** Optional key from the client (e.g. a form nonce): the same key never creates a second payout. */
  requestKey: z.string().min(1).max(100).optional(),
});

/**
 * An investor asks to withdraw. Checks the address (checksum and network), the minimum, and the balance under a
 * row lock on the investor's account, then moves the amount from the balance to payouts:pending.
 */
export async function requestPayout(
  pool: Pool,
  input: { investorId: string; amountSat: number; address: string; requestKey?: string },
  options: { network?: BtcNetwork; minimumSat?: number } = {},
): Promise<Payout> {
  const v = parseInput(payoutRequestSchema, input, 'payout request');
  const address = v.address.trim();
  const check = validateBtcAddress(address, options.network);
  if (!check.ok) throw new PayoutError('INVALID_ADDRESS', `address ${check.reason}`);
  const minimum = options.minimumSat ?? minimumPayoutSat();
  if (v.amountSat < minimum) throw new PayoutError('BELOW_MINIMUM', `the minimum withdrawal is ${minimum} sat`);
  return inTransaction(pool, async (client) => {
    const key = `payout-request:${v.investorId}:${v.requestKey ?? randomUUID()}`;
    const existingPayout = async () =>
      (await client.query('SELECT p.* FROM payouts p JOIN journal_transactions t ON t.id = p.request_transaction_id WHERE t.idempotency_key = $1', [key])).rows[0];
    const existing = await existingPayout();
    if (existing) return toPayout(existing);
    const account = await client.query<{ id: string; balance_sat: string }>(
      'SELECT id, balance_sat FROM accounts WHERE investor_id = $1 FOR UPDATE',
      [v.investorId],
    );
    const row = account.rows[0];
    if (!row) throw new PayoutError('NOT_FOUND', `investor ${v.investorId} has no account`);
    const available = satoshi(row.balance_sat);
    if (available < v.amountSat) {
      throw new PayoutError('INSUFFICIENT_BALANCE', `balance is ${available} sat, less than the ${v.amountSat} sat requested`);
    }
    const pending = await systemAccountId(client, 'payouts:pending');
    const posted = await postTransactions(client, [
      {
        idempotencyKey: key,
        kind: 'payout_request',
        memo: `withdrawal to ${address}`,
        entries: [
          { accountId: Number(row.id), amountSat: v.amountSat },
          { accountId: pending, amountSat: -v.amountSat },
        ],
      },
    ]);
    // The same key submitted twice at once: the other request committed first, so answer with its payout.
    if (!posted.has(key)) return toPayout(await existingPayout());
    const { rows } = await client.query(
      `INSERT INTO payouts (investor_id, amount_sat, address, status, request_transaction_id) VALUES ($1, $2, $3, 'requested', $4) RETURNING *`,
      [v.investorId, v.amountSat, address, posted.get(key)],
    );
    return toPayout(rows[0]);
  });
}

export async function listPayouts(pool: Pool, filter: { investorId?: string; status?: PayoutStatus } = {}): Promise<Payout[]> {
  const { rows } = await pool.query(
    `SELECT * FROM payouts WHERE ($1::text IS NULL OR investor_id = $1) AND ($2::text IS NULL OR status = $2) ORDER BY id`,
    [filter.investorId ?? null, filter.status ?? null],
  );
  return rows.map(toPayout);
}

/** Staff queue: requested payouts, oldest first. */
export async function listPayoutsToApprove(pool: Pool): Promise<Payout[]> {
  return listPayouts(pool, { status: 'requested' });
}

const staffSchema = z.string().min(1, 'staff name is required').max(100);

export async function approvePayout(pool: Pool, payoutId: number, staff: string): Promise<Payout> {
  const by = parseInput(staffSchema, staff, 'approve payout');
  const { rows } = await pool.query(
    `UPDATE payouts SET status = 'approved', approved_at = now(), approved_by = $2 WHERE id = $1 AND status = 'requested' RETURNING *`,
    [payoutId, by],
  );
  if (rows[0]) return toPayout(rows[0]);
  throw await payoutStateError(pool, payoutId, 'approved', 'requested');
}

/** After staff broadcast the withdrawal: pending → sent in the ledger, with the Bitcoin transaction id. */
export async function markPayoutSent(pool: Pool, payoutId: number, input: { btcTxid: string; staff: string }): Promise<Payout> {
  const v = parseInput(z.object({ btcTxid: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a transaction id is 64 hex digits'), staff: staffSchema }), input, 'mark payout sent');
  return settle(pool, payoutId, 'sent', ['approved'], v.btcTxid.toLowerCase(), null);
}

/** Refuses a requested or approved payout; the amount goes back to the investor's balance. */
export async function rejectPayout(pool: Pool, payoutId: number, input: { reason: string; staff: string }): Promise<Payout> {
  const v = parseInput(z.object({ reason: z.string().min(1).max(500), staff: staffSchema }), input, 'reject payout');
  return settle(pool, payoutId, 'rejected', ['requested', 'approved'], null, `${v.reason} (${v.staff})`);
}

async function settle(pool: Pool, payoutId: number, to: 'sent' | 'rejected', from: PayoutStatus[], txid: string | null, reason: string | null): Promise<Payout> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query('SELECT * FROM payouts WHERE id = $1 FOR UPDATE', [payoutId]);
    const payout = rows[0];
    if (!payout) throw new PayoutError('NOT_FOUND', `payout ${payoutId} does not exist`);
    if (!from.includes(payout.status)) throw new PayoutError('WRONG_STATUS', `payout ${payoutId} is ${payout.status}, not ${from.join(' or ')}`);
    const amount = satoshi(payout.amount_sat);
    const pending = await systemAccountId(client, 'payouts:pending');
    const other = to === 'sent' ? await systemAccountId(client, 'payouts:sent') : await investorAccountId(client, payout.investor_id);
    const key = `payout-${to}:${payoutId}`;
    const posted = await postTransactions(client, [
      {
        idempotencyKey: key,
        kind: to === 'sent' ? 'payout_sent' : 'payout_rejected',
        memo: to === 'sent' ? `sent in ${txid}` : `rejected: ${reason}`,
        entries: [
          { accountId: pending, amountSat: amount },
          { accountId: other, amountSat: -amount },
        ],
      },
    ]);
    const updated = await client.query(
      `UPDATE payouts SET status = $2, sent_at = CASE WHEN $2 = 'sent' THEN now() END, btc_txid = $3, rejected_reason = $4, settle_transaction_id = $5
        WHERE id = $1 RETURNING *`,
      [payoutId, to, txid, reason, posted.get(key)],
    );
    return toPayout(updated.rows[0]);
  });
}

async function payoutStateError(pool: Pool, payoutId: number, to: string, from: string): Promise<PayoutError> {
  const { rows } = await pool.query<{ status: string }>('SELECT status FROM payouts WHERE id = $1', [payoutId]);
  if (!rows[0]) return new PayoutError('NOT_FOUND', `payout ${payoutId} does not exist`);
  return new PayoutError('WRONG_STATUS', `payout ${payoutId} is ${rows[0].status}: only a ${from} payout can be ${to}`);
}

// ---------------------------------------------------------------- row mapping

/* eslint-disable @typescript-eslint/no-explicit-any -- pg rows are untyped; these mappers are the boundary. */
function toInvestor(r: any): Investor {
  return { id: r.id, name: r.name, email: r.email, createdAt: r.created_at };
}

function toContract(r: any): Contract {
  return {
    id: r.id,
    investorId: r.investor_id,
    hashrateThs: r.hashrate_ths,
    startDay: r.start_s,
    endDay: r.end_s,
    maintenanceUsdPerThsDay: r.maintenance_usd_per_ths_day,
    revenueFeePct: r.revenue_fee_pct,
    createdAt: r.created_at,
  };
}

function toCredit(r: any): DailyCredit {
  return {
    transactionId: Number(r.transaction_id),
    contractId: r.contract_id,
    investorId: r.investor_id,
    day: r.day_s,
    revision: r.revision,
    kind: r.kind,
    contractedThs: r.contracted_ths,
    grossSat: satoshi(r.gross_sat),
    maintenanceFeeSat: satoshi(r.maintenance_fee_sat),
    revenueFeeSat: satoshi(r.revenue_fee_sat),
    netSat: satoshi(r.net_sat),
    inputs: r.inputs,
    createdAt: r.created_at,
  };
}

function toPayout(r: any): Payout {
  return {
    id: Number(r.id),
    investorId: r.investor_id,
    amountSat: satoshi(r.amount_sat),
    address: r.address,
    status: r.status,
    requestedAt: r.requested_at,
    approvedAt: r.approved_at,
    approvedBy: r.approved_by,
    sentAt: r.sent_at,
    btcTxid: r.btc_txid,
    rejectedReason: r.rejected_reason,
  };
}
