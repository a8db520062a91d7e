/**
 * Random sequences of daily credits, corrections (reversal + new revision), payout requests, approvals, sends
 * and rejections, contract changes (end early, extend, change fee) and maintenance charges that can exceed a day's
 * share, against a real PostgreSQL: after every step every ledger invariant still holds, to the satoshi, and no
 * balance is negative (what cannot be taken back is owed).
 */
import fc from 'fast-check';
import { approvePayout, getBalance, listPayouts, markPayoutSent, rejectPayout, requestPayout } from '../src/api';
import { satoshi } from '../src/db';
import { verifyLedger } from '../src/ledger';
import { changeContractFee, endContractEarly, extendContract } from '../src/contracts';
import { recordMarketDay } from '../src/market';
import { addDays, correctDay, runDay } from '../src/run';
import { ADDRESSES, addInvestorWithContract, fixedHashrate, recordPayout } from './fixtures';
import { createTestDatabase, type TestDatabase } from './pg';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('property');
});
afterAll(async () => db.drop());

type Step =
  | { op: 'run'; btc: number; delivered: number }
  | { op: 'correct'; back: number; btc: number }
  | { op: 'request'; who: number; percentOfBalance: number }
  | { op: 'approve' | 'send' | 'reject'; pick: number }
  | { op: 'end' | 'extend'; who: number; day: number }
  | { op: 'fee'; who: number; day: number; maintenanceCents: number; feePct: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('run' as const), btc: fc.integer({ min: 0, max: 5_000_000 }), delivered: fc.integer({ min: 1, max: 120 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('correct' as const), back: fc.nat(5), btc: fc.integer({ min: 0, max: 5_000_000 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('request' as const), who: fc.nat(2), percentOfBalance: fc.integer({ min: 1, max: 130 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constantFrom('approve' as const, 'send' as const, 'reject' as const), pick: fc.nat(10) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constantFrom('end' as const, 'extend' as const), who: fc.nat(2), day: fc.nat(19) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('fee' as const), who: fc.nat(2), day: fc.nat(19), maintenanceCents: fc.integer({ min: 0, max: 2000 }), feePct: fc.integer({ min: 0, max: 100 }) }),
    weight: 1,
  },
);

let runCounter = 0;
const MINIMUM_SAT = 10_000;
const happened = { corrected: 0, requested: 0, sent: 0, rejected: 0, changed: 0, owed: 0 };
let nextDay = '2025-01-01';

async function checkInvariants(investors: string[]): Promise<void> {
  const check = await verifyLedger(db.pool);
  expect(check.problems).toEqual([]);
  for (const id of investors) {
    const b = await getBalance(db.pool, id);
    expect(b.availableSat).toBeGreaterThanOrEqual(0);
    expect(b.owedSat).toBeGreaterThanOrEqual(0);
    if (b.owedSat > 0) happened.owed++;
    // The journal and the credit records tell the same story: what the farm owes the investor less what they owe.
    expect(b.availableSat - b.owedSat).toBe(b.creditedSat - b.pendingPayoutSat - b.paidOutSat);
  }
  // The pool owes (or paid) exactly the revenue of the latest revision of every finished day.
  const { rows } = await db.pool.query(
    `SELECT (SELECT balance_sat FROM accounts WHERE code = 'pool:receivable') AS receivable,
            (SELECT coalesce(sum(revenue_sat), 0) FROM daily_runs r WHERE status = 'done'
               AND revision = (SELECT max(revision) FROM daily_runs x WHERE x.day = r.day)) AS revenue`,
  );
  expect(satoshi(rows[0].receivable)).toBe(satoshi(rows[0].revenue));
}

test('credits, corrections and payouts in any order keep every invariant', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 16, size: 'max' }), async (steps) => {
      const prefix = `p${runCounter++}`;
      const investors = [`${prefix}a`, `${prefix}b`, `${prefix}c`];
      // Each sequence gets its own days, so its three contracts alone share the revenue.
      const firstDay = nextDay;
      nextDay = addDays(firstDay, 20);
      let dayOfRun = firstDay;
      for (const [i, id] of investors.entries()) await addInvestorWithContract(db.pool, id, String(10 * (i + 1)), firstDay, addDays(firstDay, 19));
      const runDays: string[] = [];
      // Every sequence starts with one credited day, so payouts have something to draw on.
      for (const step of [{ op: 'run', btc: 3_000_000, delivered: 60 } as Step, ...steps]) {
        if (step.op === 'run') {
          const day = dayOfRun;
          dayOfRun = addDays(dayOfRun, 1);
          await recordPayout(db.pool, day, (step.btc / 1e8).toFixed(8));
          await recordMarketDay(db.pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '50000' });
          const r = await runDay(db.pool, fixedHashrate(String(step.delivered)), day, { today: '2027-01-01', chunkSize: 7 });
          expect(r.creditedSat + r.farmSat).toBe(step.btc);
          runDays.push(day);
        } else if (step.op === 'correct' && runDays.length > 0) {
          const day = runDays[runDays.length - 1 - (step.back % runDays.length)]!;
          await recordPayout(db.pool, day, (step.btc / 1e8).toFixed(8));
          // A correction taking back more than an investor still holds leaves the rest owed (a clawback).
          await correctDay(db.pool, fixedHashrate('50'), day, { chunkSize: 7 });
          happened.corrected++;
        } else if (step.op === 'end' || step.op === 'extend' || step.op === 'fee') {
          const contractId = `${investors[step.who]}-c`;
          const day = addDays(firstDay, step.day);
          const staff = { staff: 'ops', reason: 'property test' };
          // Refusals (a day outside the contract, an end after it) are fine; anything else must keep the invariants.
          const attempt =
            step.op === 'fee'
              ? changeContractFee(db.pool, { contractId, fromDay: day, maintenanceUsdPerThsDay: (step.maintenanceCents / 100).toFixed(2), revenueFeePct: String(step.feePct), ...staff })
              : step.op === 'end'
                ? endContractEarly(db.pool, { contractId, lastDay: day, ...staff })
                : extendContract(db.pool, { contractId, lastDay: addDays(firstDay, 19 + step.day), ...staff });
          await attempt.then(
            () => happened.changed++,
            (err: Error) => expect(err.name).toBe('BillingInputError'),
          );
        } else if (step.op === 'request') {
          const investorId = investors[step.who]!;
          const available = (await getBalance(db.pool, investorId)).availableSat;
          // Amounts around the balance: some fit, some exceed it by a satoshi or more, small ones miss the minimum.
          const amount = Math.max(1, Math.floor((available * step.percentOfBalance) / 100) + (step.percentOfBalance > 100 ? 1 : 0));
          const attempt = requestPayout(db.pool, { investorId, amountSat: amount, address: ADDRESSES.p2wpkh }, { minimumSat: MINIMUM_SAT });
          if (amount >= MINIMUM_SAT && amount <= available) {
            await expect(attempt).resolves.toMatchObject({ status: 'requested' });
            happened.requested++;
          }
          else await expect(attempt).rejects.toMatchObject({ code: amount < MINIMUM_SAT ? 'BELOW_MINIMUM' : 'INSUFFICIENT_BALANCE' });
        } else if (step.op === 'approve' || step.op === 'send' || step.op === 'reject') {
          const open = (await listPayouts(db.pool)).filter((p) => investors.includes(p.investorId) && (p.status === 'requested' || p.status === 'approved'));
          const payout = open[step.pick % Math.max(1, open.length)];
          if (!payout) continue;
          if (step.op === 'approve' && payout.status === 'requested') await approvePayout(db.pool, payout.id, 'staff');
          if (step.op === 'send' && payout.status === 'approved') {
            await markPayoutSent(db.pool, payout.id, { btcTxid: 'cd'.repeat(32), staff: 'staff' });
            happened.sent++;
          }
          if (step.op === 'reject') {
            await rejectPayout(db.pool, payout.id, { reason: 'test', staff: 'staff' });
            happened.rejected++;
          }
        }
        await checkInvariants(investors);
      }
    }),
    {
      numRuns: 30,
      // Besides the random ones, one sequence sure to make an investor owe: a maintenance charge far above a poor
      // day's share (carried), then a payout of everything and a correction taking back the richer first day.
      examples: [
        [
          [
            { op: 'fee', who: 0, day: 1, maintenanceCents: 2000, feePct: 0 },
            { op: 'run', btc: 1000, delivered: 60 },
            { op: 'request', who: 1, percentOfBalance: 100 },
            { op: 'correct', back: 1, btc: 10_000 },
          ],
        ],
      ],
    },
  );
  // The sequences did reach the interesting paths, not only refusals.
  expect(happened.corrected).toBeGreaterThan(0);
  expect(happened.requested).toBeGreaterThan(0);
  expect(happened.rejected + happened.sent).toBeGreaterThan(0);
  expect(happened.changed).toBeGreaterThan(0);
  expect(happened.owed).toBeGreaterThan(0);
}, 120_000);
