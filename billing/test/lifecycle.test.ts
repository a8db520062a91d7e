/**
 * Contract lifecycle against a real PostgreSQL: ending early takes back the days after the new end, extending
 * credits back-dated days, a fee change re-allocates the days from its first day; each is one balanced change
 * with its audit row. A clawback the balance cannot cover is owed, never a negative balance, and recovered from
 * the next credits; so is a maintenance charge above the day's share (carried to the next day).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { createContract, createInvestor, getBalance, listDailyCredits, requestPayout } from '../src/api';
import { changeContractFee, endContractEarly, extendContract, listContractChanges } from '../src/contracts';
import { verifyLedger } from '../src/ledger';
import { recordMarketDay } from '../src/market';
import { addDays, runDay } from '../src/run';
import { loadMonthlyStatement } from '../src/statements/monthly';
import { utcToday } from '../src/run';
import { ADDRESSES, fixedHashrate, recordPayout } from './fixtures';
import { createTestDatabase, type TestDatabase } from './pg';

let db: TestDatabase;
const farm = fixedHashrate('150');
const days = Array.from({ length: 8 }, (_, i) => addDays('2026-03-01', i));
const TODAY = '2026-06-01';

beforeAll(async () => {
  db = await createTestDatabase('lifecycle');
});
afterAll(async () => db.drop());

async function credit(day: string, btc: string): Promise<void> {
  await recordMarketDay(db.pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '50000' });
  await recordPayout(db.pool, day, btc);
  await runDay(db.pool, farm, day, { today: TODAY });
}

/** Net of the latest revision of each (contract, day) of an investor, from daily_credits. */
async function latestNets(investorId: string): Promise<Map<string, number>> {
  const nets = new Map<string, number>();
  for (const c of await listDailyCredits(db.pool, investorId)) if (c.kind === 'credit') nets.set(`${c.contractId}|${c.day}`, c.netSat);
  return nets;
}

async function expectBalanced(): Promise<void> {
  expect((await verifyLedger(db.pool)).problems).toEqual([]);
}

test('ending early takes back the days after the new end; a withdrawn over-credit is owed, then recovered from the next credits', async () => {
  await createInvestor(db.pool, { id: 'alice', name: 'Alice' });
  await createInvestor(db.pool, { id: 'bob', name: 'Bob' });
  await createContract(db.pool, { id: 'alice-1', investorId: 'alice', hashrateThs: '100', startDay: days[0]!, endDay: '2026-12-31' });
  await createContract(db.pool, { id: 'alice-2', investorId: 'alice', hashrateThs: '10', startDay: days[0]!, endDay: '2026-12-31' });
  await createContract(db.pool, { id: 'bob-1', investorId: 'bob', hashrateThs: '40', startDay: days[0]!, endDay: '2026-12-31' });
  for (const day of days.slice(0, 4)) await credit(day, '0.015'); // 150 TH/s sold and delivered: 100 TH/s earn 1,000,000 sat a day
  expect((await getBalance(db.pool, 'alice')).availableSat).toBe(4 * 1_100_000);
  // Alice withdraws all but 500,000 sat; then her big contract is ended after the first day.
  await requestPayout(db.pool, { investorId: 'alice', amountSat: 4 * 1_100_000 - 500_000, address: ADDRESSES.p2wpkh });
  const bobBefore = (await getBalance(db.pool, 'bob')).availableSat;
  const change = await endContractEarly(db.pool, { contractId: 'alice-1', lastDay: days[0]!, staff: 'ops@farm', reason: 'investor asked to end it' });
  expect(change).toMatchObject({ kind: 'end_early', effectiveDay: days[1], daysReallocated: days.slice(1, 4), before: { endDay: '2026-12-31' }, after: { endDay: days[0] } });
  await expectBalanced();
  // Three days of 1,000,000 sat taken back: 500,000 from the balance, 2,500,000 owed. The balance stops at zero.
  const alice = await getBalance(db.pool, 'alice');
  expect(alice.availableSat).toBe(0);
  expect(alice.owedSat).toBe(2_500_000);
  // Re-allocated days: alice-1 credits nothing after the end; the others keep their share of what was delivered.
  const nets = await latestNets('alice');
  for (const day of days.slice(1, 4)) expect(nets.get(`alice-1|${day}`)).toBe(1_000_000); // revision 1 stays listed...
  const revisions = (await listDailyCredits(db.pool, 'alice')).filter((c) => c.contractId === 'alice-1' && c.day === days[1]);
  expect(revisions.map((c) => [c.kind, c.revision, c.netSat])).toEqual([['credit', 1, 1_000_000], ['reversal', 1, -1_000_000]]);
  expect((await getBalance(db.pool, 'bob')).availableSat).toBe(bobBefore);

  // The next days' credits of alice-2 (100,000 sat each) pay back what she owes before anything reaches her balance.
  await credit(days[4]!, '0.015');
  expect(await getBalance(db.pool, 'alice')).toMatchObject({ availableSat: 0, owedSat: 2_400_000 });
  await expectBalanced();
  expect(await listContractChanges(db.pool, 'alice-1')).toHaveLength(1);
});

