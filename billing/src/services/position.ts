/**
 * An investor's position is their balance (what the farm owes them) less what they owe the farm (their receivable
 * account). Credits, reversals and contract changes move the position; this turns each such move into entries that
 * keep both accounts at or above zero, so a balance never goes negative:
 *  - in the investor's favour: first what they owe is paid down, the rest goes to the balance;
 *  - against them: a reversal (a clawback of an over-credit) takes the balance first and records the rest as owed;
 *    a credit whose fees exceed the day's share (a carried fee) records the shortfall as owed without touching the
 *    balance, so it is recovered from the next days' credits.
 * Each transaction's entries still sum to zero: only entries on the investor's two accounts are rewritten, into
 * entries of the same total.
 */
import type { Queryable, Tx } from '../db';
import { satoshi } from '../db';
import type { NewTransaction, Posting } from '../ledger';
import { pgArrayLiteral } from '@flymining/shared/src/pg/array-literal';

/** Opens the receivable accounts of these investors that are not open yet (their ids are read afterwards). */
async function openReceivableAccounts(db: Queryable, investorIds: readonly string[]): Promise<void> {
  await db.query(
    `INSERT INTO accounts (code, kind, normal_side) SELECT 'receivable:' || i, 'investor_receivable', 1 FROM unnest($1::text[]) AS i ON CONFLICT (code) DO NOTHING`,
    [[...new Set(investorIds)]],
  );
}

interface Position {
  investorAccount: number;
  receivableAccount: number;
  balanceSat: number;
  owedSat: number;
}

/** What the caller knows that spares work; each is a promise the caller keeps, not a guess. */
export interface SettleOptions {
  /**
   * The caller holds the billing run lock. Receivable accounts are only ever written under it, and a credit never
   * takes from a balance, so credits read both accounts without locking them (each row is still locked by the
   * balance update of its entries, in account order).
   */
  runLockHeld?: boolean;
}

type AccountRow = { id: string; kind: string; investor: string; balance_sat: string };

/** Both accounts of each investor, in id order; locked (FOR UPDATE) unless `lock` is false. */
async function readPositionAccounts(tx: Tx, investors: readonly string[], lock: boolean): Promise<AccountRow[]> {
  const { rows } = await tx.query<AccountRow>(
    `SELECT id, kind, CASE WHEN kind = 'investor' THEN investor_id ELSE substr(code, 12) END AS investor, balance_sat FROM accounts
      WHERE (kind = 'investor' AND investor_id = ANY($1::text[])) OR (kind = 'investor_receivable' AND code = ANY($2::text[])) ORDER BY id${lock ? ' FOR UPDATE' : ''}`,
    [investors, investors.map((i) => `receivable:${i}`)],
  );
  return rows;
}

/**
 * Rewrites the investor entries of `txns` against the investors' positions, locking both accounts of each investor
 * until the transaction ends (credits only, under the run lock: read without locking, see SettleOptions).
 * Transactions already posted (same idempotency key) are left out: they change nothing.
 */
export async function settleAgainstPositions(tx: Tx, txns: readonly NewTransaction[], options: SettleOptions = {}): Promise<NewTransaction[]> {
  if (txns.length === 0) return [];
  const existing = await tx.query<{ idempotency_key: string }>('SELECT idempotency_key FROM journal_transactions WHERE idempotency_key = ANY($1::text[])', [
    txns.map((t) => t.idempotencyKey),
  ]);
  const done = new Set(existing.rows.map((r) => r.idempotency_key));
  const fresh = txns.filter((t) => !done.has(t.idempotencyKey));
  const accountIds = [...new Set(fresh.flatMap((t) => t.entries.map((e) => e.accountId)))];
  const owners = await tx.query<{ id: string; kind: string; investor: string }>(
    `SELECT id, kind, CASE WHEN kind = 'investor' THEN investor_id ELSE substr(code, 12) END AS investor FROM accounts
      WHERE id = ANY($1::bigint[]) AND kind IN ('investor', 'investor_receivable')`,
    [accountIds],
  );
  if (owners.rows.length === 0) return fresh;
  const investors = [...new Set(owners.rows.map((r) => r.investor))].sort();
  // Both accounts of every investor involved, locked in id order (as every writer does) so no two runs deadlock.
  const lock = !(options.runLockHeld && fresh.every((t) => t.kind === 'credit'));
  let rows = await readPositionAccounts(tx, investors, lock);
  // Receivable accounts are opened on an investor's first posting; on later days they are all there already.
  const withReceivable = new Set(rows.filter((r) => r.kind === 'investor_receivable').map((r) => r.investor));
  const unopened = investors.filter((i) => !withReceivable.has(i));
  if (unopened.length > 0) {
    await openReceivableAccounts(tx, unopened);
    rows = await readPositionAccounts(tx, investors, lock);
  }
  const positions = new Map<string, Position>();
  const ownerOf = new Map<number, string>();
  for (const r of rows) {
    const p = positions.get(r.investor) ?? { investorAccount: 0, receivableAccount: 0, balanceSat: 0, owedSat: 0 };
    if (r.kind === 'investor') {
      p.investorAccount = Number(r.id);
      p.balanceSat = satoshi(r.balance_sat);
    } else {
      p.receivableAccount = Number(r.id);
      p.owedSat = satoshi(r.balance_sat);
    }
    positions.set(r.investor, p);
    ownerOf.set(Number(r.id), r.investor);
  }
  return fresh.map((t) => settleOne(t, positions, ownerOf));
}

