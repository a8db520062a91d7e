/**
 * The temperature loop's decisions on hand-made contexts: what it steps, sleeps, wakes and raises, and what it never
 * touches; hysteresis and dwell; freezing on stale and absurd readings; its memory across a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, type MinerSample } from '@flymining/shared';
import type { ActionResult, ControlTarget } from '../../src/miner/control/executor';
import type { ControlCapabilities, MinerAction } from '../../src/miner/control/types';
import { temperatureSchema, type TemperatureSettings } from '../../src/control/settings';
import { createTemperaturePolicy, type TemperaturePolicy } from '../../src/control/temperature';
import type { ContainerClimate, MinerState, PolicyContext, PolicyDecision } from '../../src/control/types';

const T0 = Date.UTC(2026, 6, 1, 12);
const MIN = 60_000;
const WATTS: ControlCapabilities = { reboot: true, sleep: true, power: { kind: 'watts', minW: 100, maxW: 15_000 }, pools: { maxSlots: 3, canSwitch: false }, blink: true, needsCredentials: true };
const MODES: ControlCapabilities = { reboot: true, sleep: true, power: { kind: 'modes', modes: ['low', 'normal', 'high'] }, pools: { maxSlots: 3, canSwitch: true }, blink: false, needsCredentials: true };

function settings(over: Partial<Record<string, unknown>> = {}): TemperatureSettings {
  return temperatureSchema.parse({ enabled: true, intakeBandC: [5, 35], chipMaxC: 85, hysteresisC: 1.5, dwell: '5m', stepMiners: 2, powerStepShare: 0.2, staleAfter: '3m', ...over });
}

interface FakeMiner {
  id: string;
  chipC: number;
  targetW?: number;
  workMode?: string;
  mode: MinerSample['mode'];
  caps?: ControlCapabilities;
  optOut?: string[];
}

function minerState(m: FakeMiner, now: number): MinerState {
  const target: ControlTarget = { id: m.id, site: 'S', container: 'C01', host: '127.0.0.1', port: 4028, ...(m.optOut ? { optOut: m.optOut } : {}) };
  const sample: MinerSample = {
    time: now,
    vendor: 'braiins',
    firmware: 'braiins-os',
    mode: m.mode,
    boards: [0, 1, 2].map((index) => ({ index, present: true, chipTempC: m.chipC - index })),
    fans: [],
    pools: [],
    errors: [],
    powerW: m.mode === 'sleeping' ? 15 : (m.targetW ?? 3000),
    ...(m.targetW === undefined ? {} : { powerTargetW: m.targetW }),
    ...(m.workMode === undefined ? {} : { workMode: m.workMode }),
  };
  return { target, sample, lastOkMs: now, faults: [], ...(m.caps === undefined ? { capabilities: WATTS } : m.caps === null ? {} : { capabilities: m.caps }) };
}

function climate(intakeC: number, now: number, extra: Partial<ContainerClimate> = {}): ContainerClimate {
  return { container: 'C01', writtenMs: now, intakeC, intakeAtMs: now, ...extra };
}

function ctx(miners: FakeMiner[], now: number, c: ContainerClimate | undefined): PolicyContext {
  return { now, site: 'S', container: 'C01', miners: miners.map((m) => minerState(m, now)), ...(c ? { climate: c } : {}) };
}

/** Applies the decisions' actions to the fake miners as a firmware would, and tells the policy (all confirmed). */
function apply(policy: TemperaturePolicy, decisions: PolicyDecision[], miners: FakeMiner[], now: number, outcome: ActionResult['outcome'] = 'confirmed'): void {
  const results: ActionResult[] = [];
  for (const d of decisions) {
    for (const a of d.actions) {
      for (const t of a.targets) {
        const m = miners.find((x) => x.id === t.id) as FakeMiner;
        if (outcome === 'confirmed') applyAction(m, a.action);
        results.push({ time: now, target: t, action: a.action, actor: { kind: 'policy', name: 'temperature' }, reason: a.reason, outcome, detail: '', reply: '', durationMs: 1 });
      }
    }
  }
  policy.onResults('C01', results);
}

