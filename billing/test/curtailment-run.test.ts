/**
 * Curtailed hours in the daily run (docs/control.md, "Curtailment and investors"): the farm's curtailment policy slept
 * miners, the control audit recorded it in InfluxDB, and billing credits those hours as if hashed, the farm paying
 * for them. Real InfluxDB (miner rows and `control_action` points in the documented schema) and real PostgreSQL.
 * Checked against the same farm on a day it hashed throughout: the investors' credits are the same to the satoshi,
 * the pool's receivable is exactly what the pool paid, the farm keeps less by the top-up, and the ledger balances.
 */
import type { InfluxStore } from '@flymining/shared';
import { createContract, createInvestor, listDailyCredits, listDailyRuns } from '../src/api';
import { InfluxHashrateSource } from '../src/hashrate';
import { verifyLedger } from '../src/ledger';
import { recordMarketDay } from '../src/market';
import { explainCredit } from '../src/portal/explain';
import { engineLedger } from '../src/portal/ledger-adapter';
import { addDays, correctDay, recomputeDay, runDay, utcToday } from '../src/run';
import { openTestStore } from '../../shared/test/influx/helpers';
import { recordPayout } from './fixtures';
import { createTestDatabase, type TestDatabase } from './pg';

const HOUR = 3_600_000;
const today = utcToday();
/** The farm hashed all day; the same farm, curtailed 06:00-12:00 on two of its four miners; an old day rerun later. */
const fullDay = addDays(today, -3);
const curtailedDay = addDays(today, -2);
const staffDay = addDays(today, -1);
const SITE = 'curtail-site';
const MINERS = ['m1', 'm2', 'm3', 'm4'];
const RATE_THS = 100;

let store: InfluxStore;
let db: TestDatabase;
let source: InfluxHashrateSource;

/** One scrape every 10 min: 0 TH/s while asleep (as the Braiins and Whatsminer readers report a sleeping unit). */
function minerLines(day: string, asleep: (miner: string, t: number) => boolean): string[] {
  const start = Date.parse(`${day}T00:00:00Z`);
  const lines: string[] = [];
  for (const miner of MINERS) {
    const tags = `site=${SITE},container=C01,rack=R01,shelf=S1,slot=${miner.slice(1)},miner=${miner}`;
    for (let i = 0; i < 144; i++) {
      const t = start + i * 600_000;
      const sleeping = asleep(miner, t);
      lines.push(`miner,${tags} hashrate_ths=${sleeping ? 0 : RATE_THS},nominal_ths=${RATE_THS} ${t}`);
      lines.push(`miner_up,${tags} reachable=1i,hashing=${sleeping ? 0 : 1}i ${t}`);
    }
  }
  return lines;
}

/** A `control_action` point as the edge writes it (docs/schema.md). */
function actionLine(t: number, miner: string, action: 'sleep' | 'wake', actor: string): string {
  const kind = actor === 'curtailment' ? 'policy' : 'staff';
  return `control_action,site=${SITE},container=C01,rack=R01,shelf=S1,slot=${miner.slice(1)},miner=${miner},action=${action},outcome=confirmed,actor_kind=${kind} actor="${actor}",detail="",reply="",reason="price",duration_ms=20i ${t}`;
}

beforeAll(async () => {
  store = await openTestStore('billing_curtail');
  const at = (day: string, h: number) => Date.parse(`${day}T00:00:00Z`) + h * HOUR;
  const curtailed = (day: string) => (miner: string, t: number) => (miner === 'm1' || miner === 'm2') && t >= at(day, 6) && t < at(day, 12);
  store.write(minerLines(fullDay, () => false));
  store.write(minerLines(curtailedDay, curtailed(curtailedDay)));
  // The same sleep on the staff day, but by staff: not curtailment, so it is downtime the investors share.
  store.write(minerLines(staffDay, curtailed(staffDay)));
  store.write(
    ['m1', 'm2'].flatMap((m) => [
      actionLine(at(curtailedDay, 6), m, 'sleep', 'curtailment'),
      actionLine(at(curtailedDay, 12), m, 'wake', 'curtailment'),
      actionLine(at(staffDay, 6), m, 'sleep', 'ana'),
      actionLine(at(staffDay, 12), m, 'wake', 'ana'),
    ]),
  );
  await store.flush();
  source = new InfluxHashrateSource(store, SITE);

  db = await createTestDatabase('curtail');
  // 400 TH/s sold: exactly what the four miners make.
  for (const [id, ths] of [['alice', '150'], ['bob', '250']] as const) {
    await createInvestor(db.pool, { id, name: id });
    await createContract(db.pool, { id: `${id}-c`, investorId: id, hashrateThs: ths, startDay: fullDay, endDay: today, revenueFeePct: '10' });
  }
  for (const day of [fullDay, curtailedDay, staffDay]) {
    await recordMarketDay(db.pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', feesPerBlockBtc: '0.2', btcPriceUsd: '95000' });
  }
  // The pool pays for what was hashed: 0.004 BTC for a full day of 400 TH/s, 0.0035 BTC for the 350 TH/s hashed.
  await recordPayout(db.pool, fullDay, '0.00400000');
  await recordPayout(db.pool, curtailedDay, '0.00350000');
  await recordPayout(db.pool, staffDay, '0.00350000');
});

afterAll(async () => {
  await db?.drop();
  await store?.close();
});

async function accountBalance(code: string): Promise<number> {
  const { rows } = await db.pool.query<{ balance_sat: string }>('SELECT balance_sat FROM accounts WHERE code = $1', [code]);
  return Number(rows[0]!.balance_sat);
}

async function creditsOn(day: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const id of ['alice', 'bob']) out[id] = (await listDailyCredits(db.pool, id, { from: day, to: day })).reduce((s, c) => s + c.netSat, 0);
  return out;
}

