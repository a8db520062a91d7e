/**
 * The journal aggregate's store: posting balanced transactions (in batches, idempotently), reversals and the ledger check.
 * Debit positive, credit negative; the database refuses unbalanced transactions at commit, edits and deletes
 * always, and any investor balance below zero (see migrations/0001_ledger.sql).
 */
import { pgArrayLiteral } from '@flymining/shared/src/pg/array-literal';
import { satoshi, type Queryable, type Tx } from './db';

export { investorAccountId, systemAccountId, type SystemAccount } from './store/accounts';
export type TransactionKind = 'credit' | 'farm_share' | 'curtailment_topup' | 'reversal' | 'payout_request' | 'payout_sent' | 'payout_rejected';

export interface Posting {
  accountId: number;
  amountSat: number; // debit > 0, credit < 0
}

export interface NewTransaction {
  idempotencyKey: string;
  kind: TransactionKind;
  day?: string;
  contractId?: string;
  reversesId?: number;
  memo?: string;
  entries: Posting[];
}

/** How postTransactions treats an idempotency key that is already in the journal. */
export interface PostOptions {
  /**
   * The caller has left out every key already posted and holds the run lock, so no other writer can post the same
   * key meanwhile: the transactions are inserted plainly (no speculative insertion per row), and a key that is
   * there after all fails the statement instead of being skipped.
   */
  knownKeysExcluded?: boolean;
}

/** A statement that posts, built and checked (every transaction balances) before anything is sent. */
export interface PreparedPosting {
  text: string;
  values: unknown[];
}

/** The posting's entries as three parallel arrays (transaction's position from 1, account, amount); throws when a transaction does not balance. */
function flattenEntries(txns: readonly NewTransaction[]): { entryTxn: number[]; accountIds: number[]; amounts: number[] } {
  const entryTxn: number[] = [];
  const accountIds: number[] = [];
  const amounts: number[] = [];
  txns.forEach((t, i) => {
    let sum = 0;
    for (const e of t.entries) {
      sum += e.amountSat;
      if (e.amountSat === 0) continue;
      entryTxn.push(i + 1);
      accountIds.push(e.accountId);
      amounts.push(e.amountSat);
    }
    if (sum !== 0) throw new Error(`transaction ${t.idempotencyKey} does not balance (${sum} sat)`);
  });
  return { entryTxn, accountIds, amounts };
}

/**
 * The posting's nine array parameters, $1 to $9 of both statements below: the transactions' own columns, then
 * their entries (transaction's position from 1, account, amount). Throws when a transaction does not balance.
 */
function postingValues(txns: readonly NewTransaction[]): string[] {
  const { entryTxn, accountIds, amounts } = flattenEntries(txns);
  return [
    pgArrayLiteral(txns.map((t) => t.idempotencyKey)),
    pgArrayLiteral(txns.map((t) => t.kind)),
    pgArrayLiteral(txns.map((t) => t.day ?? null)),
    pgArrayLiteral(txns.map((t) => t.contractId ?? null)),
    pgArrayLiteral(txns.map((t) => t.reversesId ?? null)),
    pgArrayLiteral(txns.map((t) => t.memo ?? '')),
    pgArrayLiteral(entryTxn),
    pgArrayLiteral(accountIds),
    pgArrayLiteral(amounts),
  ];
}

/**
 * Posts transactions and their entries in one statement; a transaction whose idempotency key already exists is
 * skipped (its entries are not written twice). Returns key → new transaction id for those actually posted.
 * Must run inside a database transaction: the balance check fires at COMMIT.
 */
export async function postTransactions(client: Tx, txns: readonly NewTransaction[], options: PostOptions = {}): Promise<Map<string, number>> {
  const posted = new Map<string, number>();
  if (txns.length === 0) return posted;
  const values = postingValues(txns);
  // The entries find their transaction's new id by its key among the rows the first part inserted; a skipped
  // key inserts no entries. They are written in the order given.
  const { rows } = await client.query<{ id: string; idempotency_key: string }>(
    `WITH t AS (
       INSERT INTO journal_transactions (idempotency_key, kind, day, contract_id, reverses_id, memo)
       SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::bigint[], $6::text[])
       ${options.knownKeysExcluded ? '' : 'ON CONFLICT (idempotency_key) DO NOTHING'} RETURNING id, idempotency_key
     ), e AS (
       INSERT INTO journal_entries (transaction_id, account_id, amount_sat)
       SELECT t.id, u.account_id, u.amount_sat FROM unnest($7::int[], $8::bigint[], $9::bigint[]) WITH ORDINALITY AS u(txn, account_id, amount_sat, n)
         JOIN t ON t.idempotency_key = ($1::text[])[u.txn] ORDER BY u.n
     )
     SELECT id, idempotency_key FROM t`,
    values,
  );
  for (const r of rows) posted.set(r.idempotency_key, Number(r.id));
  return posted;
}

/**
 * Transactions none of whose keys is in the journal (the caller left out those posted and holds the run lock), as
 * the first common table expressions of a statement that also writes rows referring to them: after these,
 * `journal_ids(n, id)` holds the new id of the n-th transaction (from 1), so the caller's own INSERT joins its
 * n-th row to it. A key that is in the journal after all fails the whole statement. The parts use parameters
 * $1 to $9; the caller's own start at $10. Throws when a transaction does not balance.
 */
