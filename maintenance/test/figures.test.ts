/**
 * MTTA and MTTR on a hand-made history, worked out by hand below, through the real ticket code (sync and staff
 * actions at set times) and the report SQL.
 *
 * Week of Mon 2026-11-02 (UTC):
 *   A  C01-R1-S1-1 fan 1   opened Mon 10:00, ack alice 10:10 (600 s), repaired, cleared 12:30 → fixed: MTTR 9000 s
 *   B  C01-R1-S1-2 board 2 opened Tue 08:00, ack bob 08:30 (1800 s), cleared 09:40 → fixed: MTTR 6000 s
 *   C  C02-R1-S1-1         opened Wed 00:00 (Tue 18:00 in Chicago), nobody came, cleared 00:20 → self-healed
 *   → opened 3, acknowledged 2, MTTA (600 + 1800) / 2 = 1200 s, repaired 2, MTTR (9000 + 6000) / 2 = 7500 s
 * Week of Mon 2026-11-09:
 *   D  C01-R1-S1-1 fan 2   opened Mon 09:00 (A's machine, fixed 6 days 20.5 h earlier: a repeat),
 *                          taken by alice 09:05 (300 s), cleared 10:05 → fixed: MTTR 3900 s
 *   → opened 1, repeats 1, MTTA 300 s, MTTR 3900 s
 */
import type { TestDatabase } from '../../billing/test/pg';
import { backlog, effectivenessReport, syncTickets, TicketStore, weekOverWeek } from '../src';
import { at, firing } from './alerts';
import { createMaintenanceDatabase } from './db';

let db: TestDatabase;
const OPTIONS = { verifyAfterMs: 30 * 60_000, repeatWindowMs: 7 * 86_400_000 };

beforeAll(async () => {
  db = await createMaintenanceDatabase('figures');
  const store = new TicketStore(db.pool);
  const A = firing('C01-R1-S1-1', 'FAN_STOPPED', 'fan 1', at('2026-11-02T10:00:00Z'));
  const B = firing('C01-R1-S1-2', 'CHIPS_DEAD', 'board 2', at('2026-11-03T08:00:00Z'));
  const C = firing('C02-R1-S1-1', 'HASHRATE_LOW', '', at('2026-11-04T00:00:00Z'));
  const D = firing('C01-R1-S1-1', 'FAN_STOPPED', 'fan 2', at('2026-11-09T09:00:00Z'));
  const id = async (alerts: typeof A[], now: string): Promise<number> => (await syncTickets(db.pool, alerts, at(now), OPTIONS)).opened[0]!;

  const a = await id([A], '2026-11-02T10:00:00Z');
  await store.acknowledge(a, 'alice', new Date('2026-11-02T10:10:00Z'));
  await store.take(a, 'alice', new Date('2026-11-02T10:30:00Z'));
  await store.close(a, 'alice', { action: 'replace_fan' }, new Date('2026-11-02T12:00:00Z'));
  await syncTickets(db.pool, [], at('2026-11-02T12:30:00Z'), OPTIONS);

  const b = await id([B], '2026-11-03T08:00:00Z');
  await store.acknowledge(b, 'bob', new Date('2026-11-03T08:30:00Z'));
  await store.take(b, 'bob', new Date('2026-11-03T09:00:00Z'));
  await syncTickets(db.pool, [], at('2026-11-03T09:40:00Z'), OPTIONS);

  await id([C], '2026-11-04T00:00:00Z');
  await syncTickets(db.pool, [], at('2026-11-04T00:20:00Z'), OPTIONS);

  const d = await id([D], '2026-11-09T09:00:00Z');
  await store.take(d, 'alice', new Date('2026-11-09T09:05:00Z'));
  await syncTickets(db.pool, [], at('2026-11-09T10:05:00Z'), OPTIONS);
  // One still open on Tuesday the 10th, opened 3 h before "now" below.
  await id([firing('C03-R1-S1-1', 'POOLS_DEAD', '', at('2026-11-10T09:00:00Z'))], '2026-11-10T09:00:00Z');
});
afterAll(async () => db.drop());

const range = { from: '2026-11-02T00:00:00Z', to: '2026-11-16T00:00:00Z' };

test('per week: MTTA, MTTR, repairs, repeats and self-healed as worked out by hand', async () => {
  const rows = await effectivenessReport(db.pool, { ...range, period: 'week' });
  expect(rows).toEqual([
    expect.objectContaining({ period: '2026-11-02', key: 'all', opened: 3, repeats: 0, acknowledged: 2, mttaS: 1200, repaired: 2, mttrS: 7500, selfHealed: 1 }),
    expect.objectContaining({ period: '2026-11-09', key: 'all', opened: 2, repeats: 1, acknowledged: 1, mttaS: 300, repaired: 1, mttrS: 3900, selfHealed: 0 }),
  ]);
});

test('per technician: each person their own acknowledgements and repairs', async () => {
  const rows = await effectivenessReport(db.pool, { ...range, period: 'month', by: 'technician' });
  const of = (key: string) => rows.find((r) => r.key === key);
  // alice acknowledged A (600 s) and D (300 s, by taking it); she fixed A (9000 s) and D (3900 s).
  expect(of('alice')).toMatchObject({ acknowledged: 2, mttaS: 450, repaired: 2, mttrS: 6450 });
  expect(of('bob')).toMatchObject({ acknowledged: 1, mttaS: 1800, repaired: 1, mttrS: 6000 });
  expect(of('(none)')).toMatchObject({ opened: 5, selfHealed: 1, repaired: 0 });
});

test("per day in the farm's time zone: Wednesday 00:00 UTC is Tuesday evening in Chicago", async () => {
  const utc = await effectivenessReport(db.pool, { ...range, period: 'day', by: 'container' });
  const chicago = await effectivenessReport(db.pool, { ...range, period: 'day', by: 'container', timeZone: 'America/Chicago' });
  expect(utc.find((r) => r.key === 'C02')?.period).toBe('2026-11-04');
  expect(chicago.find((r) => r.key === 'C02')?.period).toBe('2026-11-03');
});

test('MTTR this week against last week, and the backlog by age', async () => {
  const now = new Date('2026-11-10T12:00:00Z');
  expect(await weekOverWeek(db.pool, now)).toEqual({
    thisWeek: { mttrS: 3900, repaired: 1, mttaS: 300 },
    lastWeek: { mttrS: 7500, repaired: 2, mttaS: 1200 },
  });
  const b = await backlog(db.pool, now);
  expect(b).toMatchObject({ open: 1, unacknowledged: 1, oldestS: 3 * 3600, bySeverity: { critical: 1, warning: 0, info: 0 } });
  expect(b.byAge).toEqual({ under1h: 0, under4h: 1, under24h: 0, under7d: 0, older: 0 });
});
