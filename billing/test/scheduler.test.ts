/** The timer: catches up at start, and a day that lacked inputs is credited on a later tick once they exist. */
import { listDailyRuns } from '../src/api';
import { addDays, utcToday } from '../src/run';
import { startBillingScheduler } from '../src/scheduler';
import { addInvestorWithContract, fixedHashrate, recordPayout } from './fixtures';
import { createTestDatabase, type TestDatabase } from './pg';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('scheduler');
});
afterAll(async () => db.drop());

test('catches up the missed days at start and the late one on a later tick', async () => {
  const today = utcToday();
  const days = [addDays(today, -3), addDays(today, -2), addDays(today, -1)];
  await addInvestorWithContract(db.pool, 'dora', '42', days[0]!, addDays(today, 10));
  await recordPayout(db.pool, days[0]!, '0.00010000');
  await recordPayout(db.pool, days[2]!, '0.00030000');
  const log: string[] = [];
  const scheduler = startBillingScheduler(db.pool, fixedHashrate('50'), { cron: '* * * * * *', log: (m) => log.push(m) });
  try {
    await scheduler.idle();
    const doneDays = async () => (await listDailyRuns(db.pool)).filter((r) => r.status === 'done').map((r) => r.day).sort();
    expect(await doneDays()).toEqual([days[0], days[2]]);
    expect(log.some((m) => m.startsWith(`${days[1]}: `) && m.includes('no pool payout'))).toBe(true);

    await recordPayout(db.pool, days[1]!, '0.00020000');
    const deadline = Date.now() + 10_000;
    while ((await doneDays()).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await doneDays()).toEqual(days);
  } finally {
    await scheduler.stop();
  }
});
