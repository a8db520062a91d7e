/**
 * The demo's ticket history, seeded into real PostgreSQL (the schema's constraints reject anything inconsistent on
 * insert): the figures over it are never empty, it tells the story it should (repeats, boards that keep failing,
 * repairs getting faster), it reads through the real store and sync code, and seeding twice writes nothing.
 */
import { Prng } from '@flymining/simulator/src/prng';
import type { TestDatabase } from '../../billing/test/pg';
import { effectivenessReport, machineRef, syncTickets, TicketStore } from '../src';
import { seedTicketHistory, type SeedMiner } from '../src/demo-seed';
import { firing } from './alerts';
import { createMaintenanceDatabase } from './db';

const DAY = 86_400_000;
const WEEKS = 6;
// A Wednesday noon: the first and the current week are both partial.
const NOW = Date.parse('2026-11-25T12:00:00Z');
const FROM = new Date(NOW - WEEKS * 7 * DAY);
const TECHNICIANS = ['alice', 'bob', 'carol'];
const MINERS: SeedMiner[] = Array.from({ length: 60 }, (_, i) => {
  const container = `C0${1 + Math.floor(i / 20)}`;
  const rack = `R${1 + Math.floor((i % 20) / 10)}`;
  const shelf = `S${1 + Math.floor((i % 10) / 5)}`;
  const slot = String(1 + (i % 5));
  return { id: `${container}-${rack}-${shelf}-${slot}`, container, rack, shelf, slot, site: 'north-1', nominalThs: 110, ...(i % 2 === 0 ? { serial: `SN${1000 + i}` } : {}) };
});

let db: TestDatabase;
let written = 0;

beforeAll(async () => {
  db = await createMaintenanceDatabase('seed');
  const prng = new Prng(42);
  written = await seedTicketHistory(db.pool, { weeks: WEEKS, miners: MINERS, technicians: TECHNICIANS, now: NOW, random: () => prng.next() });
});
afterAll(async () => db.drop());

const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await db.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

test('a history of closed tickets, and a second seed writes nothing', async () => {
  // 60 miners at 2 % a day is 1.2 faults a day: the floor of 3 a day applies, a few are skipped (part already in a ticket).
  expect(written).toBeGreaterThan(WEEKS * 7 * 3 * 0.8);
  expect(await count('SELECT count(*) AS n FROM maintenance.tickets')).toBe(written);
  expect(await count('SELECT count(*) AS n FROM maintenance.tickets WHERE closed_at IS NULL OR closed_at > $1', [new Date(NOW)])).toBe(0);
  const events = await count('SELECT count(*) AS n FROM maintenance.ticket_events');

  const again = new Prng(7);
  await expect(seedTicketHistory(db.pool, { weeks: WEEKS, miners: MINERS, technicians: TECHNICIANS, now: NOW, random: () => again.next() })).resolves.toBe(0);
  expect(await count('SELECT count(*) AS n FROM maintenance.tickets')).toBe(written);
  expect(await count('SELECT count(*) AS n FROM maintenance.ticket_events')).toBe(events);
});

test('every week of the history has MTTA and MTTR, with repeats and self-healed faults among them', async () => {
  const rows = await effectivenessReport(db.pool, { from: FROM, to: new Date(NOW), period: 'week' });
  // Mondays from the one on or before FROM up to NOW's week.
  const mondays: string[] = [];
  for (let t = Date.parse('2026-10-12T00:00:00Z'); t <= NOW; t += 7 * DAY) mondays.push(new Date(t).toISOString().slice(0, 10));
  expect(FROM.getTime()).toBeGreaterThanOrEqual(Date.parse(mondays[0]!));
  expect(rows.map((r) => r.period)).toEqual(mondays);
  for (const r of rows) {
    expect(r).toMatchObject({ key: 'all', mttaS: expect.any(Number), mttrS: expect.any(Number) });
    expect(r.opened).toBeGreaterThan(0);
    // Acknowledged in minutes to hours, repaired in hours.
    expect(r.mttaS!).toBeGreaterThan(60);
    expect(r.mttaS!).toBeLessThan(3 * 3600);
    expect(r.mttrS!).toBeGreaterThan(r.mttaS!);
    expect(r.mttrS!).toBeLessThan(12 * 3600);
  }
  expect(rows.reduce((s, r) => s + r.repeats, 0)).toBeGreaterThan(0);
  expect(rows.reduce((s, r) => s + r.selfHealed, 0)).toBeGreaterThan(0);
  expect(rows.reduce((s, r) => s + r.lostThHours, 0)).toBeGreaterThan(0);
  expect(rows.reduce((s, r) => s + Number(r.lostBtc), 0)).toBeGreaterThan(0);
});

test('repairs get faster: the second half of the history has a lower MTTR than the first', async () => {
  const { rows } = await db.pool.query<{ early: number; late: number }>(
    `SELECT (avg(extract(epoch FROM fixed_at - opened_at)) FILTER (WHERE fixed_at < $1))::float8 AS early,
            (avg(extract(epoch FROM fixed_at - opened_at)) FILTER (WHERE fixed_at >= $1))::float8 AS late FROM maintenance.tickets`,
    [new Date(NOW - (WEEKS * 7 * DAY) / 2)],
  );
  expect(rows[0]!.late).toBeLessThan(rows[0]!.early * 0.9);
});

