/**
 * The temperature loop closed against a simulated container (issue 14): ten Braiins OS units (REST, real sockets),
 * the climate exporter's readings, the miner exporter's sweeps and its control agent acting through the real write
 * path, on a simulated clock moved three minutes a step. A hot afternoon; then the recirculation damper sticks at
 * 40 % (of its 80 %), so the miners' own heat comes back to the intake; then a front brings a frosty night; then a
 * silent and an absurd intake sensor.
 */
import { ClosedLoop, HOUR, MINUTE, directionChanges, type Observation } from './loop-harness';

const STEP = 3 * MINUTE;
const BAND: [number, number] = [5, 40];
const CHIP_MAX = 80;
const HYSTERESIS = 1.5;
/** Braiins OS's own power target on the simulated S19 XP: 97 % of its 3137 W. */
const HOME_W = 3043;

const tomorrow = new Date(Date.now() + 24 * HOUR);
const START = Date.UTC(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth(), tomorrow.getUTCDate(), 10);
const STUCK = START + 3 * HOUR; // 13:00
const FRONT = START + 5 * HOUR; // 15:00
const END = START + 19 * HOUR; // 05:00

let loop: ClosedLoop;
const optedOut = 'C01-R01-S1-10';
const staffAsleep = 'C01-R01-S1-9';
let managed: string[];
const seen: Observation[] = [];
const between = (from: number, to: number): Observation[] => seen.filter((o) => o.nowMs > from && o.nowMs <= to);

beforeAll(async () => {
  loop = await ClosedLoop.start({
    miners: 10,
    baseAddress: '127.216.1.1',
    startMs: START,
    temperature: { enabled: true, intakeBandC: BAND, chipMaxC: CHIP_MAX, hysteresisC: HYSTERESIS, dwell: '5m', stepMiners: 3, powerStepShare: 0.15, staleAfter: '3m', damperMaxPercent: 80, optOut: [optedOut] },
  });
  managed = loop.specs.map((s) => s.id).filter((id) => id !== optedOut && id !== staffAsleep);
  // Staff put one unit to sleep before the loop ran: the loop must leave it asleep.
  loop.farm.miner(staffAsleep)?.commandSleep('staff');

  loop.setWeather({ profile: 'hot-afternoon' });
  while (loop.nowMs < STUCK) seen.push(await loop.step(STEP));
  loop.setDamper(0.4);
  while (loop.nowMs < FRONT) seen.push(await loop.step(STEP));
  loop.setWeather({ profile: 'cold-night' });
  while (loop.nowMs < END) seen.push(await loop.step(STEP));
}, 600_000);

afterAll(async () => {
  await loop?.stop();
});

const decisions = () => loop.sink.points('control_decision').filter((p) => p.tags.policy === 'temperature');
let parsed: { count: number; list: ReturnType<typeof decisions> } = { count: -1, list: [] };
const decisionsAt = (from: number, to: number) => {
  if (parsed.count !== loop.sink.lines.length) parsed = { count: loop.sink.lines.length, list: decisions() };
  return parsed.list.filter((d) => d.time > from && d.time <= to);
};
const acted = (from: number, to: number) => decisionsAt(from, to).filter((d) => Number(d.fields.miners?.replace(/i$/, '')) > 0);

describe('a hot afternoon (damper closed)', () => {
  test('chips stay at chipMaxC (within the loop’s reaction) while the opted-out unit, left alone, runs hotter', () => {
    const settled = between(START + 30 * MINUTE, STUCK);
    const managedChips = settled.flatMap((o) => managed.map((id) => o.chips.get(id) ?? 0));
    expect(Math.max(...managedChips)).toBeLessThan(CHIP_MAX + 2.5);
    expect(managedChips.filter((c) => c > CHIP_MAX).length / managedChips.length).toBeLessThan(0.05);
    // The weather was hot enough to matter: the unit the loop may not touch went well above the limit.
    expect(Math.max(...settled.map((o) => o.chips.get(optedOut) ?? 0))).toBeGreaterThan(CHIP_MAX + 2);
    expect(acted(START, STUCK).map((d) => d.tags.decision)).toContain('step-down');
  });
});