export function postingParts(txns: readonly NewTransaction[]): { ctes: string; values: string[] } {
  // The ids are drawn from the column's own sequence up front, so entries and the caller's rows find their
  // transaction by position (an integer join) instead of by key.
  return {
    ctes: `journal_ids AS MATERIALIZED (
       SELECT n, nextval('journal_transactions_id_seq') AS id FROM generate_series(1, cardinality($1::text[])) AS n
     ), journal_posted AS (
       INSERT INTO journal_transactions (id, idempotency_key, kind, day, contract_id, reverses_id, memo)
       SELECT i.id, u.k, u.kind, u.day, u.contract_id, u.reverses_id, u.memo
         FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS u(k, kind, day, contract_id, reverses_id, memo, n)
         JOIN journal_ids i ON i.n = u.n
     ), journal_entries_posted AS (
       INSERT INTO journal_entries (transaction_id, account_id, amount_sat)
       SELECT i.id, u.account_id, u.amount_sat FROM unnest($7::int[], $8::bigint[], $9::bigint[]) WITH ORDINALITY AS u(txn, account_id, amount_sat, m)
         JOIN journal_ids i ON i.n = u.txn ORDER BY u.m
     )`,
    values: postingValues(txns),
  };
}

/** A transaction's entries negated, under a new key: the only way to undo anything in the journal. */
export async function reversalOf(db: Queryable, transactionId: number, idempotencyKey: string, memo: string): Promise<NewTransaction> {
  const txn = await db.query<{ day: string | null; contract_id: string | null }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, contract_id FROM journal_transactions WHERE id = $1`,
    [transactionId],
  );
  if (!txn.rows[0]) throw new Error(`journal transaction ${transactionId} does not exist`);
  const { rows } = await db.query<{ account_id: string; amount_sat: string }>(
    'SELECT account_id, amount_sat FROM journal_entries WHERE transaction_id = $1 ORDER BY id',
    [transactionId],
  );
  return {
    idempotencyKey,
    kind: 'reversal',
    day: txn.rows[0].day ?? undefined,
    contractId: txn.rows[0].contract_id ?? undefined,
    reversesId: transactionId,
    memo,
    entries: rows.map((r) => ({ accountId: Number(r.account_id), amountSat: -satoshi(r.amount_sat) })),
  };
}

export interface LedgerCheck {
  ok: boolean;
  problems: string[];
  transactions: number;
  entries: number;
}

/** Recomputes every invariant from the entries alone (the cached balances are only a convenience). */
export async function verifyLedger(db: Queryable): Promise<LedgerCheck> {
  const problems: string[] = [];
  const unbalanced = await db.query<{ id: string; total: string; n: string }>(
    `SELECT t.id, coalesce(sum(e.amount_sat), 0) AS total, count(e.id) AS n FROM journal_transactions t
       LEFT JOIN journal_entries e ON e.transaction_id = t.id GROUP BY t.id HAVING coalesce(sum(e.amount_sat), 0) <> 0 OR count(e.id) = 1`,
  );
  for (const r of unbalanced.rows) problems.push(`transaction ${r.id}: ${r.n} entries summing to ${r.total}`);
  const drift = await db.query<{ code: string; cached: string; derived: string }>(
    `SELECT a.code, a.balance_sat AS cached, coalesce(sum(e.amount_sat), 0) * a.normal_side AS derived
       FROM accounts a LEFT JOIN journal_entries e ON e.account_id = a.id GROUP BY a.id
      HAVING a.balance_sat <> coalesce(sum(e.amount_sat), 0) * a.normal_side`,
  );
  for (const r of drift.rows) problems.push(`account ${r.code}: cached ${r.cached} but entries give ${r.derived}`);
  const negative = await db.query<{ code: string; derived: string }>(
    `SELECT a.code, -coalesce(sum(e.amount_sat), 0) AS derived FROM accounts a JOIN journal_entries e ON e.account_id = a.id
      WHERE a.kind = 'investor' GROUP BY a.id HAVING -sum(e.amount_sat) < 0`,
  );
  for (const r of negative.rows) problems.push(`investor account ${r.code} is negative: ${r.derived}`);
  const owedNegative = await db.query<{ code: string; derived: string }>(
    `SELECT a.code, sum(e.amount_sat) AS derived FROM accounts a JOIN journal_entries e ON e.account_id = a.id
      WHERE a.kind = 'investor_receivable' GROUP BY a.id HAVING sum(e.amount_sat) < 0`,
  );
  for (const r of owedNegative.rows) problems.push(`receivable ${r.code} is negative (the farm owes it as a balance instead): ${r.derived}`);
  const total = await db.query<{ total: string }>('SELECT coalesce(sum(amount_sat), 0) AS total FROM journal_entries');
  if (satoshi(total.rows[0]?.total) !== 0) problems.push(`all entries sum to ${total.rows[0]?.total}, not 0`);
  const counts = await db.query<{ t: string; e: string }>(
    'SELECT (SELECT count(*) FROM journal_transactions) AS t, (SELECT count(*) FROM journal_entries) AS e',
  );
  return { ok: problems.length === 0, problems, transactions: Number(counts.rows[0]!.t), entries: Number(counts.rows[0]!.e) };
}