function applyAction(m: FakeMiner, action: MinerAction): void {
  if (action.kind === 'sleep') m.mode = 'sleeping';
  if (action.kind === 'wake') m.mode = 'hashing';
  if (action.kind === 'power') {
    if ('watts' in action.target) m.targetW = action.target.watts;
    else m.workMode = action.target.mode;
  }
}

const kinds = (ds: PolicyDecision[]): string[] => ds.map((d) => d.decision);
const targetsOf = (ds: PolicyDecision[], kind?: string): string[] => ds.flatMap((d) => d.actions.filter((a) => !kind || a.action.kind === kind).flatMap((a) => a.targets.map((t) => t.id)));

function fleet(): FakeMiner[] {
  return [
    { id: 'm1', chipC: 70, targetW: 3000, mode: 'hashing' },
    { id: 'm2', chipC: 80, targetW: 3000, mode: 'hashing' },
    { id: 'm3', chipC: 75, targetW: 3000, mode: 'hashing' },
    { id: 'm4', chipC: 60, targetW: 3000, mode: 'hashing' },
  ];
}

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'temp-loop-'));
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

describe('temperature loop: too hot', () => {
  test('steps the hottest miners down by a share of their range, holds through the dwell, sleeps only when all are at their floor', () => {
    const s = settings();
    const policy = createTemperaturePolicy(() => s);
    const miners = fleet();
    let now = T0;
    const first = policy.evaluate(ctx(miners, now, climate(37.5, now)));
    expect(kinds(first)).toEqual(['step-down']);
    // The two hottest (m2 80 °C, m3 75 °C), 20 % of 3000 − 1500 = 300 W each.
    expect(first[0]?.actions.map((a) => [a.targets[0]?.id, a.action])).toEqual([
      ['m2', { kind: 'power', target: { watts: 2700 } }],
      ['m3', { kind: 'power', target: { watts: 2700 } }],
    ]);
    expect(first[0]).toMatchObject({ intakeC: 37.5, bandLowC: 5, bandHighC: 35, targetW: 5400 });
    apply(policy, first, miners, now);

    now += 2 * MIN;
    const held = policy.evaluate(ctx(miners, now, climate(37.5, now)));
    expect(kinds(held)).toEqual(['hold']);
    expect(held[0]?.reason).toMatch(/next step in 180 s \(dwell\)/);

    // Keep it hot: every step lowers someone until all four reach 1500 W, and no one sleeps before that.
    const sleptBeforeFloor: string[] = [];
    for (let i = 0; i < 40 && miners.some((m) => (m.targetW ?? 0) > 1500); i++) {
      now += 5 * MIN;
      const ds = policy.evaluate(ctx(miners, now, climate(37.5, now)));
      sleptBeforeFloor.push(...targetsOf(ds, 'sleep'));
      apply(policy, ds, miners, now);
    }
    expect(sleptBeforeFloor).toEqual([]);
    expect(miners.map((m) => m.targetW)).toEqual([1500, 1500, 1500, 1500]);

    now += 5 * MIN;
    const sleep = policy.evaluate(ctx(miners, now, climate(37.5, now)));
    expect(kinds(sleep)).toEqual(['sleep']);
    expect(targetsOf(sleep, 'sleep')).toEqual(['m2', 'm3']);
    apply(policy, sleep, miners, now);
    expect(policy.sleptByLoop().sort()).toEqual(['m2', 'm3']);
  });

  test('a chip above chipMaxC steps that miner down with the intake in band; at its floor it sleeps', () => {
    const s = settings({ chipMaxC: 78 });
    const policy = createTemperaturePolicy(() => s);
    const miners = fleet();
    let now = T0;
    let ds = policy.evaluate(ctx(miners, now, climate(20, now)));
    expect(targetsOf(ds)).toEqual(['m2']); // 80 °C; m3 at 75 °C is below 78
    apply(policy, ds, miners, now);
    expect(miners[1]?.targetW).toBe(2700);

    // Chips that stay hot step it down to its floor (half of 3000 W), then it sleeps; the others are never touched.
    const targets: Array<number | undefined> = [];
    for (let i = 0; i < 10 && miners[1]?.mode !== 'sleeping'; i++) {
      now += 5 * MIN;
      ds = policy.evaluate(ctx(miners, now, climate(20, now)));
      apply(policy, ds, miners, now);
      targets.push(miners[1]?.targetW);
    }
    expect(targets).toEqual([2400, 2100, 1800, 1500, 1500]);
    expect(miners[1]?.mode).toBe('sleeping');
    expect(miners.filter((m) => m.id !== 'm2').map((m) => m.targetW)).toEqual([3000, 3000, 3000]);
  });

  test('hysteresis: no action within band + hysteresis; once cooling it continues until band − hysteresis', () => {
    const policy = createTemperaturePolicy(() => settings());
    const miners = fleet();
    let now = T0;
    expect(kinds(policy.evaluate(ctx(miners, now, climate(36.4, now))))).toEqual(['hold']);
    now += 6 * MIN;
    apply(policy, policy.evaluate(ctx(miners, now, climate(36.6, now))), miners, now);
    now += 6 * MIN;
    expect(kinds(policy.evaluate(ctx(miners, now, climate(34.0, now))))).toEqual(['step-down']);
    now += 6 * MIN;
    const done = policy.evaluate(ctx(miners, now, climate(33.4, now)));
    expect(kinds(done)).toEqual(['hold']);
    expect(done[0]?.reason).toMatch(/in band/);
  });

  test('intake hot because the outside air is (nothing recirculated): only chips over their limit are acted on, nothing sleeps', () => {
    const policy = createTemperaturePolicy(() => settings({ chipMaxC: 78 }));
    const miners = fleet();
    let now = T0;
    const hot = (t: number) => climate(38, t, { outsideC: 37.6, outsideAtMs: t });
    const first = policy.evaluate(ctx(miners, now, hot(now)));
    expect(kinds(first)).toEqual(['step-down']);
    expect(targetsOf(first)).toEqual(['m2']); // the only one above 78 °C
    expect(first[0]?.reason).toMatch(/it is the outside air \(37.6 °C\) the miners cannot cool/);
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      now += 5 * MIN;
      const ds = policy.evaluate(ctx(miners, now, hot(now)));
      seen.push(...targetsOf(ds, 'sleep'), ...targetsOf(ds, 'power'));
      apply(policy, ds, miners, now);
    }
    // m2's chips never cool in this fake, so it goes to its floor and sleeps; the others are left alone.
    expect(new Set(seen)).toEqual(new Set(['m2']));
    miners[1]!.mode = 'hashing';
    miners[1]!.chipC = 70;
    now += 5 * MIN;
    expect(policy.evaluate(ctx(miners, now, hot(now)))[0]?.reason).toMatch(/their chips are within 78 °C/);
  });

  test('a raise taken back doubles the miner’s hold-off before the next one', () => {
    const s = settings({ stepMiners: 1, chipMaxC: 85 });
    const policy = createTemperaturePolicy(() => s);
    const miners: FakeMiner[] = [{ id: 'x', chipC: 86, targetW: 3000, mode: 'hashing' }];
    let now = T0;
    const step = (intake: number): PolicyDecision[] => {
      const ds = policy.evaluate(ctx(miners, now, climate(intake, now)));
      apply(policy, ds, miners, now);
      return ds;
    };
    expect(kinds(step(30))).toEqual(['step-down']);
    // The step took 6 °C off its chips (measured at the next look), then the day cooled.
    const cooled = (): void => {
      miners[0]!.chipC = miners[0]!.chipC === 86 ? 80 : 70;
    };
    cooled();
    // Given back after 3 dwells (15 min) since it was lowered.
    const firstRaise: number[] = [];
    for (let t = 5; t <= 30 && firstRaise.length === 0; t += 5) {
      now = T0 + t * MIN;
      if (kinds(step(30)).includes('step-up')) firstRaise.push(t);
      cooled();
    }
    expect(firstRaise).toEqual([15]);
    // Hot again: lowered again (a reversal); the next give-back waits 6 dwells (30 min).
    miners[0]!.chipC = 86;
    now += 5 * MIN;
    const loweredAt = now;
    expect(kinds(step(30))).toEqual(['step-down']);
    cooled();
    let raisedAfter: number | undefined;
    for (let t = 5; t <= 60 && raisedAfter === undefined; t += 5) {
      now = loweredAt + t * MIN;
      if (kinds(step(30)).includes('step-up')) raisedAfter = t;
      cooled();
    }
    expect(raisedAfter).toBe(30);
  });

  test('work modes: normal → low, then sleep', () => {
    const policy = createTemperaturePolicy(() => settings({ stepMiners: 1 }));
    const miners: FakeMiner[] = [{ id: 'a1', chipC: 80, workMode: 'normal', mode: 'hashing', caps: MODES }];
    let now = T0;
    let ds = policy.evaluate(ctx(miners, now, climate(38, now)));
    expect(ds[0]?.actions[0]?.action).toEqual({ kind: 'power', target: { mode: 'low' } });
    apply(policy, ds, miners, now);
    now += 5 * MIN;
    ds = policy.evaluate(ctx(miners, now, climate(38, now)));
    expect(ds[0]?.actions[0]?.action).toEqual({ kind: 'sleep' });
  });

  test('a step the firmware refuses is its floor: the next step sleeps instead of retrying', () => {
    const policy = createTemperaturePolicy(() => settings({ stepMiners: 1 }));
    const miners: FakeMiner[] = [{ id: 'b1', chipC: 80, targetW: 3000, mode: 'hashing' }];
    let now = T0;
    const ds = policy.evaluate(ctx(miners, now, climate(38, now)));
    expect(ds[0]?.actions[0]?.action).toEqual({ kind: 'power', target: { watts: 2700 } });
    apply(policy, ds, miners, now, 'refused');
    now += 5 * MIN;
    expect(targetsOf(policy.evaluate(ctx(miners, now, climate(38, now))), 'sleep')).toEqual(['b1']);
  });
});