test('extending back-dates the credit; a fee change re-allocates from its first day; refusals name the field', async () => {
  await createInvestor(db.pool, { id: 'carol', name: 'Carol' });
  await createContract(db.pool, { id: 'carol-1', investorId: 'carol', hashrateThs: '50', startDay: days[0]!, endDay: days[4]! });
  // Carol's contract was added after days 0-4 ran: correct them first is what a run would ask; here it only
  // matters that extending over day 5 (run next) credits it, and ending refuses nonsense.
  await expect(extendContract(db.pool, { contractId: 'carol-1', lastDay: days[2]!, staff: 'ops', reason: 'x' })).rejects.toThrow(/lastDay: .* not after/);
  await expect(endContractEarly(db.pool, { contractId: 'carol-1', lastDay: '2026-02-01', staff: 'ops', reason: 'x' })).rejects.toThrow(/lastDay: .* before the contract's start/);
  await expect(changeContractFee(db.pool, { contractId: 'carol-1', fromDay: days[1]!, staff: 'ops', reason: 'x' })).rejects.toThrow(/give a new maintenance fee or revenue fee/);
  await expect(endContractEarly(db.pool, { contractId: 'nobody', lastDay: days[1]!, staff: 'ops', reason: 'x' })).rejects.toThrow(/contractId: contract nobody does not exist/);

  await credit(days[5]!, '0.012'); // bob 40 + alice-2 10 TH/s sold, 150 delivered: carol's contract ended on day 4
  const ext = await extendContract(db.pool, { contractId: 'carol-1', lastDay: '2026-12-31', staff: 'ops', reason: 'renewed' });
  expect(ext.daysReallocated).toEqual([days[5]]);
  await expectBalanced();
  // 0.012 BTC × 50 / 150 delivered.
  expect((await latestNets('carol')).get(`carol-1|${days[5]}`)).toBe(400_000);
  expect((await getBalance(db.pool, 'carol')).availableSat).toBe(400_000);

  const fee = await changeContractFee(db.pool, { contractId: 'carol-1', fromDay: days[5]!, revenueFeePct: '25', staff: 'ops', reason: 'new price list' });
  expect(fee).toMatchObject({ kind: 'change_fee', daysReallocated: [days[5]], before: { revenueFeePct: '0.000' }, after: { revenueFeePct: '25' } });
  await expectBalanced();
  expect((await latestNets('carol')).get(`carol-1|${days[5]}`)).toBe(300_000);
  expect((await getBalance(db.pool, 'carol')).availableSat).toBe(300_000);
  // Days before the change keep the old terms; the next day gets the new ones.
  await credit(days[6]!, '0.012');
  const d6 = (await listDailyCredits(db.pool, 'carol')).find((c) => c.day === days[6]);
  expect(d6).toMatchObject({ grossSat: 400_000, revenueFeeSat: 100_000, netSat: 300_000 });
});

test('a maintenance charge above the day’s share is carried: owed, without touching the balance, and paid from the next day', async () => {
  await createInvestor(db.pool, { id: 'dave', name: 'Dave' });
  // 30 TH/s at 1 USD per TH/s per day = 30 USD = 60,000 sat at 50,000 USD/BTC.
  await createContract(db.pool, { id: 'dave-1', investorId: 'dave', hashrateThs: '30', startDay: days[7]!, endDay: '2026-12-31', maintenanceUsdPerThsDay: '1' });
  const poorDay = days[7]!;
  await credit(poorDay, '0.0015'); // sold 130 TH/s (bob 40, alice-2 10, carol 50, dave 30), delivered 150: dave's gross 30,000 sat
  const poor = (await listDailyCredits(db.pool, 'dave'))[0]!;
  expect(poor).toMatchObject({ grossSat: 30_000, maintenanceFeeSat: 60_000, netSat: -30_000 });
  expect(await getBalance(db.pool, 'dave')).toMatchObject({ availableSat: 0, owedSat: 30_000 });
  await expectBalanced();
  const richDay = addDays(poorDay, 1);
  await credit(richDay, '0.015'); // gross 300,000, fee 60,000: net 240,000, of which 30,000 repay the carried fee
  expect(await getBalance(db.pool, 'dave')).toMatchObject({ availableSat: 210_000, owedSat: 0 });
  await expectBalanced();
  const march = await loadMonthlyStatement(db.pool, 'dave', '2026-03');
  expect(march.lines.map((l) => [l.creditDay, l.amountSat, l.owedSat])).toEqual([
    [poorDay, 0, 30_000],
    [richDay, 210_000, -30_000],
  ]);
});

test('this month’s statements close at each investor’s balance and amount owed, to the satoshi', async () => {
  for (const id of ['alice', 'bob', 'carol', 'dave']) {
    const s = await loadMonthlyStatement(db.pool, id, utcToday().slice(0, 7));
    const b = await getBalance(db.pool, id);
    expect([id, s.closingSat, s.closingOwedSat]).toEqual([id, b.availableSat, b.owedSat]);
  }
});

test('staff change a contract from the CLI; the change is listed with its reason and a bad day names the option', async () => {
  const bin = path.join(__dirname, '..', '..', 'bin', 'flymining.js');
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, 'billing', ...args], { env: { ...process.env, FLYMINING_PG_URL: db.url } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const bad = await cli('contract', 'end', '--id', 'dave-1', '--last-day', '2026-13-01', '--staff', 'ops', '--reason', 'typo');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('lastDay');
  const ok = await cli('contract', 'change-fee', '--id', 'dave-1', '--from', '2026-09-01', '--maintenance-usd', '0.5', '--staff', 'ops', '--reason', 'cheaper power');
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ kind: 'change_fee', daysReallocated: [], after: { maintenanceUsdPerThsDay: '0.5' } });
  const listed = JSON.parse((await cli('list', 'contract-changes')).stdout) as Array<{ contractId: string; reason: string }>;
  expect(listed[0]).toMatchObject({ contractId: 'dave-1', reason: 'cheaper power' });
  await expectBalanced();
});

