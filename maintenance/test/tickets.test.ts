/**
 * Tickets against a real PostgreSQL: a page opens one ticket per machine and part, staff work it, the fault
 * clearing fixes it and quiet time verifies it; a fault that clears by itself closes as self-healed; history
 * follows the machine's serial across slots.
 */
import type { TestDatabase } from '../../billing/test/pg';
import { machineRef, syncTickets, TicketError, TicketStore } from '../src';
import { at, firing } from './alerts';
import { createMaintenanceDatabase } from './db';

let db: TestDatabase;
let store: TicketStore;
const VERIFY = { verifyAfterMs: 30 * 60_000, repeatWindowMs: 7 * 86_400_000 };

beforeEach(async () => {
  db = await createMaintenanceDatabase('tickets');
  store = new TicketStore(db.pool);
});
afterEach(async () => db.drop());

test('a fan that stops opens one ticket; taken, repaired, cleared, then verified after quiet time', async () => {
  const fan = firing('C01-R1-S1-1', 'FAN_STOPPED', 'fan 1', at('2026-11-02T10:00:00Z'));
  const opened = await syncTickets(db.pool, [fan], at('2026-11-02T10:00:05Z'), VERIFY);
  expect(opened.opened).toHaveLength(1);
  const id = opened.opened[0]!;
  // The same alert next cycle, and the fan going missing too: still one ticket for that fan.
  const again = await syncTickets(db.pool, [fan, firing('C01-R1-S1-1', 'FAN_MISSING', 'fan 1', at('2026-11-02T10:01:00Z'))], at('2026-11-02T10:01:05Z'), VERIFY);
  expect(again.opened).toEqual([]);
  expect((await store.list()).map((t) => t.id)).toEqual([id]);

  await store.take(id, 'alice', new Date('2026-11-02T10:20:00Z'));
  const closing = await store.close(id, 'alice', { action: 'replace_fan', parts: [{ kind: 'fan', removedSerial: 'FAN-OLD-1', installedSerial: 'FAN-NEW-1' }], minutesOnSite: 25 }, new Date('2026-11-02T10:45:00Z'));
  expect(closing.waitingForClear).toBe(true); // the exporter still sees the fan stopped
  expect(closing.ticket.state).toBe('in_repair');

  const cleared = await syncTickets(db.pool, [], at('2026-11-02T10:46:00Z'), VERIFY);
  expect(cleared.fixed).toEqual([id]);
  expect(await syncTickets(db.pool, [], at('2026-11-02T11:15:00Z'), VERIFY)).toMatchObject({ verified: [] }); // 29 min quiet
  expect((await syncTickets(db.pool, [], at('2026-11-02T11:16:00Z'), VERIFY)).verified).toEqual([id]);

  const { ticket, events, repairs } = await store.get(id);
  expect(ticket).toMatchObject({ state: 'verified', acknowledgedBy: 'alice', takenBy: 'alice', fixedBy: 'alice', firing: false });
  expect(ticket.fixedAt?.toISOString()).toBe('2026-11-02T10:46:00.000Z');
  expect(events.map((e) => e.kind)).toEqual(['opened', 'refired', 'acknowledged', 'taken', 'repair', 'cleared', 'fixed', 'verified']);
  expect(repairs[0]).toMatchObject({ action: 'replace_fan', by: 'alice', minutesOnSite: 25, parts: [{ kind: 'fan', removedSerial: 'FAN-OLD-1', installedSerial: 'FAN-NEW-1' }] });
  expect(await store.list()).toEqual([]); // nothing left in the backlog
});

test('a fault that clears before anybody works on it closes as self-healed; an acknowledged one too', async () => {
  const a = firing('C01-R1-S1-2', 'HASHRATE_LOW', '', at('2026-11-02T10:00:00Z'));
  const b = firing('C01-R1-S1-3', 'CHIPS_DEAD', 'board 2', at('2026-11-02T10:00:00Z'));
  const { opened } = await syncTickets(db.pool, [a, b], at('2026-11-02T10:00:00Z'), VERIFY);
  await store.acknowledge(opened[1]!, 'bob');
  const healed = await syncTickets(db.pool, [], at('2026-11-02T10:30:00Z'), VERIFY);
  expect(healed.selfHealed.sort()).toEqual([...opened].sort());
  const closed = await store.list({ state: 'closed' });
  expect(closed.map((t) => t.state)).toEqual(['self_healed', 'self_healed']);
  await expect(store.take(opened[0]!, 'bob')).rejects.toThrow(/self healed: nothing to take/);
});

