/**
 * The curtailment policy's decisions on hand-made sweeps of a container whose miners obey at once: the ramp down to
 * the target in steps, worst J/TH first, opted-out miners untouched, the wake-up in the reverse order, schedule
 * windows in the farm's time zone, the price signal (fresh, stale, failing), and the memory of whom it slept across
 * a restart.
 */
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createCurtailmentPolicy, openWindow } from '../../src/control/curtailment';
import type { PriceSnapshot, PriceSource } from '../../src/control/price-source';
import { curtailmentSchema, type CurtailmentSettings } from '../../src/control/settings';
import type { ControlPolicy, MinerState, PolicyDecision } from '../../src/control/types';
import type { ActionResult } from '../../src/miner/control/executor';
import { context, FULL_CAPS, HOUR, MINUTE, sample, target } from './policy-fixtures';
import { SimContainer } from './sim-container';

const SLEEP_W = 15;

interface SimpleMiner {
  id: string;
  powerW: number;
  ths: number;
  sleeping: boolean;
  optOut?: string[];
}

/** A container whose miners do at once what they are told, and what they were told, in order. */
class Container {
  readonly miners: SimpleMiner[];
  readonly log: Array<{ at: number; kind: string; ids: string[] }> = [];
  /** Miners that look otherwise to the policy (no sleep mode, not answering). */
  readonly overrides = new Map<string, Partial<MinerState>>();

  constructor(miners: SimpleMiner[]) {
    this.miners = miners;
  }

  states(): MinerState[] {
    return this.miners.map((m) => ({
      target: target(m.id, 'C01', m.optOut ? { optOut: m.optOut } : {}),
      sample: sample(m.sleeping ? 'sleeping' : 'hashing', m.sleeping ? { powerW: SLEEP_W, hashrateThs: 0 } : { powerW: m.powerW, hashrateThs: m.ths }),
      capabilities: FULL_CAPS,
      faults: [],
      ...this.overrides.get(m.id),
    }));
  }

  powerW(): number {
    return this.miners.reduce((sum, m) => sum + (m.sleeping ? SLEEP_W : m.powerW), 0);
  }

  /** Evaluates once and carries the actions out, reporting them back as the agent does. */
  step(policy: ControlPolicy, at: number): PolicyDecision[] {
    const decisions = policy.evaluate(context(at, this.states()));
    const results: ActionResult[] = [];
    for (const d of decisions)
      for (const a of d.actions) {
        this.log.push({ at, kind: a.action.kind, ids: a.targets.map((t) => t.id) });
        for (const t of a.targets) {
          const m = this.miners.find((x) => x.id === t.id)!;
          m.sleeping = a.action.kind === 'sleep';
          results.push({ time: at, target: t, action: a.action, actor: { kind: 'policy', name: 'curtailment' }, reason: a.reason, outcome: 'confirmed', detail: '', reply: '', durationMs: 10 });
        }
      }
    policy.onResults?.('C01', results);
    return decisions;
  }
}

/** 20 miners of 3.0-3.4 kW at 95-110 TH/s: each its own J/TH. */
function farm(): Container {
  return new Container(
    Array.from({ length: 20 }, (_, i) => ({
      id: `C01-R01-S${Math.floor(i / 5) + 1}-${(i % 5) + 1}`,
      powerW: 3000 + ((i * 7) % 20) * 20,
      ths: 95 + ((i * 3) % 16),
      sleeping: false,
    })),
  );
}

function settings(over: Record<string, unknown> = {}): CurtailmentSettings {
  return curtailmentSchema.parse({ enabled: true, targetKw: 30, ramp: '10m', timezone: 'Europe/Berlin', schedule: [{ from: '17:00', to: '21:00' }], ...over });
}

const jth = (m: SimpleMiner): number => m.powerW / m.ths;

/** A price signal the test sets by hand (the policy's input, not a server: price-source.test.ts covers those). */
class HandPrice implements PriceSource {
  readonly description = 'hand-set price';
  current: PriceSnapshot = {};
  poll(): void {}
  snapshot(): PriceSnapshot {
    return this.current;
  }
  refresh(): Promise<PriceSnapshot> {
    return Promise.resolve(this.current);
  }
}