describe('the damper stuck at 40 %: the miners heat their own intake', () => {
  test('it steps every unit down to its floor before it sleeps the hottest, and the intake comes back down', () => {
    const kinds = acted(STUCK, FRONT).map((d) => d.tags.decision);
    expect(kinds).toContain('step-down');
    const firstSleep = acted(STUCK, FRONT).find((d) => d.tags.decision === 'sleep');
    expect(firstSleep?.fields.reason).toMatch(/too hot, every miner at its floor: sleeping the 3 hottest/);
    const stuck = between(STUCK, FRONT);
    const peak = Math.max(...stuck.map((o) => o.intakeC));
    expect(peak).toBeGreaterThan(BAND[1] + HYSTERESIS);
    expect(stuck.at(-1)!.intakeC).toBeLessThan(peak - 3);
  });
});

describe('a frosty night after the front', () => {
  test('it first wakes what it slept, then raises power: within 3 h every unit it touched hashes at its own target', () => {
    const firstActs = acted(FRONT, END).map((d) => d.tags.decision);
    expect(firstActs[0]).toBe('wake');
    expect(firstActs).toContain('step-up');
    expect(firstActs.indexOf('step-up')).toBeGreaterThan(firstActs.lastIndexOf('wake'));
    for (const o of between(FRONT + 3 * HOUR, END)) for (const id of managed) expect([id, o.modes.get(id)]).toEqual([id, 'hashing']);
    for (const id of managed) expect([id, loop.farm.miner(id)?.commandedState().powerTargetW ?? HOME_W]).toEqual([id, HOME_W]);
  });

  test('the intake stays at or above the band’s low edge, or the loop recommends recirculation while it cannot', () => {
    const night = between(FRONT, END);
    const tooCold = night.filter((o) => o.intakeC < BAND[0] - HYSTERESIS);
    // It got cold enough to matter: with the damper stuck at 40 % not even full power keeps the intake in band.
    expect(tooCold.length).toBeGreaterThan(night.length / 2);
    for (const o of tooCold) {
      const here = decisionsAt(o.nowMs - STEP, o.nowMs + STEP).map((d) => d.tags.decision);
      expect({ at: new Date(o.nowMs).toISOString(), intake: o.intakeC, recommended: here.includes('recommend-recirculation') }).toEqual({ at: new Date(o.nowMs).toISOString(), intake: o.intakeC, recommended: true });
    }
    const recommendation = decisionsAt(FRONT, END).find((d) => d.tags.decision === 'recommend-recirculation');
    expect(recommendation?.fields.reason).toMatch(/too cold; the damper is at 40 % of 80 %: recirculate more exhaust air \(the loop does not drive the damper/);
    const last = decisionsAt(END - STEP, END).map((d) => d.fields.reason).join(' | ');
    expect(last).toMatch(/nothing it took is left to give back/);
  });
});

describe('over the whole day', () => {
  test('no oscillation: each unit changes direction at most twice', () => {
    const changes = managed.map((id) => [id, directionChanges(loop.writes(id))] as const);
    expect(changes.filter(([, n]) => n > 2)).toEqual([]);
    // And it did act on most of them (down in the afternoon, back up at night).
    expect(changes.filter(([, n]) => n >= 1).length).toBeGreaterThanOrEqual(4);
  });

  test('it never touches the opted-out unit nor the one staff put to sleep', () => {
    expect(loop.writes(optedOut)).toEqual([]);
    expect(loop.writes(staffAsleep).map((w) => w.action)).toEqual(['sleep']);
    expect(loop.farm.miner(staffAsleep)?.describe().mode).toBe('sleeping');
    const actions = loop.sink.points('control_action');
    expect(actions.some((a) => a.tags.miner === optedOut || a.tags.miner === staffAsleep)).toBe(false);
  });

  test('every decision is a control_decision point with the readings it judged; every action a control_action by the policy', () => {
    const all = decisions();
    // One or two decisions per evaluation (a recommendation comes with a step or a hold).
    expect(all.length).toBeGreaterThanOrEqual(seen.length);
    for (const d of all.slice(0, 50)) {
      expect(d.tags).toMatchObject({ site: 'SIM', container: 'C01', policy: 'temperature' });
      expect(Number(d.fields.band_low_c)).toBe(BAND[0]);
      expect(Number(d.fields.band_high_c)).toBe(BAND[1]);
      expect(Number.isFinite(Number(d.fields.intake_c))).toBe(true);
    }
    const actions = loop.sink.points('control_action');
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) expect([a.tags.actor_kind, a.fields.actor]).toEqual(['policy', 'temperature']);
    expect(new Set(actions.map((a) => a.tags.outcome))).toContain('confirmed');
  });
});