test('a curtailed day credits the investors exactly as a day the farm hashed throughout, and the farm pays the difference', async () => {
  const receivableBefore = await accountBalance('pool:receivable');
  const full = await runDay(db.pool, source, fullDay);
  const farmAfterFull = await accountBalance('farm:revenue');
  const receivableAfterFull = await accountBalance('pool:receivable');
  const cut = await runDay(db.pool, source, curtailedDay);

  expect(full).toMatchObject({ status: 'done', revenueSat: 400_000, creditedSat: 400_000, farmSat: 0 });
  // The pool paid 350,000 for 350 TH/s; 50 TH/s withheld at the same rate is 50,000 funded by the farm.
  expect(cut).toMatchObject({ status: 'done', revenueSat: 350_000, creditedSat: 400_000, farmSat: -50_000, curtailmentTopUpSat: 50_000 });
  expect(await creditsOn(curtailedDay)).toEqual(await creditsOn(fullDay));

  const run = (await listDailyRuns(db.pool)).find((r) => r.day === curtailedDay)!;
  expect(run.inputs).toMatchObject({
    revenueSat: 350_000,
    hashrate: { deliveredThs: '350' },
    curtailment: { minerHours: '12', withheldThs: '50', topUpSat: 50_000, valuedAt: 'pool-rate', containers: [{ container: 'C01', miners: 2, minerHours: '12', withheldThs: '50' }] },
  });
  // What the pool owes is what it paid; the farm's revenue carries the top-up; nothing was created or lost.
  expect((await accountBalance('pool:receivable')) - receivableAfterFull).toBe(350_000);
  expect(receivableAfterFull - receivableBefore).toBe(400_000);
  expect((await accountBalance('farm:revenue')) - farmAfterFull).toBe(-50_000);
  expect(await verifyLedger(db.pool)).toMatchObject({ ok: true });
});

test('the investor reads that the farm curtailed and paid for those hours, with the raw figures one click away', async () => {
  const view = engineLedger(db.pool);
  const [credit] = (await view.creditsOf('alice', { fromDay: curtailedDay, toDay: curtailedDay })).filter((c) => c.kind === 'credit');
  expect(credit!.inputs).toMatchObject({ curtailed_ths: '50', curtailed_miner_hours: '12', curtailment_topup_sat: '50000', farm_delivered_ths: '400' });
  const text = explainCredit(credit!, 'USD').lines[0];
  expect(text).toBe(
    'The farm earned 0.0035 BTC (paid by the pool) for 350 TH/s hashed, and added 0.0005 BTC of its own for the 50 TH/s it chose not to hash ' +
      '(12 miner-hours of curtailment, credited as if hashed): 0.004 BTC for 400 TH/s delivered (100 % of the 400 TH/s sold).',
  );
});

test('the same sleep by staff is not curtailment: delivery and credits are scaled down as for downtime', async () => {
  const r = await runDay(db.pool, source, staffDay);
  expect(r).toMatchObject({ status: 'done', revenueSat: 350_000, creditedSat: 350_000, farmSat: 0 });
  expect(r.curtailmentTopUpSat).toBeUndefined();
  const run = (await listDailyRuns(db.pool)).find((x) => x.day === staffDay)!;
  expect(run.inputs).toMatchObject({ curtailment: null, hashrate: { deliveredThs: '350' } });
  const full = await creditsOn(fullDay);
  const staff = await creditsOn(staffDay);
  for (const id of ['alice', 'bob']) expect(staff[id]).toBeLessThan(full[id]!);
});

test('a correction of a curtailed day reverses the top-up with the credits and posts them anew', async () => {
  // The pool's payout was later found to be 0.0042 BTC (a late share; recorded again, it replaces the first): the top-up follows the new rate.
  await recordPayout(db.pool, curtailedDay, '0.00420000');
  const cmp = await recomputeDay(db.pool, source, curtailedDay);
  expect(cmp.recomputed.curtailment).toMatchObject({ topUpSat: 60_000 });
  expect(cmp.recomputedFarmSat).toBe(-60_000);
  const farmBefore = await accountBalance('farm:revenue');
  const corrected = await correctDay(db.pool, source, curtailedDay);
  expect(corrected).toMatchObject({ status: 'done', revision: 2, revenueSat: 420_000, creditedSat: 480_000, curtailmentTopUpSat: 60_000 });
  const { rows } = await db.pool.query<{ idempotency_key: string; reversed: boolean }>(
    `SELECT t.idempotency_key, EXISTS (SELECT 1 FROM journal_transactions r WHERE r.reverses_id = t.id) AS reversed
       FROM journal_transactions t WHERE t.kind = 'curtailment_topup' AND t.day = $1 ORDER BY t.idempotency_key`,
    [curtailedDay],
  );
  expect(rows).toEqual([
    { idempotency_key: `curtailment-topup:${curtailedDay}:r1`, reversed: true },
    { idempotency_key: `curtailment-topup:${curtailedDay}:r2`, reversed: false },
  ]);
  // Revision 1's top-up (50,000) given back, revision 2's (60,000) paid.
  expect((await accountBalance('farm:revenue')) - farmBefore).toBe(-60_000 + 50_000);
  expect((await recomputeDay(db.pool, source, curtailedDay)).differences).toEqual([]);
  expect(await verifyLedger(db.pool)).toMatchObject({ ok: true });
});
