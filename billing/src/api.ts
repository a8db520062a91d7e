/**
 * The billing API the investor portal and the staff CLI build on (api → services → store). Every function takes
 * a pg Pool (migrated with `migrate(pool)`), validates its input with the domain's zod schemas (bad input throws
 * BillingInputError naming the field) and opens the transaction a service runs in.
 *
 * Amounts: integer satoshi as JS numbers. Hashrates, prices and difficulty: decimal strings, never floats.
 * Days: 'YYYY-MM-DD' (UTC). Stable contract: fields are only ever added, never renamed or removed.
 */
import type { Pool } from 'pg';
import type { BtcNetwork } from './address';
import { inTransaction } from './db';
import {
  BillingInputError,
  contractSchema,
  investorSchema,
  markSentSchema,
  parseInput,
  payoutRequestSchema,
  rejectSchema,
  staffSchema,
  type Balance,
  type Contract,
  type DailyCredit,
  type DailyRun,
  type Investor,
  type NewContract,
  type NewInvestor,
  type Payout,
  type PayoutRequest,
  type PayoutStatus,
} from './domain';
import { approvePayoutIn, checkPayoutRequest, requestPayoutIn, settlePayoutIn } from './services/payouts';
import { investorAccountId, selectBalance } from './store/accounts';
import { insertContract, selectContracts } from './store/contracts';
import { selectCredits } from './store/credits';
import { insertInvestor, selectInvestor, selectInvestors } from './store/investors';
import { selectPayouts } from './store/payouts';
import { selectRuns } from './store/runs';

export * from './domain';
export { minimumPayoutSat } from './services/payouts';

// ---------------------------------------------------------------- investors and contracts

export async function createInvestor(pool: Pool, input: NewInvestor): Promise<Investor> {
  const v = parseInput(investorSchema, input, 'investor');
  const investor = await insertInvestor(pool, v);
  await investorAccountId(pool, v.id);
  return investor;
}

export async function listInvestors(pool: Pool): Promise<Investor[]> {
  return selectInvestors(pool);
}

export async function getInvestor(pool: Pool, investorId: string): Promise<Investor | null> {
  return selectInvestor(pool, investorId);
}

/** A new contract; afterwards it changes only through src/contracts.ts (end early, extend, change fee), which re-allocates credited days. */
export async function createContract(pool: Pool, input: NewContract): Promise<Contract> {
  const v = parseInput(contractSchema, input, 'contract');
  if (!(await selectInvestor(pool, v.investorId))) throw new BillingInputError(`contract: investor ${v.investorId} does not exist`);
  return insertContract(pool, v);
}

export async function listContracts(pool: Pool, filter: { investorId?: string; activeOn?: string } = {}): Promise<Contract[]> {
  return selectContracts(pool, filter);
}

// ---------------------------------------------------------------- credits and balances

/** An investor's credits and reversals, oldest first, optionally between two days (inclusive). */
export async function listDailyCredits(pool: Pool, investorId: string, range: { from?: string; to?: string } = {}): Promise<DailyCredit[]> {
  return selectCredits(pool, investorId, range);
}

export async function getBalance(pool: Pool, investorId: string): Promise<Balance> {
  const b = await selectBalance(pool, investorId);
  return { investorId, availableSat: b.available, pendingPayoutSat: b.pending, creditedSat: b.credited, paidOutSat: b.paid, owedSat: b.owed };
}

export async function listDailyRuns(pool: Pool, options: { limit?: number } = {}): Promise<DailyRun[]> {
  return selectRuns(pool, options.limit ?? 100);
}

// ---------------------------------------------------------------- payouts (the state machine is services/payouts.ts)

/**
 * An investor asks to withdraw. Checks the address (checksum and network), the minimum, and the balance under a
 * row lock on the investor's account, then moves the amount from the balance to payouts:pending.
 */
export async function requestPayout(pool: Pool, input: PayoutRequest, options: { network?: BtcNetwork; minimumSat?: number } = {}): Promise<Payout> {
  const v = parseInput(payoutRequestSchema, input, 'payout request');
  const address = checkPayoutRequest(v, options);
  return inTransaction(pool, (tx) => requestPayoutIn(tx, { ...v, address }));
}

export async function listPayouts(pool: Pool, filter: { investorId?: string; status?: PayoutStatus } = {}): Promise<Payout[]> {
  return selectPayouts(pool, filter);
}

/** Staff queue: requested payouts, oldest first. */
export async function listPayoutsToApprove(pool: Pool): Promise<Payout[]> {
  return selectPayouts(pool, { status: 'requested' });
}

export async function approvePayout(pool: Pool, payoutId: number, staff: string): Promise<Payout> {
  const by = parseInput(staffSchema, staff, 'approve payout');
  return inTransaction(pool, (tx) => approvePayoutIn(tx, payoutId, by));
}

/** After staff broadcast the withdrawal: pending → sent in the ledger, with the Bitcoin transaction id. */
export async function markPayoutSent(pool: Pool, payoutId: number, input: { btcTxid: string; staff: string }): Promise<Payout> {
  const v = parseInput(markSentSchema, input, 'mark payout sent');
  return inTransaction(pool, (tx) => settlePayoutIn(tx, payoutId, 'sent', { txid: v.btcTxid.toLowerCase(), reason: null }));
}

/** Refuses a requested or approved payout; the amount goes back to the investor's balance. */
export async function rejectPayout(pool: Pool, payoutId: number, input: { reason: string; staff: string }): Promise<Payout> {
  const v = parseInput(rejectSchema, input, 'reject payout');
  return inTransaction(pool, (tx) => settlePayoutIn(tx, payoutId, 'rejected', { txid: null, reason: `${v.reason} (${v.staff})` }));
}