/** One transaction's investor entries rewritten against the positions (which it moves). */
function settleOne(t: NewTransaction, positions: ReadonlyMap<string, Position>, ownerOf: ReadonlyMap<number, string>): NewTransaction {
  // Investors and their effects side by side: a transaction moves one investor's position, rarely more (a run
  // settles 100,000 of these, so no Map per transaction).
  const investors: string[] = [];
  const effects: number[] = [];
  const kept: Posting[] = [];
  for (const e of t.entries) {
    const investor = ownerOf.get(e.accountId);
    // Both accounts are on the investor's side: a credit (negative) to either raises the position.
    if (investor === undefined) {
      kept.push(e);
      continue;
    }
    const at = investors.indexOf(investor);
    if (at < 0) {
      investors.push(investor);
      effects.push(-e.amountSat);
    } else effects[at]! -= e.amountSat;
  }
  if (investors.length === 0) return t;
  investors.forEach((investor, i) => {
    const effect = effects[i]!;
    const p = positions.get(investor)!;
    let toBalance = 0;
    let toOwed = 0;
    if (effect >= 0) {
      const repaid = Math.min(effect, p.owedSat);
      toOwed = -repaid;
      toBalance = effect - repaid;
    } else {
      const taken = t.kind === 'credit' ? 0 : Math.min(-effect, p.balanceSat);
      toBalance = -taken;
      toOwed = -effect - taken;
    }
    p.balanceSat += toBalance;
    p.owedSat += toOwed;
    if (toBalance !== 0) kept.push({ accountId: p.investorAccount, amountSat: -toBalance });
    if (toOwed !== 0) kept.push({ accountId: p.receivableAccount, amountSat: toOwed });
  });
  return { ...t, entries: kept };
}

/**
 * What a daily run needs of its investors' positions to post credits, read once per run instead of once per
 * chunk: each investor's two accounts and what they owe. Valid only while the run lock is held: receivable
 * accounts are written only under it, and a credit never takes from a balance (so the balance is not read).
 * The run's own postings move it as they are settled.
 */
export interface CreditBook {
  positions: Map<string, Position>;
  ownerOf: Map<number, string>;
}

/** An investor's receivable account: its id and what the investor owes. */
export interface Receivable {
  id: number;
  owedSat: number;
}

/**
 * The receivable accounts of these investors, read without locks under the run lock; those not open yet are
 * opened first (before any chunk of the run, so chunks running side by side never refer to an account another one
 * has opened and not committed). Needs only the investors, so it may run beside the reading of their accounts.
 */
export async function readReceivables(db: Queryable, investorIds: readonly string[]): Promise<Map<string, Receivable>> {
  const investors = [...new Set(investorIds)];
  const receivables = new Map<string, Receivable>();
  const read = async (which: readonly string[]): Promise<void> => {
    const { rows } = await db.query<{ id: string; investor: string; balance_sat: string }>(
      `SELECT id, substr(code, 12) AS investor, balance_sat FROM accounts WHERE kind = 'investor_receivable' AND code = ANY($1::text[])`,
      [pgArrayLiteral(which.map((i) => `receivable:${i}`))],
    );
    for (const r of rows) receivables.set(r.investor, { id: Number(r.id), owedSat: satoshi(r.balance_sat) });
  };
  await read(investors);
  const unopened = investors.filter((i) => !receivables.has(i));
  if (unopened.length > 0) {
    await openReceivableAccounts(db, unopened);
    await read(unopened);
  }
  return receivables;
}

/** The book of these investors (investor id -> investor account id) and their receivables (readReceivables). */
export function creditBook(investorAccounts: ReadonlyMap<string, number>, receivables: ReadonlyMap<string, Receivable>): CreditBook {
  const positions = new Map<string, Position>();
  const ownerOf = new Map<number, string>();
  for (const [investor, account] of investorAccounts) {
    const receivable = receivables.get(investor);
    if (!receivable) throw new Error(`investor ${investor} has no receivable account in the run's book`);
    positions.set(investor, { investorAccount: account, receivableAccount: receivable.id, balanceSat: 0, owedSat: receivable.owedSat });
    ownerOf.set(account, investor);
    ownerOf.set(receivable.id, investor);
  }
  return { positions, ownerOf };
}

/** settleAgainstPositions for a run's credits (none of whose keys is posted yet) against the run's book: no reads. */
export function settleCredits(txns: readonly NewTransaction[], book: CreditBook): NewTransaction[] {
  for (const t of txns) if (t.kind !== 'credit') throw new Error(`settleCredits: ${t.idempotencyKey} is a ${t.kind}, not a credit`);
  return txns.map((t) => settleOne(t, book.positions, book.ownerOf));
}
