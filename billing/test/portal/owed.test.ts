/** An investor who owes the farm (a maintenance charge above the day's share) reads how much and why on their start page. */
import { createContract, createInvestor, getBalance } from '../../src/api';
import { recordMarketDay, recordPoolPayout } from '../../src/market';
import { satsToBtc } from '../../src/portal/forms';
import { createPortalUser } from '../../src/portal/users';
import { addDays, runDay, utcToday } from '../../src/run';
import { fixedHashrate } from '../fixtures';
import { HttpClient, PASSWORD, startTestPortal, type PortalUnderTest } from './harness';

let portal: PortalUnderTest;
beforeAll(async () => {
  portal = await startTestPortal('owed');
});
afterAll(async () => portal?.close());

test('the start page says what is owed and how it is recovered; nothing is said when nothing is owed', async () => {
  const day = addDays(utcToday(), -1);
  const { pool } = portal.db;
  await createInvestor(pool, { id: 'erin', name: 'Erin', email: 'erin@example.com' });
  // 10 TH/s at 2 USD per TH/s per day = 20 USD = 40,000 sat at 50,000 USD/BTC, against a 10,000 sat share.
  await createContract(pool, { id: 'erin-1', investorId: 'erin', hashrateThs: '10', startDay: day, endDay: addDays(day, 30), maintenanceUsdPerThsDay: '2' });
  await createPortalUser(pool, { email: 'erin@example.com', password: PASSWORD, role: 'investor', investorId: 'erin' });
  const client = new HttpClient(portal.url);
  await client.signIn('erin@example.com');
  expect((await client.get('/')).text).not.toContain('You owe');
  await recordMarketDay(pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '50000' });
  await recordPoolPayout(pool, { day, pool: 'main', amountBtc: '0.0001' });
  await runDay(pool, fixedHashrate('10'), day);
  const owed = (await getBalance(pool, 'erin')).owedSat;
  expect(owed).toBe(30_000);
  const page = (await client.get('/')).text;
  expect(page).toContain(`You owe <strong>${satsToBtc(BigInt(owed))} BTC</strong>`);
  expect(page).toContain('taken from your next credits');
});