test('a row per technician, each with acknowledgements and repairs', async () => {
  const rows = await effectivenessReport(db.pool, { from: FROM, to: new Date(NOW), period: 'month', by: 'technician' });
  for (const who of TECHNICIANS) {
    const mine = rows.filter((r) => r.key === who);
    expect(mine.reduce((s, r) => s + r.acknowledged, 0)).toBeGreaterThan(0);
    expect(mine.reduce((s, r) => s + r.repaired, 0)).toBeGreaterThan(0);
  }
});

test('the timeline of each ticket is one the sync and the staff actions could have written', async () => {
  // Timestamps in order along each ticket's state changes.
  expect(
    await count(`SELECT count(*) AS n FROM maintenance.tickets WHERE state = 'verified' AND NOT (
        acknowledged_at <= taken_at AND taken_at < fixed_at AND fixed_at = cleared_at AND verified_at - fixed_at >= interval '30 minutes'
        AND closed_at = verified_at AND fixed_by IS NOT NULL)`),
  ).toBe(0);
  expect(await count(`SELECT count(*) AS n FROM maintenance.tickets WHERE state = 'self_healed' AND (fixed_at IS NOT NULL OR taken_at IS NOT NULL OR closed_at <> cleared_at)`)).toBe(0);
  // Events in id order are in time order, open with 'opened' and end with how the ticket closed.
  const { rows } = await db.pool.query<{ id: string; state: string; reopened: number; kinds: string[]; ordered: boolean }>(
    `SELECT t.id, t.state, t.reopened, array_agg(e.kind ORDER BY e.id) AS kinds, array_agg(e.at ORDER BY e.id) = array_agg(e.at ORDER BY e.at, e.id) AS ordered
       FROM maintenance.tickets t JOIN maintenance.ticket_events e ON e.ticket_id = t.id GROUP BY t.id, t.state, t.reopened`,
  );
  expect(rows).toHaveLength(written);
  for (const r of rows) {
    expect(r.ordered).toBe(true);
    expect(r.kinds[0]).toBe('opened');
    expect(r.kinds[r.kinds.length - 1]).toBe(r.state);
  }
  // A fix that did not hold is counted on the ticket as the sync counts it.
  for (const r of rows) expect(r.reopened).toBe(r.kinds.filter((k) => k === 'reopened').length);
  // Never two tickets of the same machine and part open at the same time.
  expect(
    await count(`SELECT count(*) AS n FROM maintenance.tickets a JOIN maintenance.tickets b
      ON a.machine_id = b.machine_id AND a.part = b.part AND a.id < b.id AND a.opened_at < b.closed_at AND b.opened_at < a.closed_at`),
  ).toBe(0);
  // A repeat points at the same machine's latest fix within the 7 days before it opened.
  expect(
    await count(`SELECT count(*) AS n FROM maintenance.tickets t JOIN maintenance.tickets p ON p.id = t.repeat_of
      WHERE p.machine_id <> t.machine_id OR p.fixed_at > t.opened_at OR p.fixed_at < t.opened_at - interval '7 days'
         OR EXISTS (SELECT 1 FROM maintenance.tickets q WHERE q.machine_id = t.machine_id AND q.fixed_at > p.fixed_at AND q.fixed_at <= t.opened_at)`),
  ).toBe(0);
});

test('two hashboards keep failing: taken out twice, from two miners', async () => {
  const store = new TicketStore(db.pool);
  const offenders = (await store.repeatOffenders()).filter((o) => o.kind === 'hashboard');
  expect(offenders.length).toBeGreaterThanOrEqual(2);
  for (const board of offenders.slice(0, 2)) {
    const history = await store.partHistory(board.serial);
    // Out of one miner, into another after the bench, out again.
    expect(history.filter((r) => r.parts.some((p) => p.removedSerial === board.serial))).toHaveLength(board.removals);
    expect(history.some((r) => r.parts.some((p) => p.installedSerial === board.serial))).toBe(true);
    expect(new Set(history.map((r) => r.ticketId)).size).toBeGreaterThanOrEqual(2);
  }
});

test('the seeded history is what the staff page and the live sync read', async () => {
  const store = new TicketStore(db.pool);
  const serial = MINERS[0]!.serial!;
  const history = await store.machineHistory(serial);
  expect(history.machine.identity).toBe(`serial:${serial}`);
  for (const t of history.tickets) expect(['verified', 'self_healed']).toContain(t.state);
  const detail = await store.get(history.tickets[0]!.id);
  expect(detail.events[0]!.kind).toBe('opened');

  // A live fault on a machine fixed in the last days of the history is counted as a repeat of that fix.
  const { rows } = await db.pool.query<{ id: string; miner: string; part: string }>(
    `SELECT id, miner, part FROM maintenance.tickets WHERE fixed_at >= $1 ORDER BY fixed_at DESC LIMIT 1`,
    [new Date(NOW - 3 * DAY)],
  );
  const last = rows[0]!;
  const miner = MINERS.find((m) => m.id === last.miner)!;
  const alert = firing(miner.id, 'FAN_STOPPED', 'fan 9', NOW, { machine: machineRef(miner.id, miner.serial ? { serial: miner.serial } : undefined) });
  const out = await syncTickets(db.pool, [alert], NOW);
  const opened = await store.get(out.opened[0]!);
  expect(opened.ticket.repeatOf).toBe(Number(last.id));
});
