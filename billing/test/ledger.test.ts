/** The ledger's invariants hold in the database itself, whatever the application does. */
import { getBalance, listPayouts, listPayoutsToApprove, approvePayout, markPayoutSent, rejectPayout, requestPayout, PayoutError } from '../src/api';
import { inTransaction } from '../src/db';
import { investorAccountId, postTransactions, systemAccountId, verifyLedger } from '../src/ledger';
import { runDay } from '../src/run';
import { ADDRESSES, addInvestorWithContract, fixedHashrate, recordPayout } from './fixtures';
import { createTestDatabase, type TestDatabase } from './pg';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('ledger');
  await addInvestorWithContract(db.pool, 'alice', '100');
  await addInvestorWithContract(db.pool, 'bob', '50');
  await recordPayout(db.pool, '2026-01-01', '0.03000000');
  await runDay(db.pool, fixedHashrate('150'), '2026-01-01', { today: '2026-06-01' });
});
afterAll(async () => db.drop());

describe('database-enforced journal rules', () => {
  test('an unbalanced transaction is refused at COMMIT and leaves nothing behind', async () => {
    const before = await verifyLedger(db.pool);
    const alice = await investorAccountId(db.pool, 'alice');
    const fees = await systemAccountId(db.pool, 'farm:fees');
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const t = await client.query(`INSERT INTO journal_transactions (idempotency_key, kind) VALUES ('bad', 'credit') RETURNING id`);
      await client.query('INSERT INTO journal_entries (transaction_id, account_id, amount_sat) VALUES ($1, $2, 5), ($1, $3, -4)', [t.rows[0].id, fees, alice]);
      await expect(client.query('COMMIT')).rejects.toThrow(/does not balance/);
    } finally {
      client.release();
    }
    expect((await verifyLedger(db.pool)).transactions).toBe(before.transactions);
  });

  test('journal rows cannot be updated, deleted or truncated', async () => {
    await expect(db.pool.query('UPDATE journal_entries SET amount_sat = amount_sat * 2')).rejects.toThrow(/append-only/);
    await expect(db.pool.query('DELETE FROM journal_transactions')).rejects.toThrow(/append-only/);
    await expect(db.pool.query('TRUNCATE journal_entries CASCADE')).rejects.toThrow(/append-only/);
    await expect(db.pool.query('UPDATE daily_credits SET net_sat = 0')).rejects.toThrow(/append-only/);
  });

  test('entries cannot be slipped into a transaction committed earlier', async () => {
    const { rows } = await db.pool.query(`SELECT id FROM journal_transactions WHERE kind = 'credit' LIMIT 1`);
    const fees = await systemAccountId(db.pool, 'farm:fees');
    await expect(
      db.pool.query('INSERT INTO journal_entries (transaction_id, account_id, amount_sat) VALUES ($1, $2, 7), ($1, $2, -7)', [rows[0].id, fees]),
    ).rejects.toThrow(/same database transaction/);
  });

  test('an investor balance can never go negative, even through a balanced transaction', async () => {
    const bob = await investorAccountId(db.pool, 'bob');
    const pending = await systemAccountId(db.pool, 'payouts:pending');
    const balance = (await getBalance(db.pool, 'bob')).availableSat;
    await expect(
      inTransaction(db.pool, (c) =>
        postTransactions(c, [{ idempotencyKey: 'overdraw', kind: 'payout_request', entries: [{ accountId: bob, amountSat: balance + 1 }, { accountId: pending, amountSat: -(balance + 1) }] }]),
      ),
    ).rejects.toThrow(/investor_balance_never_negative/);
    expect((await getBalance(db.pool, 'bob')).availableSat).toBe(balance);
  });

  test('the same idempotency key posts once', async () => {
    const fees = await systemAccountId(db.pool, 'farm:fees');
    const farm = await systemAccountId(db.pool, 'farm:revenue');
    const txn = { idempotencyKey: 'once', kind: 'farm_share' as const, entries: [{ accountId: fees, amountSat: 3 }, { accountId: farm, amountSat: -3 }] };
    const first = await inTransaction(db.pool, (c) => postTransactions(c, [txn]));
    const second = await inTransaction(db.pool, (c) => postTransactions(c, [txn]));
    expect(first.size).toBe(1);
    expect(second.size).toBe(0);
    // The run's plain insert (it leaves known keys out itself): a key there after all fails, it is not posted twice.
    await expect(inTransaction(db.pool, (c) => postTransactions(c, [txn], { knownKeysExcluded: true }))).rejects.toMatchObject({ code: '23505' });
    expect(await verifyLedger(db.pool)).toMatchObject({ ok: true });
  });
});