test('a carried fee is repaid once by the next day’s credits, with chunks of one contract', async () => {
  await createInvestor(db.pool, { id: 'erin', name: 'Erin' });
  const poorDay = addDays(days[7]!, 3);
  const richDay = addDays(poorDay, 1);
  await createContract(db.pool, { id: 'erin-1', investorId: 'erin', hashrateThs: '30', startDay: poorDay, endDay: '2026-12-31', maintenanceUsdPerThsDay: '1' });
  await createContract(db.pool, { id: 'erin-2', investorId: 'erin', hashrateThs: '30', startDay: richDay, endDay: '2026-12-31', maintenanceUsdPerThsDay: '0' });
  await credit(poorDay, '0.0015');
  const owedBefore = (await getBalance(db.pool, 'erin')).owedSat;
  expect(owedBefore).toBeGreaterThan(0);
  // Chunks of one contract: erin's two contracts still go in one chunk (chunks hold whole investors), which repays
  // what the day before left owed exactly once.
  await recordMarketDay(db.pool, { day: richDay, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '50000' });
  await recordPayout(db.pool, richDay, '0.015');
  const result = await runDay(db.pool, farm, richDay, { today: TODAY, chunkSize: 1 });
  expect(result.status).toBe('done');
  const richNets = (await listDailyCredits(db.pool, 'erin')).filter((c) => c.day === richDay && c.kind === 'credit').map((c) => c.netSat);
  expect(richNets).toHaveLength(2);
  const netSum = richNets.reduce((a, b) => a + b, 0);
  expect(netSum).toBeGreaterThan(owedBefore);
  expect(await getBalance(db.pool, 'erin')).toMatchObject({ availableSat: netSum - owedBefore, owedSat: 0 });
  await expectBalanced();
});

test('a fee carried and repaid within one run, two chunks in flight, ends owed nothing', async () => {
  await createInvestor(db.pool, { id: 'fay', name: 'Fay' });
  const day = addDays(days[7]!, 6);
  // fay-1's maintenance (60,000 sat) is above its share of a poor day; fay-2 has no fee: in id order, fay-1's
  // credit carries the fee and fay-2's repays it at once. With chunks of one contract, both still land in one
  // chunk (chunks hold whole investors); split over two chunks in flight, the repayment could commit before the
  // fee it repays and be refused (it failed 2 runs in 3 that way).
  await createContract(db.pool, { id: 'fay-1', investorId: 'fay', hashrateThs: '30', startDay: day, endDay: '2026-12-31', maintenanceUsdPerThsDay: '1' });
  await createContract(db.pool, { id: 'fay-2', investorId: 'fay', hashrateThs: '30', startDay: day, endDay: '2026-12-31', maintenanceUsdPerThsDay: '0' });
  await recordMarketDay(db.pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '50000' });
  await recordPayout(db.pool, day, '0.0015');
  const logged: string[] = [];
  const result = await runDay(db.pool, farm, day, { today: TODAY, chunkSize: 1, log: (line) => logged.push(line) });
  expect(result.status).toBe('done');
  // Progress is reported chunk by chunk, in order, up to every contract.
  const counts = logged.map((l) => Number(/: (\d+)\/\d+ contracts$/.exec(l)?.[1]));
  expect(counts).toEqual([...counts].sort((a, b) => a - b));
  expect(counts.at(-1)).toBe(result.contracts);
  const nets = new Map((await listDailyCredits(db.pool, 'fay')).map((c) => [c.contractId, c.netSat]));
  expect(nets.get('fay-1')).toBeLessThan(0);
  expect(nets.get('fay-2')).toBeGreaterThanOrEqual(-nets.get('fay-1')!);
  expect(await getBalance(db.pool, 'fay')).toMatchObject({ availableSat: nets.get('fay-2')! + nets.get('fay-1')!, owedSat: 0 });
  await expectBalanced();
});