describe('temperature loop: too cold', () => {
  /** Cools the fleet down with a hot spell so that the loop has lowered and slept some, then returns now. */
  function afterHotSpell(policy: TemperaturePolicy, miners: FakeMiner[]): number {
    let now = T0;
    for (let i = 0; i < 40 && policy.sleptByLoop().length < 2; i++) {
      now += 5 * MIN;
      apply(policy, policy.evaluate(ctx(miners, now, climate(38, now))), miners, now);
    }
    return now;
  }

  test('wakes only what it slept, then raises power back to where it was, never beyond; recommends recirculation', () => {
    const s = settings({ damperMaxPercent: 80 });
    const policy = createTemperaturePolicy(() => s);
    const miners = [...fleet(), { id: 'staff', chipC: 20, targetW: 3000, mode: 'sleeping' as const }];
    let now = afterHotSpell(policy, miners);
    expect(policy.sleptByLoop().sort()).toEqual(['m2', 'm3']);
    for (const m of miners) m.chipC -= 15; // a cold night

    now += 5 * MIN;
    const first = policy.evaluate(ctx(miners, now, climate(2, now, { damperPercent: 30, damperAtMs: now })));
    expect(kinds(first)).toEqual(['recommend-recirculation', 'wake']);
    expect(first[0]?.reason).toMatch(/damper is at 30 % of 80 %.*does not drive the damper/);
    expect(targetsOf(first, 'wake').sort()).toEqual(['m2', 'm3']);
    apply(policy, first, miners, now);

    const seen: string[] = [];
    for (let i = 0; i < 40; i++) {
      now += 5 * MIN;
      const ds = policy.evaluate(ctx(miners, now, climate(2, now, { damperPercent: 80, damperAtMs: now })));
      seen.push(...kinds(ds));
      apply(policy, ds, miners, now);
    }
    expect(seen).not.toContain('recommend-recirculation'); // the damper is fully open
    expect(seen).toContain('step-up');
    expect(miners.map((m) => [m.id, m.mode, m.targetW])).toEqual([
      ['m1', 'hashing', 3000],
      ['m2', 'hashing', 3000],
      ['m3', 'hashing', 3000],
      ['m4', 'hashing', 3000],
      ['staff', 'sleeping', 3000],
    ]);
    const last = policy.evaluate(ctx(miners, now + 5 * MIN, climate(2, now + 5 * MIN, { damperPercent: 80, damperAtMs: now + 5 * MIN })));
    expect(last.at(-1)?.reason).toMatch(/nothing it took is left to give back and the damper is fully open/);
  });

  test('a low dew-point margin warms like a cold intake, and an unknown damper position still gets a recommendation', () => {
    const policy = createTemperaturePolicy(() => settings());
    const miners = fleet();
    const now = afterHotSpell(policy, miners) + 5 * MIN;
    const ds = policy.evaluate(ctx(miners, now, climate(12, now, { dewPointMarginC: 1.2, dewPointAtMs: now })));
    expect(kinds(ds)).toEqual(['recommend-recirculation', 'wake']);
    expect(ds[0]?.reason).toMatch(/condensation risk.*damper position is unknown/);
  });

  test('the memory of what it slept survives a restart (state file); a new instance wakes them', () => {
    const miners = fleet();
    const log = createLogger('test', 'silent');
    const first = createTemperaturePolicy(() => settings(), { stateDir, log });
    const now = afterHotSpell(first, miners) + 5 * MIN;
    const restarted = createTemperaturePolicy(() => settings(), { stateDir, log });
    expect(restarted.sleptByLoop().sort()).toEqual(['m2', 'm3']);
    expect(targetsOf(restarted.evaluate(ctx(miners, now, climate(2, now))), 'wake').sort()).toEqual(['m2', 'm3']);
  });
});