/**
 * The rules are checked per statement and per batch (migration 0010), not per row: replayed here through SQL, the
 * database still refuses what would create or lose money or leave a reference dangling.
 */
describe('set-based checks refuse what the per-row ones refused', () => {
  /** Runs the statements in one database transaction; resolves to the error that stopped it, or undefined once committed. */
  async function attempt(statements: (q: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>) => Promise<void>): Promise<(Error & { code?: string }) | undefined> {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await statements(async (sql, params) => (await client.query(sql, params)).rows);
      await client.query('COMMIT');
      return undefined;
    } catch (err) {
      await client.query('ROLLBACK');
      return err as Error & { code?: string };
    } finally {
      client.release();
    }
  }

  test("a replayed credit with one satoshi moved is refused at COMMIT, with its batch, naming the transaction", async () => {
    const before = await verifyLedger(db.pool);
    const { rows: credit } = await db.pool.query<{ account_id: string; amount_sat: string }>(
      `SELECT e.account_id, e.amount_sat FROM journal_entries e JOIN journal_transactions t ON t.id = e.transaction_id
        WHERE t.kind = 'credit' AND t.contract_id = 'alice-c' ORDER BY e.id`,
    );
    expect(credit.length).toBeGreaterThanOrEqual(2);
    let reachedCommit = false;
    const error = await attempt(async (q) => {
      const keys = ['replay:ok:1', 'replay:bad', 'replay:ok:2'];
      const ids = (await q(`INSERT INTO journal_transactions (idempotency_key, kind, day, contract_id) SELECT k, 'credit', '2026-01-01', 'alice-c' FROM unnest($1::text[]) k RETURNING id, idempotency_key`, [keys])).map(
        (r) => [String(r.idempotency_key), String(r.id)] as const,
      );
      const rows: Array<[string, string, number]> = [];
      for (const [key, id] of ids) credit.forEach((e, i) => rows.push([id, e.account_id, Number(e.amount_sat) + (key === 'replay:bad' && i === 0 ? 1 : 0)]));
      await q('INSERT INTO journal_entries (transaction_id, account_id, amount_sat) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])', [
        rows.map((r) => r[0]),
        rows.map((r) => r[1]),
        rows.map((r) => r[2]),
      ]);
      reachedCommit = true;
    });
    expect(reachedCommit).toBe(true);
    expect(error?.code).toBe('23514');
    expect(error?.message).toMatch(/\(replay:bad\) does not balance: \d+ entries summing to 1 sat/);
    expect(await verifyLedger(db.pool)).toMatchObject({ ok: true, transactions: before.transactions, entries: before.entries });
  });

  test('entries written by two statements are checked together at COMMIT: balanced in sum they commit, short by one satoshi they do not', async () => {
    const fees = await systemAccountId(db.pool, 'farm:fees');
    const farm = await systemAccountId(db.pool, 'farm:revenue');
    const twoStatements = (key: string, second: number) =>
      attempt(async (q) => {
        const [t] = await q(`INSERT INTO journal_transactions (idempotency_key, kind) VALUES ($1, 'farm_share') RETURNING id`, [key]);
        await q('INSERT INTO journal_entries (transaction_id, account_id, amount_sat) VALUES ($1, $2, 9)', [t!.id, fees]);
        await q('INSERT INTO journal_entries (transaction_id, account_id, amount_sat) VALUES ($1, $2, $3)', [t!.id, farm, second]);
      });
    expect(await twoStatements('split:balanced', -9)).toBeUndefined();
    expect(await twoStatements('split:short', -8)).toMatchObject({ code: '23514', message: expect.stringMatching(/split:short/) });
    expect(await verifyLedger(db.pool)).toMatchObject({ ok: true });
  });

  test('an entry on an account or transaction that does not exist is refused', async () => {
    const fees = await systemAccountId(db.pool, 'farm:fees');
    const noAccount = await attempt(async (q) => {
      const [t] = await q(`INSERT INTO journal_transactions (idempotency_key, kind) VALUES ('dangling:account', 'farm_share') RETURNING id`);
      await q('INSERT INTO journal_entries (transaction_id, account_id, amount_sat) VALUES ($1, $2, 4), ($1, 987654321, -4)', [t!.id, fees]);
    });
    expect(noAccount).toMatchObject({ code: '23503', message: expect.stringMatching(/account 987654321, which does not exist/) });
    const noTransaction = await attempt(async (q) => {
      await q('INSERT INTO journal_entries (transaction_id, account_id, amount_sat) VALUES (987654321, $1, 4), (987654321, $1, -4)', [fees]);
    });
    expect(noTransaction).toMatchObject({ code: '23503', message: expect.stringMatching(/journal transaction 987654321, which does not exist/) });
  });

  test('a journal transaction or credit record naming a contract, investor or transaction that does not exist, or another investor’s contract, is refused', async () => {
    const noContract = await attempt(async (q) => {
      await q(`INSERT INTO journal_transactions (idempotency_key, kind, contract_id) VALUES ('dangling:contract', 'credit', 'no-such-contract')`);
    });
    expect(noContract).toMatchObject({ code: '23503', message: expect.stringMatching(/contract no-such-contract, which does not exist/) });
    const { rows } = await db.pool.query<Record<string, unknown>>(`SELECT * FROM daily_credits WHERE kind = 'credit' ORDER BY transaction_id LIMIT 1`);
    const copy = rows[0]!;
    const insertCopy = (changes: Record<string, unknown>) =>
      attempt(async (q) => {
        // A transaction of its own to describe (a credit record's transaction is its primary key).
        const [t] = await q(`INSERT INTO journal_transactions (idempotency_key, kind) VALUES ('credit-record:' || $1, 'credit') RETURNING id`, [JSON.stringify(changes)]);
        const r: Record<string, unknown> = { ...copy, transaction_id: t!.id, revision: 99, ...changes };
        await q(
          `INSERT INTO daily_credits (transaction_id, contract_id, investor_id, day, revision, kind, contracted_ths, gross_sat, maintenance_fee_sat, revenue_fee_sat, net_sat, inputs)
           VALUES ($1, $2, $3, $4, $5, 'credit', $6, $7, $8, $9, $10, $11)`,
          [r.transaction_id, r.contract_id, r.investor_id, r.day, r.revision, r.contracted_ths, r.gross_sat, r.maintenance_fee_sat, r.revenue_fee_sat, r.net_sat, r.inputs],
        );
      });
    expect(await insertCopy({ contract_id: 'no-such-contract' })).toMatchObject({ code: '23503', message: expect.stringMatching(/contract no-such-contract/) });
    expect(await insertCopy({ investor_id: 'no-such-investor' })).toMatchObject({ code: '23503', message: expect.stringMatching(/investor no-such-investor/) });
    // An investor that exists but does not hold the contract.
    const other = (await db.pool.query<{ id: string }>('SELECT id FROM investors WHERE id <> $1 LIMIT 1', [copy.investor_id])).rows[0]!.id;
    expect(await insertCopy({ investor_id: other })).toMatchObject({
      code: '23503',
      message: expect.stringMatching(new RegExp(`investor ${other} for contract ${String(copy.contract_id)}, which belongs to investor ${String(copy.investor_id)}`)),
    });
    expect(await insertCopy({ transaction_id: 987654321 })).toMatchObject({ code: '23503', message: expect.stringMatching(/journal transaction 987654321/) });
  });

  test('investors, contracts and accounts the journal refers to cannot be deleted, renumbered or truncated', async () => {
    await expect(db.pool.query(`DELETE FROM investors WHERE id = 'alice'`)).rejects.toThrow(/never deleted or renumbered/);
    await expect(db.pool.query(`DELETE FROM contracts WHERE id = 'alice-c'`)).rejects.toThrow(/never deleted or renumbered/);
    await expect(db.pool.query(`DELETE FROM accounts WHERE investor_id = 'alice'`)).rejects.toThrow(/never deleted or renumbered/);
    await expect(db.pool.query(`UPDATE accounts SET id = id + 100000 WHERE investor_id = 'alice'`)).rejects.toThrow(/never deleted or renumbered/);
    await expect(db.pool.query(`UPDATE contracts SET id = 'alice-renamed' WHERE id = 'alice-c'`)).rejects.toThrow(/never deleted or renumbered/);
    await expect(db.pool.query('TRUNCATE accounts CASCADE')).rejects.toThrow(/never deleted or renumbered|append-only/);
    // What may change still does: a contract's terms, an investor's name.
    await db.pool.query(`UPDATE investors SET name = name WHERE id = 'alice'`);
    expect(await verifyLedger(db.pool)).toMatchObject({ ok: true });
  });
});

