/** The on-call rota: hand-over at local time across daylight saving, overrides, escalation order, its file. */
import { onCallAt, parseRotaFile, RotaStore, upcomingShifts, type Rota } from '../src';
import { createMaintenanceDatabase } from './db';

const people = ['ann', 'ben', 'cat'].map((name) => ({ name, email: `${name}@farm.example`, active: true }));
// Weekly shifts handed over on Mondays at 08:00 in Oslo; ann's first shift starts Monday 2026-03-16.
const rota: Rota = { timeZone: 'Europe/Oslo', handover: '08:00', shift: 'weekly', anchor: '2026-03-16', escalateAfterMs: 15 * 60_000, members: people, overrides: [] };

test('shifts change at 08:00 Oslo time, before and after the clocks go forward (2026-03-29)', () => {
  // Monday 2026-03-23, 08:00 CET = 07:00 UTC: ann hands over to ben.
  expect(onCallAt(rota, new Date('2026-03-23T06:59:59Z'))?.person.name).toBe('ann');
  const ben = onCallAt(rota, new Date('2026-03-23T07:00:00Z'))!;
  expect(ben.person.name).toBe('ben');
  expect(ben.from.toISOString()).toBe('2026-03-23T07:00:00.000Z');
  // Summer time since Sunday: Monday 2026-03-30 08:00 CEST = 06:00 UTC.
  expect(ben.until.toISOString()).toBe('2026-03-30T06:00:00.000Z');
  expect(onCallAt(rota, new Date('2026-03-30T05:59:00Z'))?.person.name).toBe('ben');
  expect(onCallAt(rota, new Date('2026-03-30T06:00:00Z'))?.person.name).toBe('cat');
  // And round again; before the anchor the rotation runs backwards.
  expect(onCallAt(rota, new Date('2026-04-06T06:00:00Z'))?.person.name).toBe('ann');
  expect(onCallAt(rota, new Date('2026-03-10T12:00:00Z'))?.person.name).toBe('cat');
});

test('daily shifts and the shifts ahead', () => {
  const daily: Rota = { ...rota, shift: 'daily', handover: '19:30' };
  const shifts = upcomingShifts(daily, new Date('2026-03-16T12:00:00Z'), 4);
  expect(shifts.map((s) => s.person.name)).toEqual(['cat', 'ann', 'ben', 'cat']); // before 19:30 on the anchor day: the day before's
  expect(shifts[1]!.from.toISOString()).toBe('2026-03-16T18:30:00.000Z');
});

test('an override wins while it lasts; escalation walks the rotation after whoever is on call', () => {
  const covered: Rota = { ...rota, overrides: [{ name: 'cat', startsAt: new Date('2026-03-24T00:00:00Z'), endsAt: new Date('2026-03-25T00:00:00Z'), reason: 'ben at the dentist' }] };
  const during = new Date('2026-03-24T10:00:00Z');
  expect(onCallAt(covered, during)).toMatchObject({ person: { name: 'cat' }, override: { reason: 'ben at the dentist' } });
  expect(onCallAt(covered, new Date('2026-03-25T10:00:00Z'))?.person.name).toBe('ben');
  expect(onCallAt(covered, during, 1)?.person.name).toBe('ann');
  expect(onCallAt(covered, during, 2)?.person.name).toBe('ben');
  expect(onCallAt(covered, during, 3)).toBeUndefined();
  expect(onCallAt(rota, new Date('2026-03-24T10:00:00Z'), 1)?.person.name).toBe('cat');
  // Somebody off the rotation is skipped.
  const away: Rota = { ...rota, members: [people[0]!, { ...people[1]!, active: false }, people[2]!] };
  expect(onCallAt(away, new Date('2026-03-23T10:00:00Z'), 1)?.person.name).not.toBe('ben');
});

test('the rota file: errors name the line and field; it round-trips through PostgreSQL', async () => {
  expect(() => parseRotaFile('time_zone: Mars/Olympus\nhandover: "8am"\nanchor: 2026-03-16\nmembers: []\n', 'rota.yaml')).toThrow(
    /rota.yaml:1:\d+: time_zone: an IANA time zone[\s\S]*rota.yaml:2:\d+: handover: a local time HH:MM[\s\S]*members: list at least one person/,
  );
  expect(() => parseRotaFile('time_zone: UTC\nhandover: "08:00"\nanchor: "2026-03-16"\nmembers:\n  - { name: ann }\n  - { name: ann }\n', 'r.yaml')).toThrow(/r.yaml:6:\d+: members\[1\]\.name: "ann" is listed twice/);
  const file = parseRotaFile(
    'time_zone: Europe/Oslo\nhandover: "08:00"\nshift: weekly\nanchor: "2026-03-16"\nescalate_after: 10m\nmembers:\n  - { name: ann, email: ann@farm.example, telegram: 123456 }\n  - { name: ben, slack: U012AB3CD }\n',
    'rota.yaml',
  );
  const db = await createMaintenanceDatabase('rota');
  try {
    const store = new RotaStore(db.pool);
    expect(await store.load()).toBeUndefined();
    await store.importFile(file, 'admin');
    await store.addOverride({ name: 'ben', startsAt: new Date('2026-03-17T00:00:00Z'), endsAt: new Date(Date.now() + 86_400_000), reason: 'swap' }, 'admin');
    await expect(store.addOverride({ name: 'zed', startsAt: new Date(), endsAt: new Date(Date.now() + 1000), reason: '' }, 'admin')).rejects.toThrow(/"zed" is not on the staff list/);
    const loaded = (await store.load())!;
    expect(loaded).toMatchObject({ timeZone: 'Europe/Oslo', handover: '08:00', shift: 'weekly', anchor: '2026-03-16', escalateAfterMs: 600_000 });
    expect(loaded.members).toEqual([{ name: 'ann', email: 'ann@farm.example', telegram: '123456', active: true }, { name: 'ben', slack: 'U012AB3CD', active: true }]);
    expect(onCallAt(loaded, new Date())?.person.name).toBe('ben');
    await store.setMembers(['ben', 'ann'], 'admin');
    expect((await store.load())!.members.map((m) => m.name)).toEqual(['ben', 'ann']);
  } finally {
    await db.drop();
  }
});