describe('bad climate data', () => {
  test('a silent intake sensor freezes it (no action while hot) and raises CONTROL_SENSOR_STALE; readings back, the fault clears and it acts', async () => {
    loop.setDamper(null);
    loop.setWeather({ outsideC: 44 }); // hot enough that fresh readings would make it act
    const silentFrom = loop.nowMs;
    // The first silent step still has a reading within staleAfter (and the chips are already hot: it may act).
    await loop.step(STEP, { silent: true });
    const before = managed.map((id) => loop.writes(id).length);
    for (let i = 0; i < 2; i++) await loop.step(STEP, { silent: true });
    const frozen = decisionsAt(silentFrom + STEP, loop.nowMs);
    expect(frozen.length).toBeGreaterThan(0);
    expect(frozen.every((d) => d.tags.decision === 'frozen')).toBe(true);
    expect(frozen[0]?.fields.reason).toMatch(/intake reading is \d+ s old \(staleAfter 180 s\): no action until readings return/);
    expect(managed.map((id) => loop.writes(id).length)).toEqual(before);
    const fault = loop.activeFaults().find((f) => f.code === 'CONTROL_SENSOR_STALE');
    expect(fault).toMatchObject({ severity: 'critical', minerId: 'C01', part: 'temperature-loop', location: { container: 'C01', rack: '-' } });
    expect(loop.sink.points('fault').filter((f) => f.tags.code === 'CONTROL_SENSOR_STALE').map((f) => f.fields.active)).toEqual(['1i']);

    await loop.step(STEP);
    expect(loop.activeFaults().some((f) => f.code === 'CONTROL_SENSOR_STALE')).toBe(false);
    expect(loop.sink.points('fault').filter((f) => f.tags.code === 'CONTROL_SENSOR_STALE').map((f) => f.fields.active)).toEqual(['1i', '0i']);
    expect(decisionsAt(loop.nowMs - STEP, loop.nowMs).map((d) => d.tags.decision)).toContain('step-down');
  });

  test('an absurd intake reading (150 °C) is never acted on: it freezes', async () => {
    const from = loop.nowMs;
    await loop.step(STEP, { intake: 150 }); // the gate refuses it; the reading before is still within staleAfter
    const before = managed.map((id) => loop.writes(id).length);
    for (let i = 0; i < 2; i++) await loop.step(STEP, { intake: 150 });
    expect(managed.map((id) => loop.writes(id).length)).toEqual(before);
    const last = decisionsAt(from + STEP, loop.nowMs);
    expect(last.length).toBeGreaterThan(0);
    expect(last.every((d) => d.tags.decision === 'frozen')).toBe(true);
    expect(loop.activeFaults().some((f) => f.code === 'CONTROL_SENSOR_STALE')).toBe(true);
  });
});