describe('curtailment schedule windows', () => {
  const s = settings({ schedule: [{ from: '17:00', to: '21:00' }, { days: ['fri'], from: '22:00', to: '06:00' }] });
  it.each([
    ['2026-01-15T15:59:00Z', false], // 16:59 Berlin (UTC+1)
    ['2026-01-15T16:00:00Z', true],
    ['2026-01-15T19:59:00Z', true],
    ['2026-01-15T20:00:00Z', false],
    ['2026-07-15T15:00:00Z', true], // 17:00 Berlin summer time (UTC+2)
    ['2026-07-15T19:30:00Z', false], // 21:30 Berlin
    ['2026-01-16T21:00:00Z', true], // Fri 22:00 Berlin: the overnight window
    ['2026-01-17T04:59:00Z', true], // Sat 05:59 Berlin: still Friday's window
    ['2026-01-17T05:00:00Z', false], // Sat 06:00
    ['2026-01-17T21:30:00Z', false], // Sat 22:30: the overnight window is Friday's only
  ])('%s open: %s', (iso, open) => {
    expect(openWindow(s, Date.parse(iso)).open).toBe(open);
  });

  it('an unknown time zone is named, never a guess', () => {
    expect(openWindow(settings({ timezone: 'Mars/Olympus' }), Date.parse('2026-01-15T16:30:00Z'))).toEqual({ open: false, error: expect.stringContaining('timezone "Mars/Olympus" is not valid') });
  });
});