describe('temperature loop: in band', () => {
  test('gives power back only after the hold-off, with intake 2 × hysteresis below the top and chip room', () => {
    const policy = createTemperaturePolicy(() => settings({ stepMiners: 4 }));
    const miners = fleet();
    let now = T0;
    apply(policy, policy.evaluate(ctx(miners, now, climate(37, now))), miners, now);
    expect(miners.map((m) => m.targetW)).toEqual([2700, 2700, 2700, 2700]);
    now += 6 * MIN;
    expect(kinds(policy.evaluate(ctx(miners, now, climate(30, now))))).toEqual(['hold']); // hold-off (3 dwells)
    now += 10 * MIN;
    expect(kinds(policy.evaluate(ctx(miners, now, climate(32.5, now))))).toEqual(['hold']); // above 35 − 3
    miners[1]!.chipC = 82; // m2: 82 + 6 > 85 − 1.5, no room
    const ds = policy.evaluate(ctx(miners, now, climate(30, now)));
    expect(kinds(ds)).toEqual(['step-up']);
    expect(targetsOf(ds).sort()).toEqual(['m1', 'm3', 'm4']);
  });

  test('a target staff changed after the loop set it is theirs: the loop does not give power back to it', () => {
    const policy = createTemperaturePolicy(() => settings({ stepMiners: 4 }));
    const miners = fleet();
    let now = T0;
    apply(policy, policy.evaluate(ctx(miners, now, climate(37, now))), miners, now);
    miners[0]!.targetW = 2000; // staff
    for (const m of miners) m.chipC -= 15; // a cold night
    now += 30 * MIN;
    const ds = policy.evaluate(ctx(miners, now, climate(2, now)));
    expect(targetsOf(ds, 'power').sort()).toEqual(['m2', 'm3', 'm4']);
  });
});