test('a muted alert (silenced, stale) opens no ticket and does not close one', async () => {
  const alert = firing('C01-R1-S1-4', 'FAN_STOPPED', 'fan 2', at('2026-11-02T10:00:00Z'));
  expect((await syncTickets(db.pool, [{ ...alert, pages: false }], at('2026-11-02T10:00:00Z'), VERIFY)).opened).toEqual([]);
  const { opened } = await syncTickets(db.pool, [alert], at('2026-11-02T10:01:00Z'), VERIFY);
  // Silenced afterwards: still firing, so still open.
  const later = await syncTickets(db.pool, [{ ...alert, pages: false }], at('2026-11-02T12:00:00Z'), VERIFY);
  expect(later.selfHealed).toEqual([]);
  expect((await store.get(opened[0]!)).ticket.state).toBe('open');
});

test('a fix that does not hold reopens the ticket; a new failure within 7 days of a fix counts as a repeat', async () => {
  const alert = firing('C01-R1-S2-1', 'BOARD_MISSING', 'board 1', at('2026-11-02T10:00:00Z'));
  const [id] = (await syncTickets(db.pool, [alert], at('2026-11-02T10:00:00Z'), VERIFY)).opened;
  await store.take(id!, 'carol', new Date('2026-11-02T10:05:00Z'));
  await syncTickets(db.pool, [], at('2026-11-02T11:00:00Z'), VERIFY); // cleared after the reseat: fixed
  const back = await syncTickets(db.pool, [{ ...alert, firedAt: at('2026-11-02T11:10:00Z') }], at('2026-11-02T11:10:00Z'), VERIFY);
  expect(back.reopened).toEqual([id]);
  expect((await store.get(id!)).ticket).toMatchObject({ state: 'reopened', reopened: 1 });
  await store.take(id!, 'carol');
  await store.close(id!, 'carol', { action: 'replace_hashboard', parts: [{ kind: 'hashboard', removedSerial: 'HB-7', installedSerial: 'HB-9' }] }, new Date('2026-11-02T12:00:00Z'));
  await syncTickets(db.pool, [], at('2026-11-02T12:01:00Z'), VERIFY);
  await syncTickets(db.pool, [], at('2026-11-02T13:00:00Z'), VERIFY);
  expect((await store.get(id!)).ticket.state).toBe('verified');

  const next = await syncTickets(db.pool, [firing('C01-R1-S2-1', 'FAN_STOPPED', 'fan 1', at('2026-11-05T09:00:00Z'))], at('2026-11-05T09:00:00Z'), VERIFY);
  expect((await store.get(next.opened[0]!)).ticket.repeatOf).toBe(id);
  const far = await syncTickets(db.pool, [firing('C01-R1-S2-1', 'CHIPS_DEAD', 'board 3', at('2026-11-20T09:00:00Z'))], at('2026-11-20T09:00:00Z'), VERIFY);
  expect((await store.get(far.opened[0]!)).ticket.repeatOf).toBeNull();
});

test("a miner's history follows its serial to another slot; a board's serial history shows it failing twice", async () => {
  const serialA = machineRef('C01-R1-S1-1', { serial: 'HKYS20A1234', model: 'Antminer S21' });
  const first = await syncTickets(db.pool, [firing('C01-R1-S1-1', 'CHIPS_DEAD', 'board 1', at('2026-10-01T10:00:00Z'), { machine: serialA })], at('2026-10-01T10:00:00Z'), VERIFY);
  await store.close(first.opened[0]!, 'alice', { action: 'replace_hashboard', parts: [{ kind: 'hashboard', removedSerial: 'HB-100', installedSerial: 'HB-200' }] }, new Date('2026-10-01T11:00:00Z'));
  await syncTickets(db.pool, [], at('2026-10-01T11:05:00Z'), VERIFY);
  expect((await syncTickets(db.pool, [], at('2026-10-01T12:00:00Z'), VERIFY)).verified).toEqual(first.opened);
  // The machine is moved to container C02; its next failure is recorded against the same machine.
  const movedRef = machineRef('C02-R3-S1-5', { serial: 'HKYS20A1234' });
  const second = await syncTickets(db.pool, [firing('C02-R3-S1-5', 'CHIPS_DEAD', 'board 1', at('2026-10-20T10:00:00Z'), { machine: movedRef })], at('2026-10-20T10:00:00Z'), VERIFY);
  await store.close(second.opened[0]!, 'bob', { action: 'replace_hashboard', parts: [{ kind: 'hashboard', removedSerial: 'HB-200', installedSerial: 'HB-300' }] }, new Date('2026-10-20T11:00:00Z'));
  // Another miner in the old slot has a history of its own.
  await syncTickets(db.pool, [firing('C01-R1-S1-1', 'FAN_STOPPED', 'fan 1', at('2026-10-21T10:00:00Z'), { machine: machineRef('C01-R1-S1-1', { serial: 'OTHER-1' }) })], at('2026-10-21T10:00:00Z'), VERIFY);

  const history = await store.machineHistory('HKYS20A1234');
  expect(history.machine).toMatchObject({ identity: 'serial:HKYS20A1234', model: 'Antminer S21' });
  expect(history.tickets.map((t) => t.miner)).toEqual(['C02-R3-S1-5', 'C01-R1-S1-1']);
  expect(history.repairs).toHaveLength(2);
  expect((await store.machineHistory('C02-R3-S1-5')).machine.identity).toBe('serial:HKYS20A1234');
  expect((await store.machineHistory('C01-R1-S1-1')).machine.identity).toBe('serial:OTHER-1');

  expect((await store.partHistory('HB-200')).map((r) => r.by)).toEqual(['bob', 'alice']);
  await store.close((await store.list())[0]!.id, 'carol', { action: 'replace_hashboard', parts: [{ kind: 'hashboard', removedSerial: 'HB-200' }] });
  expect(await store.repeatOffenders()).toEqual([expect.objectContaining({ serial: 'HB-200', kind: 'hashboard', removals: 2 })]);
});

