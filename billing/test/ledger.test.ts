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
