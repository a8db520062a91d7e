/**
 * The payout state machine: requested → approved → sent, or requested/approved → rejected, each move posted to
 * the journal. Every function takes the transaction it runs in (its caller opens and commits it) and input that
 * the API layer has already validated.
 */
import { randomUUID } from 'node:crypto';
import { validateBtcAddress, type BtcNetwork } from '../address';
import type { Tx } from '../db';
import { PayoutError, type Payout, type PayoutStatus } from '../domain';
import { postTransactions } from '../ledger';
import { investorAccountId, lockInvestorAccount, systemAccountId } from '../store/accounts';
import { approveRequested, insertPayout, lockPayout, payoutByRequestKey, payoutStatus, settlePayoutRow } from '../store/payouts';

/** Which statuses a payout may move to, from which. */
export const PAYOUT_MOVES = {
  approved: ['requested'],
  sent: ['approved'],
  rejected: ['requested', 'approved'],
} as const satisfies Record<Exclude<PayoutStatus, 'requested'>, readonly PayoutStatus[]>;

/** Smallest withdrawal (sat); FLYMINING_BILLING_MIN_PAYOUT_SAT overrides the default 0.001 BTC. */
export function minimumPayoutSat(): number {
  const env = Number(process.env.FLYMINING_BILLING_MIN_PAYOUT_SAT);
  return Number.isSafeInteger(env) && env > 0 ? env : 100_000;
}

/** Checks made before any transaction is opened: the address (checksum and network) and the minimum. */
export function checkPayoutRequest(v: { amountSat: number; address: string }, options: { network?: BtcNetwork; minimumSat?: number }): string {
  const address = v.address.trim();
  const check = validateBtcAddress(address, options.network);
  if (!check.ok) throw new PayoutError('INVALID_ADDRESS', `address ${check.reason}`);
  const minimum = options.minimumSat ?? minimumPayoutSat();
  if (v.amountSat < minimum) throw new PayoutError('BELOW_MINIMUM', `the minimum withdrawal is ${minimum} sat`);
  return address;
}

/**
 * Checks the balance under a row lock on the investor's account, then moves the amount from the balance to
 * payouts:pending and records the payout. The same request key answers with the payout it made before.
 */
export async function requestPayoutIn(tx: Tx, v: { investorId: string; amountSat: number; address: string; requestKey?: string }): Promise<Payout> {
  const key = `payout-request:${v.investorId}:${v.requestKey ?? randomUUID()}`;
  const existing = await payoutByRequestKey(tx, key);
  if (existing) return existing;
  const account = await lockInvestorAccount(tx, v.investorId);
  if (!account) throw new PayoutError('NOT_FOUND', `investor ${v.investorId} has no account`);
  if (account.balanceSat < v.amountSat) {
    throw new PayoutError('INSUFFICIENT_BALANCE', `balance is ${account.balanceSat} sat, less than the ${v.amountSat} sat requested`);
  }
  const pending = await systemAccountId(tx, 'payouts:pending');
  const posted = await postTransactions(tx, [
    {
      idempotencyKey: key,
      kind: 'payout_request',
      memo: `withdrawal to ${v.address}`,
      entries: [
        { accountId: account.id, amountSat: v.amountSat },
        { accountId: pending, amountSat: -v.amountSat },
      ],
    },
  ]);
  // The same key submitted twice at once: the other request committed first, so answer with its payout.
  if (!posted.has(key)) {
    const other = await payoutByRequestKey(tx, key);
    if (!other) throw new Error(`payout request ${key} was posted but its payout is missing`);
    return other;
  }
  return insertPayout(tx, { investorId: v.investorId, amountSat: v.amountSat, address: v.address, requestTransactionId: posted.get(key) });
}

/** requested → approved (no journal movement: the amount is already pending). */
export async function approvePayoutIn(tx: Tx, payoutId: number, by: string): Promise<Payout> {
  const approved = await approveRequested(tx, payoutId, by);
  if (approved) return approved;
  const status = await payoutStatus(tx, payoutId);
  if (!status) throw new PayoutError('NOT_FOUND', `payout ${payoutId} does not exist`);
  throw new PayoutError('WRONG_STATUS', `payout ${payoutId} is ${status}: only a ${PAYOUT_MOVES.approved.join(' or ')} payout can be approved`);
}

/**
 * approved → sent (payouts:pending → payouts:sent), or requested/approved → rejected (back to the investor's
 * balance), under a row lock on the payout.
 */
export async function settlePayoutIn(
  tx: Tx,
  payoutId: number,
  to: 'sent' | 'rejected',
  details: { txid: string | null; reason: string | null },
): Promise<Payout> {
  const from: readonly PayoutStatus[] = PAYOUT_MOVES[to];
  const payout = await lockPayout(tx, payoutId);
  if (!payout) throw new PayoutError('NOT_FOUND', `payout ${payoutId} does not exist`);
  if (!from.includes(payout.status)) throw new PayoutError('WRONG_STATUS', `payout ${payoutId} is ${payout.status}, not ${from.join(' or ')}`);
  const amount = payout.amountSat;
  const pending = await systemAccountId(tx, 'payouts:pending');
  const other = to === 'sent' ? await systemAccountId(tx, 'payouts:sent') : await investorAccountId(tx, payout.investorId);
  const key = `payout-${to}:${payoutId}`;
  const posted = await postTransactions(tx, [
    {
      idempotencyKey: key,
      kind: to === 'sent' ? 'payout_sent' : 'payout_rejected',
      memo: to === 'sent' ? `sent in ${details.txid}` : `rejected: ${details.reason}`,
      entries: [
        { accountId: pending, amountSat: amount },
        { accountId: other, amountSat: -amount },
      ],
    },
  ]);
  return settlePayoutRow(tx, payoutId, { to, txid: details.txid, reason: details.reason, settleTransactionId: posted.get(key) });
}