describe('payouts', () => {
  test('request validates address checksum, network and minimum, and never overdraws', async () => {
    const balance = (await getBalance(db.pool, 'alice')).availableSat;
    expect(balance).toBe(2_000_000); // 100 of 150 TH/s of 0.03 BTC
    await expect(requestPayout(db.pool, { investorId: 'alice', amountSat: 200_000, address: ADDRESSES.p2wpkh.replace('q', 'p') })).rejects.toMatchObject({ code: 'INVALID_ADDRESS' });
    await expect(requestPayout(db.pool, { investorId: 'alice', amountSat: 200_000, address: '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3' })).rejects.toMatchObject({ code: 'INVALID_ADDRESS' });
    await expect(requestPayout(db.pool, { investorId: 'alice', amountSat: 200_000, address: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx' })).rejects.toMatchObject({ code: 'INVALID_ADDRESS' });
    await expect(requestPayout(db.pool, { investorId: 'alice', amountSat: 99_999, address: ADDRESSES.p2tr })).rejects.toMatchObject({ code: 'BELOW_MINIMUM' });
    await expect(requestPayout(db.pool, { investorId: 'alice', amountSat: balance + 1, address: ADDRESSES.p2tr })).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    await expect(requestPayout(db.pool, { investorId: 'alice', amountSat: 1.5, address: ADDRESSES.p2tr })).rejects.toThrow(/amountSat: satoshi are whole numbers/);
    expect((await getBalance(db.pool, 'alice')).availableSat).toBe(balance);
  });

  test('concurrent requests for more than the balance: the row lock lets only what fits through', async () => {
    const balance = (await getBalance(db.pool, 'alice')).availableSat;
    const amount = Math.floor(balance / 3) + 1; // three fit only twice
    const results = await Promise.allSettled(
      [ADDRESSES.p2pkh, ADDRESSES.p2sh, ADDRESSES.p2tr].map((address) => requestPayout(db.pool, { investorId: 'alice', amountSat: amount, address })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(PayoutError);
    expect((await getBalance(db.pool, 'alice'))).toMatchObject({ availableSat: balance - 2 * amount, pendingPayoutSat: 2 * amount });
  });

  test('the same request key never creates a second payout', async () => {
    const a = await requestPayout(db.pool, { investorId: 'bob', amountSat: 100_000, address: ADDRESSES.p2wpkh, requestKey: 'form-1' });
    const b = await requestPayout(db.pool, { investorId: 'bob', amountSat: 100_000, address: ADDRESSES.p2wpkh, requestKey: 'form-1' });
    expect(b.id).toBe(a.id);
    const both = await Promise.all([1, 2].map(() => requestPayout(db.pool, { investorId: 'bob', amountSat: 100_000, address: ADDRESSES.p2wpkh, requestKey: 'form-2' })));
    expect(both[0]!.id).toBe(both[1]!.id);
    expect((await getBalance(db.pool, 'bob')).availableSat).toBe(1_000_000 - 200_000);
  });

  test('staff approve then mark sent; rejected payouts return to the balance', async () => {
    const [first, second] = await listPayoutsToApprove(db.pool);
    expect(first!.investorId).toBe('alice');
    await expect(markPayoutSent(db.pool, first!.id, { btcTxid: 'ab'.repeat(32), staff: 'carol' })).rejects.toMatchObject({ code: 'WRONG_STATUS' });
    await approvePayout(db.pool, first!.id, 'carol');
    await expect(approvePayout(db.pool, first!.id, 'carol')).rejects.toMatchObject({ code: 'WRONG_STATUS' });
    const sent = await markPayoutSent(db.pool, first!.id, { btcTxid: 'AB'.repeat(32), staff: 'carol' });
    expect(sent).toMatchObject({ status: 'sent', btcTxid: 'ab'.repeat(32), approvedBy: 'carol' });
    const before = await getBalance(db.pool, second!.investorId);
    await rejectPayout(db.pool, second!.id, { reason: 'address belongs to an exchange that refuses deposits', staff: 'carol' });
    const after = await getBalance(db.pool, second!.investorId);
    expect(after.availableSat).toBe(before.availableSat + second!.amountSat);
    expect(after.pendingPayoutSat).toBe(before.pendingPayoutSat - second!.amountSat);
    expect((await listPayouts(db.pool, { status: 'sent' })).map((p) => p.id)).toEqual([first!.id]);
    const sentAccount = await db.pool.query(`SELECT balance_sat FROM accounts WHERE code = 'payouts:sent'`);
    expect(Number(sentAccount.rows[0].balance_sat)).toBe(first!.amountSat);
    expect(await verifyLedger(db.pool)).toMatchObject({ ok: true, problems: [] });
  });
});
