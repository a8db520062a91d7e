/**
 * A month of real daily runs for statements: last month fully credited (alice in EUR with fees on one contract and
 * a second contract from the 15th, bob without fees, a few days of downtime), then, booked today, a correction of
 * one of last month's days, a payout and a refused payout.
 */
import type { Pool } from 'pg';
import { createContract, createInvestor, rejectPayout, requestPayout } from '../../src/api';
import { recordFxRate, recordMarketDay, recordPoolPayout } from '../../src/market';
import { addDays, correctDay, runDay, utcToday } from '../../src/run';
import { monthDays } from '../../src/statements/monthly';
import { setInvestorCurrency } from '../../src/store/investors';
import { ADDRESSES, fixedHashrate } from '../fixtures';

export interface SeededMonths {
  /** Last month: every day credited. */
  month: string;
  /** This month: credited up to yesterday, plus today's correction, payout and refusal. */
  thisMonth: string;
  correctedDay: string;
  alicePayoutSat: number;
}

export async function seedStatementMonths(pool: Pool, options: { withEmail?: boolean } = {}): Promise<SeededMonths> {
  const today = utcToday();
  const thisMonth = today.slice(0, 7);
  const month = addDays(`${thisMonth}-01`, -1).slice(0, 7);
  const { from } = monthDays(month);
  const end = addDays(today, 60);
  const email = (id: string) => (options.withEmail === false ? undefined : `${id}@example.com`);
  await createInvestor(pool, { id: 'alice', name: 'Alice Example', email: email('alice') });
  await createInvestor(pool, { id: 'bob', name: 'Bob Example', email: email('bob') });
  await createInvestor(pool, { id: 'carol', name: 'Carol Later', email: email('carol') });
  await setInvestorCurrency(pool, 'alice', 'EUR');
  await createContract(pool, { id: 'alice-c1', investorId: 'alice', hashrateThs: '100', startDay: from, endDay: end, maintenanceUsdPerThsDay: '0.05', revenueFeePct: '10' });
  await createContract(pool, { id: 'alice-c2', investorId: 'alice', hashrateThs: '40', startDay: `${month}-15`, endDay: end });
  await createContract(pool, { id: 'bob-c1', investorId: 'bob', hashrateThs: '60', startDay: from, endDay: end });
  // Carol's contract starts next month: no statement for her this month.
  await createContract(pool, { id: 'carol-c1', investorId: 'carol', hashrateThs: '10', startDay: addDays(today, 10), endDay: end });
  const farm = fixedHashrate('200');
  let i = 0;
  for (let day = from; day < today; day = addDays(day, 1), i++) {
    await recordMarketDay(pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', feesPerBlockBtc: '0.125', btcPriceUsd: String(60000 + 100 * i) });
    await recordFxRate(pool, { day, currency: 'EUR', perUsd: '0.9', source: 'ECB reference rate' });
    await recordPoolPayout(pool, { day, pool: 'main', amountBtc: (0.01 + i / 100_000).toFixed(8) });
    farm.deliveredThs = i % 9 === 4 ? '170' : '200';
    await runDay(pool, farm, day);
  }
  // Booked today: the pool corrected its payout of the 10th of last month, alice withdraws, bob's payout is refused.
  const correctedDay = `${month}-10`;
  await recordPoolPayout(pool, { day: correctedDay, pool: 'main', amountBtc: '0.009' });
  await correctDay(pool, farm, correctedDay);
  const alicePayoutSat = 1_000_000;
  await requestPayout(pool, { investorId: 'alice', amountSat: alicePayoutSat, address: ADDRESSES.p2wpkh });
  const bobs = await requestPayout(pool, { investorId: 'bob', amountSat: 200_000, address: ADDRESSES.p2tr });
  await rejectPayout(pool, bobs.id, { reason: 'address on a sanctions list', staff: 'ops' });
  return { month, thisMonth, correctedDay, alicePayoutSat };
}
