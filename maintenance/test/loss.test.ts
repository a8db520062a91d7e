/**
 * What a ticket cost: lost TH·h from samples in a real InfluxDB and BTC from the day's hashprice in PostgreSQL,
 * checked against the FPPS formula written out by hand here.
 */
import Decimal from 'decimal.js';
import type { InfluxStore } from '@flymining/shared';
import type { TestDatabase } from '../../billing/test/pg';
import { recordMarketDay } from '../../billing/src/market';
import { openTestStore } from '../../shared/test/influx/helpers';
import { fillTicketLosses, syncTickets, TicketStore } from '../src';
import { at, firing } from './alerts';
import { createMaintenanceDatabase } from './db';

let influx: InfluxStore;
let db: TestDatabase;
// Recent enough for the test InfluxDB's 40-day retention policy.
const day = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
const t0 = at(`${day}T10:00:00Z`);

beforeAll(async () => {
  influx = await openTestStore('maintenance_loss');
  db = await createMaintenanceDatabase('loss');
  // A 100 TH/s miner hashing 40 TH/s for the first 30 minutes of its ticket, then nothing (unreachable, no samples)
  // for 30 minutes: lost 60 TH × 0.5 h + 100 TH × 0.5 h = 80 TH·h.
  const lines: string[] = [];
  for (let s = 0; s < 30 * 60; s += 10)
    lines.push(`miner,site=north-1,container=C01,rack=R1,shelf=S1,slot=1,miner=C01-R1-S1-1 hashrate_ths=40,nominal_ths=100 ${t0 + s * 1000}`);
  // Another miner at full speed: not counted against this ticket.
  for (let s = 0; s < 3600; s += 10) lines.push(`miner,site=north-1,container=C01,rack=R1,shelf=S1,slot=2,miner=C01-R1-S1-2 hashrate_ths=100,nominal_ths=100 ${t0 + s * 1000}`);
  influx.write(lines);
  await influx.flush();
  await recordMarketDay(db.pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', feesPerBlockBtc: '0.125', btcPriceUsd: '95000' });
});
afterAll(async () => {
  await db.drop();
  await influx.close();
});

test("a closed ticket gets its lost TH·h from the samples and BTC from the day's hashprice", async () => {
  const { opened } = await syncTickets(db.pool, [firing('C01-R1-S1-1', 'HASHRATE_LOW', '', t0)], t0);
  const store = new TicketStore(db.pool);
  await store.take(opened[0]!, 'alice', new Date(t0 + 60_000));
  await syncTickets(db.pool, [], t0 + 3600_000); // fixed after exactly one hour
  await syncTickets(db.pool, [], t0 + 2 * 3600_000); // verified: closed
  expect(await fillTicketLosses(db.pool, influx)).toBe(1);

  const { ticket } = await store.get(opened[0]!);
  expect(ticket.lostThHours).toBeCloseTo(80, 3);
  // Hashprice = 1e12 H/s × 86400 s / (difficulty × 2^32) × (subsidy + fees) BTC per TH per day.
  const perThDay = new Decimal(1e12).mul(86400).div(new Decimal('1e14').mul(2 ** 32)).mul(3.25);
  expect(ticket.lostBtc).toBe(perThDay.mul(80).div(24).toFixed(8, Decimal.ROUND_HALF_UP));
  expect(Number(ticket.lostBtc)).toBeGreaterThan(0);
  // Nothing left to fill.
  expect(await fillTicketLosses(db.pool, influx)).toBe(0);
});

test('a ticket on a day without market data keeps BTC unknown (priced later), its TH·h known', async () => {
  const t1 = t0 - 86_400_000; // the day before: no market day recorded
  const { opened } = await syncTickets(db.pool, [firing('C01-R1-S1-3', 'MINER_UNREACHABLE', '', t1)], t1);
  await new TicketStore(db.pool).take(opened[0]!, 'bob', new Date(t1 + 60_000));
  await syncTickets(db.pool, [], t1 + 30 * 60_000);
  await syncTickets(db.pool, [], t1 + 2 * 3600_000);
  await fillTicketLosses(db.pool, influx);
  const { ticket } = await new TicketStore(db.pool).get(opened[0]!);
  expect(ticket.lostThHours).toBeCloseTo(50, 3); // nominal 100 TH/s, no samples at all for half an hour
  expect(ticket.lostBtc).toBeNull();
});