describe('curtailment policy', () => {
  it('ramps a container to the target in steps, worst J/TH first, skipping opted-out miners, and wakes them in the reverse order', () => {
    const c = farm();
    const byJth = [...c.miners].sort((a, b) => jth(b) - jth(a));
    const worst = byJth[0]!;
    const second = byJth[1]!;
    second.optOut = ['curtailment'];
    const policy = createCurtailmentPolicy(() => settings({ optOut: [worst.id] }));
    const start = Date.parse('2026-01-15T15:55:00Z'); // 16:55 Berlin
    const windowOpen = Date.parse('2026-01-15T16:00:00Z');
    const windowClose = Date.parse('2026-01-15T20:00:00Z');
    const powerAt = new Map<number, number>();
    const decisions: Array<{ at: number; d: PolicyDecision }> = [];
    for (let at = start; at <= windowClose + 20 * MINUTE; at += MINUTE) {
      for (const d of c.step(policy, at)) decisions.push({ at, d });
      powerAt.set(at, c.powerW());
    }
    expect(c.powerW()).toBe(c.miners.reduce((s, m) => s + m.powerW, 0)); // all back up
    expect(decisions.filter(({ at }) => at < windowOpen)).toEqual([]);

    const sleeps = c.log.filter((e) => e.kind === 'sleep');
    const slept = sleeps.flatMap((e) => e.ids);
    // In steps within the ramp: several evaluations, each a share, the last before the ramp ends.
    expect(sleeps.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...sleeps.map((e) => e.ids.length))).toBeLessThanOrEqual(3);
    expect(sleeps.every((e) => e.at >= windowOpen && e.at <= windowOpen + 10 * MINUTE)).toBe(true);
    expect(powerAt.get(windowOpen)).toBeGreaterThan(30_000 + 3 * 3400);
    expect(powerAt.get(windowOpen + 10 * MINUTE)).toBeLessThanOrEqual(30_000);
    // Not more than needed: waking the last one slept would take the container over the target again.
    const lastSlept = c.miners.find((m) => m.id === slept[slept.length - 1])!;
    expect(powerAt.get(windowOpen + 10 * MINUTE)! - SLEEP_W + lastSlept.powerW).toBeGreaterThan(30_000);
    // At or under the target for the rest of the window.
    for (const [at, w] of powerAt) if (at >= windowOpen + 10 * MINUTE && at < windowClose) expect(w).toBeLessThanOrEqual(30_000);
    // Worst J/TH first, the opted-out ones (the worst two) never.
    expect(slept).toEqual(byJth.filter((m) => m !== worst && m !== second).slice(0, slept.length).map((m) => m.id));
    expect(slept).not.toContain(worst.id);
    expect(slept).not.toContain(second.id);

    const curtail = decisions.find(({ d }) => d.decision === 'curtail')!.d;
    expect(curtail).toMatchObject({ policy: 'curtailment', container: 'C01', targetW: 30_000 });
    expect(curtail.reason).toMatch(/^schedule mon,tue,wed,thu,fri,sat,sun 17:00-21:00 Europe\/Berlin is open: /);
    const holds = decisions.filter(({ at, d }) => d.decision === 'hold' && at > windowOpen + 10 * MINUTE && at < windowClose);
    expect(holds.length).toBeGreaterThan(200);
    expect(holds.every(({ d }) => d.powerW! <= 30_000 && d.targetW === 30_000)).toBe(true);

    // After the window: woken last slept first, spread over the ramp.
    const wakes = c.log.filter((e) => e.kind === 'wake');
    expect(wakes.flatMap((e) => e.ids)).toEqual([...slept].reverse());
    expect(wakes.length).toBeGreaterThanOrEqual(4);
    expect(wakes.every((e) => e.at >= windowClose && e.at <= windowClose + 10 * MINUTE)).toBe(true);
    expect(decisions.filter(({ d }) => d.decision === 'restore').length).toBe(wakes.length);
    // Then nothing more to say.
    expect(decisions.filter(({ at }) => at > windowClose + 11 * MINUTE)).toEqual([]);
  });

  it('follows the price: above the strike curtails, a stale price holds the last judgement, a failing source is named, at or below the strike restores', () => {
    const c = farm();
    const price = new HandPrice();
    const policy = createCurtailmentPolicy(() => settings({ schedule: [], targetKw: 0, ramp: '2m', price: { source: 'unused', strikePerMwh: 120, staleAfter: '30m' } }), { priceSource: price });
    const t0 = Date.parse('2026-01-15T12:00:00Z');
    const quote = (perMwh: number, at: number): PowerPrice => ({ perMwh, currency: 'USD', timeMs: at, fetchedMs: at });
    price.current = { price: quote(95, t0) };
    expect(c.step(policy, t0)).toEqual([]);

    price.current = { price: quote(180, t0 + MINUTE) };
    let at = t0 + MINUTE;
    const first = c.step(policy, at);
    expect(first[0]).toMatchObject({ decision: 'curtail', targetW: 0 });
    expect(first[0]!.reason).toContain('price 180.00 USD/MWh (2026-01-15 12:01Z) above the strike 120');
    for (at += MINUTE; at <= t0 + 5 * MINUTE; at += MINUTE) c.step(policy, at);
    expect(c.miners.every((m) => m.sleeping)).toBe(true); // target 0: everything that can sleep sleeps

    // The source fails and the price ages past staleAfter: nothing is acted on, the curtailment holds.
    price.current = { price: quote(180, t0 + MINUTE), failure: { kind: 'timeout', message: 'price source http://grid.example/price: no complete answer within 5000 ms', atMs: t0 + 40 * MINUTE } };
    const stale = c.step(policy, t0 + 40 * MINUTE);
    expect(stale).toHaveLength(1);
    expect(stale[0]!.decision).toBe('hold');
    expect(stale[0]!.actions).toEqual([]);
    expect(stale[0]!.reason).toContain('price of 2026-01-15 12:01Z is older than 30 min: not acted on, the last judgement holds (above the strike)');
    expect(stale[0]!.reason).toContain('price source failed (timeout: price source http://grid.example/price: no complete answer within 5000 ms)');

    // Fresh and at the strike: restore over the 2 min ramp.
    price.current = { price: quote(120, t0 + 41 * MINUTE) };
    for (at = t0 + 41 * MINUTE; at <= t0 + 45 * MINUTE; at += MINUTE) c.step(policy, at);
    expect(c.miners.every((m) => !m.sleeping)).toBe(true);
  });

  it('a failing source with no price yet never curtails, and says why', () => {
    const c = farm();
    const price = new HandPrice();
    price.current = { failure: { kind: 'too-large', message: 'price source http://grid.example/price: answer over 65536 bytes', atMs: 0 } };
    const policy = createCurtailmentPolicy(() => settings({ schedule: [], price: { source: 'unused', strikePerMwh: 120 } }), { priceSource: price });
    const [d] = c.step(policy, Date.parse('2026-01-15T12:00:00Z'));
    expect(d).toMatchObject({ decision: 'hold', actions: [] });
    expect(d!.reason).toBe('not curtailing; no price read yet: not acted on, the last judgement holds (not above the strike); price source failed (too-large: price source http://grid.example/price: answer over 65536 bytes)');
    expect(c.miners.some((m) => m.sleeping)).toBe(false);
  });

  it('remembers whom it slept across a restart (state file), and wakes only those', () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'flymining-curtail-'));
    const c = farm();
    const bySomeoneElse = c.miners[0]!;
    bySomeoneElse.sleeping = true; // staff slept it before: not ours to wake
    const on = settings({ schedule: [{ from: '00:00', to: '00:00' }], targetKw: 40, ramp: '5m' });
    const first = createCurtailmentPolicy(() => on, { stateDir });
    const t0 = Date.parse('2026-01-15T12:00:00Z');
    for (let at = t0; at <= t0 + 10 * MINUTE; at += MINUTE) c.step(first, at);
    const ours = c.miners.filter((m) => m.sleeping && m !== bySomeoneElse).map((m) => m.id);
    expect(ours.length).toBeGreaterThan(3);

    // The exporter restarts; curtailment is switched off meanwhile.
    const second = createCurtailmentPolicy(() => settings({ enabled: false, ramp: '5m' }), { stateDir });
    for (let at = t0 + HOUR; at <= t0 + HOUR + 10 * MINUTE; at += MINUTE) c.step(second, at);
    expect(c.log.filter((e) => e.kind === 'wake').flatMap((e) => e.ids).sort()).toEqual([...ours].sort());
    expect(bySomeoneElse.sleeping).toBe(true);
    expect(c.miners.filter((m) => m.sleeping)).toEqual([bySomeoneElse]);
  });

  it('leaves miners without a sleep mode or not answering, counts the silent one at its nominal power, and forgets a miner someone else woke', () => {
    const c = farm();
    const noSleep = c.miners[5]!;
    const silent = c.miners[6]!;
    c.overrides.set(noSleep.id, { capabilities: { ...FULL_CAPS, sleep: false } });
    c.overrides.set(silent.id, { sample: undefined });
    const policy = createCurtailmentPolicy(() => settings({ schedule: [{ from: '00:00', to: '00:00' }], targetKw: 0, ramp: '2m' }), { nominalPowerW: (t) => (t.id === silent.id ? 3250 : undefined) });
    const t0 = Date.parse('2026-01-15T12:00:00Z');
    for (let at = t0; at <= t0 + 3 * MINUTE; at += MINUTE) c.step(policy, at);
    expect(c.miners.filter((m) => !m.sleeping)).toEqual([noSleep, silent]);
    const [hold] = c.step(policy, t0 + 4 * MINUTE);
    expect(hold).toMatchObject({ decision: 'hold', powerW: 18 * SLEEP_W + noSleep.powerW + 3250, targetW: 0 });
    expect(hold!.reason).toContain('with nothing left to sleep (0 opted out, 1 unreachable, 1 without a sleep mode we can set); 18 asleep by curtailment');

    const woken = c.miners[3]!;
    woken.sleeping = false; // staff woke it by hand: it is no longer curtailment's to wake
    const [again] = c.step(policy, t0 + 5 * MINUTE);
    // Still over the target, so it is the one left to sleep (staff who want it hashing opt it out).
    expect(again!.decision).toBe('curtail');
    expect(again!.actions.flatMap((a) => a.targets.map((t) => t.id))).toEqual([woken.id]);
  });
});