test('staff actions: one technician gets a ticket, the other is told who has it; bad input names the field', async () => {
  const { opened } = await syncTickets(db.pool, [firing('C01-R1-S1-1', 'FAN_STOPPED', 'fan 1', Date.now())], Date.now(), VERIFY);
  const id = opened[0]!;
  const results = await Promise.allSettled([store.take(id, 'alice'), store.take(id, 'bob')]);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  expect(refused.reason).toBeInstanceOf(TicketError);
  expect((refused.reason as TicketError).status).toBe(409);
  expect((refused.reason as Error).message).toMatch(/already in repair by (alice|bob)/);

  await expect(store.close(id, 'alice', { action: 'hit_it' as never })).rejects.toThrow(/repair record: action: one of reseat/);
  await expect(store.close(id, 'alice', { action: 'replace_fan', parts: [{ kind: 'fan' }] })).rejects.toThrow(/parts\.0: give the serial/);
  await expect(store.note(id, '   ', 'x')).rejects.toThrow(/who did it must be named/);
  await expect(store.get(999_999)).rejects.toMatchObject({ status: 404 });

  const noted = await store.note(id, 'alice', 'Fan cable <b>loose</b>');
  expect(noted.id).toBe(id);
  expect((await store.get(id)).events.at(-1)).toMatchObject({ kind: 'note', by: 'alice', detail: 'Fan cable <b>loose</b>' });
});

test('an acknowledge link acknowledges every live ticket of its group, once', async () => {
  const t0 = Date.now() - 60_000;
  const group = 'route:container="C03"';
  const { opened } = await syncTickets(
    db.pool,
    [firing('C03-R1-S1-1', 'FAN_STOPPED', 'fan 1', t0, { groupKey: group }), firing('C03-R1-S1-2', 'CHIP_OVERHEAT', '', t0, { groupKey: group }), firing('C04-R1-S1-1', 'FAN_STOPPED', 'fan 1', t0)],
    t0,
    VERIFY,
  );
  expect(await store.unacknowledgedGroups([group])).toEqual(new Set([group]));
  expect((await store.acknowledgeGroup(group, 'oncall@farm.example')).sort()).toEqual(opened.slice(0, 2).sort());
  expect(await store.acknowledgeGroup(group, 'someone-else')).toEqual([]);
  expect((await store.get(opened[0]!)).ticket).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'oncall@farm.example' });
  expect((await store.get(opened[2]!)).ticket.state).toBe('open');
  expect(await store.unacknowledgedGroups([group])).toEqual(new Set());
});

test('an escalation is recorded on every live ticket of its group and no other', async () => {
  const t0 = Date.now() - 60_000;
  const group = 'route:container="C05"';
  const { opened } = await syncTickets(db.pool, [firing('C05-R1-S1-1', 'FAN_STOPPED', 'fan 1', t0, { groupKey: group }), firing('C06-R1-S1-1', 'FAN_STOPPED', 'fan 1', t0)], t0, VERIFY);
  expect(await store.recordEscalation(group, 'level 1: Bob <bob@farm.example>')).toEqual([opened[0]]);
  expect((await store.get(opened[0]!)).events.at(-1)).toMatchObject({ kind: 'escalated', by: null, detail: 'level 1: Bob <bob@farm.example>' });
  expect((await store.get(opened[1]!)).events.map((e) => e.kind)).not.toContain('escalated');
  await expect(store.recordEscalation(group, '')).rejects.toMatchObject({ status: 400 });
});