describe('temperature loop: what it never touches', () => {
  test('opted-out miners (settings or inventory), staff-slept miners and miners without a write path get no action', () => {
    const policy = createTemperaturePolicy(() => settings({ stepMiners: 10, optOut: ['m2'] }));
    const miners: FakeMiner[] = [
      ...fleet(),
      { id: 'inv-opt', chipC: 90, targetW: 3000, mode: 'hashing', optOut: ['temperature'] },
      { id: 'no-write', chipC: 90, targetW: 3000, mode: 'hashing', caps: null as unknown as ControlCapabilities },
      { id: 'staff-asleep', chipC: 20, mode: 'sleeping' },
    ];
    let now = T0;
    const touched = new Set<string>();
    for (let i = 0; i < 30; i++) {
      now += 5 * MIN;
      const ds = policy.evaluate(ctx(miners, now, climate(i < 15 ? 39 : 0, now)));
      for (const id of targetsOf(ds)) touched.add(id);
      apply(policy, ds, miners, now);
    }
    expect([...touched].sort()).toEqual(['m1', 'm3', 'm4']);
    const last = policy.evaluate(ctx(miners, now + 5 * MIN, climate(0, now + 5 * MIN)));
    expect(last.at(-1)?.reason).toMatch(/2 opted out; 1 without a write path; 1 put to sleep by staff/);
  });
});