type PowerPrice = NonNullable<PriceSnapshot['price']>;

describe('curtailment over the simulator, through the real write path, on a price from a local HTTP server', () => {
  let sim: SimContainer;
  let server: http.Server;
  let priceUrl: string;
  let pricePerMwh = 80;
  const served: number[] = [];

  beforeAll(async () => {
    sim = await SimContainer.start('127.214.16.1', ['braiins-s21pro', 'braiins-s19xp', 'braiins-s21pro', 'braiins-s19xp', 'braiins-s21pro', 'braiins-s19xp', 'braiins-s21pro', 'braiins-s19xp', 'braiins-s21pro', 'braiins-s19xp']);
    // The grid's price feed: the price of the moment, stamped with the (simulated) time of asking.
    server = http.createServer((_req, res) => {
      served.push(pricePerMwh);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ price: pricePerMwh, currency: 'USD', unit: 'MWh', time: new Date(sim.nowMs).toISOString() }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    priceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/price`;
  });

  afterAll(async () => {
    await sim?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('the price goes above the strike: container power falls to the target within the ramp, worst J/TH first; below again: woken in the reverse order', async () => {
    const optedOut = 'C01-R01-S1-2'; // an S19 XP, among the worst by J/TH
    const initial = SimContainer.powerW(await sim.sweep());
    const targetKw = Math.round(initial * 0.6) / 1000;
    const s = settings({ schedule: [], timezone: 'UTC', targetKw, ramp: '5m', optOut: [optedOut], price: { source: priceUrl, strikePerMwh: 100, staleAfter: '10m', pollEvery: '30s' } });
    const policy = createCurtailmentPolicy(() => s, { now: () => sim.nowMs });
    const trace: Array<{ at: number; powerW: number; decisions: PolicyDecision[] }> = [];
    const run = async (evaluations: number): Promise<void> => {
      for (let i = 0; i < evaluations; i++) {
        const { decisions, miners } = await sim.evaluate(policy);
        trace.push({ at: sim.nowMs, powerW: SimContainer.powerW(miners), decisions });
        await new Promise((resolve) => setTimeout(resolve, 30)); // the background price read lands
        await sim.advance(30);
      }
    };
    await run(3);
    expect(trace.flatMap((t) => t.decisions)).toEqual([]); // 80 USD/MWh: under the strike

    pricePerMwh = 180;
    const risen = sim.nowMs;
    await run(16); // 8 min
    const curtailing = trace.filter((t) => t.decisions.some((d) => d.decision === 'curtail'));
    const firstCurtail = curtailing[0]!.at;
    expect(firstCurtail - risen).toBeLessThanOrEqual(60_000); // seen within two polls
    expect(curtailing.length).toBeGreaterThanOrEqual(3); // in steps
    const after = trace.filter((t) => t.at > firstCurtail + 5 * MINUTE + 30_000);
    expect(after.length).toBeGreaterThan(2);
    expect(after.every((t) => t.powerW <= targetKw * 1000)).toBe(true);
    const hold = after[after.length - 1]!.decisions[0]!;
    expect(hold).toMatchObject({ decision: 'hold', targetW: targetKw * 1000 });
    expect(hold.reason).toContain('price 180.00 USD/MWh');
    const sleeps = sim.audit.filter((r) => r.action.kind === 'sleep');
    expect(sleeps.every((r) => r.outcome === 'confirmed' && r.actor.name === 'curtailment')).toBe(true);
    const slept = sleeps.map((r) => r.target.id);
    const model = (id: string) => sim.miner(id).profile.id;
    // Worst J/TH first: every S19 XP (22 J/TH) but the opted-out one before any S21 Pro (15 J/TH).
    const xps = slept.filter((id) => model(id) === 'braiins-s19xp');
    expect(slept.slice(0, xps.length)).toEqual(xps);
    expect(xps.length).toBe(Math.min(4, slept.length));
    expect(slept).not.toContain(optedOut);
    expect(sim.miner(optedOut).describe().mode).toBe('hashing');
    for (const id of slept) expect(sim.miner(id).describe().mode).toBe('sleeping');

    pricePerMwh = 90;
    await run(16);
    const wakes = sim.audit.filter((r) => r.action.kind === 'wake');
    expect(wakes.map((r) => r.target.id)).toEqual([...slept].reverse());
    expect(wakes.every((r) => r.outcome === 'confirmed')).toBe(true);
    expect(new Set(trace.filter((t) => t.decisions.some((d) => d.decision === 'restore')).map((t) => t.at)).size).toBeGreaterThanOrEqual(2);
    expect(sim.targets.map((t) => sim.miner(t.id).describe().mode)).toEqual(sim.targets.map(() => 'hashing'));
    expect(served.length).toBeGreaterThan(10);
  }, 120_000);
});