describe('temperature loop: bad data freezes it', () => {
  test('a stale intake freezes it with CONTROL_SENSOR_STALE, the fault keeps its since and clears when readings return', () => {
    const policy = createTemperaturePolicy(() => settings());
    const miners = fleet();
    const now = T0;
    const ds = policy.evaluate(ctx(miners, now, climate(45, now - 4 * MIN)));
    expect(kinds(ds)).toEqual(['frozen']);
    expect(ds[0]?.actions).toEqual([]);
    expect(ds[0]?.reason).toMatch(/240 s old \(staleAfter 180 s\)/);
    expect(ds[0]?.faults).toEqual([
      expect.objectContaining({ code: 'CONTROL_SENSOR_STALE', severity: 'critical', minerId: 'C01', part: 'temperature-loop', since: now, location: { site: 'S', container: 'C01', rack: '-', shelf: '-', slot: '-' } }),
    ]);
    const later = policy.evaluate(ctx(miners, now + MIN, undefined));
    expect(later[0]?.faults?.[0]?.since).toBe(now);
    expect(later[0]?.reason).toMatch(/no climate readings/);
    const back = policy.evaluate(ctx(miners, now + 2 * MIN, climate(45, now + 2 * MIN)));
    expect(kinds(back)).toEqual(['step-down']);
    expect(back[0]?.faults).toBeUndefined();
  });

  test.each([
    ['intake −80 °C', climate(-80, T0)],
    ['intake 150 °C', climate(150, T0)],
    ['intake without a time', { container: 'C01', writtenMs: T0, intakeC: 20 }],
    ['intake from the future', climate(20, T0 + 10 * MIN)],
    ['dew-point margin −30 °C', climate(20, T0, { dewPointMarginC: -30, dewPointAtMs: T0 })],
  ])('%s freezes it', (_what, c) => {
    const policy = createTemperaturePolicy(() => settings());
    const ds = policy.evaluate(ctx(fleet(), T0, c as ContainerClimate));
    expect(kinds(ds)).toEqual(['frozen']);
    expect(ds[0]?.faults?.[0]?.code).toBe('CONTROL_SENSOR_STALE');
  });

  test('a disabled loop decides nothing', () => {
    const policy = createTemperaturePolicy(() => temperatureSchema.parse({}));
    expect(policy.evaluate(ctx(fleet(), T0, climate(50, T0)))).toEqual([]);
  });
});
