/** The recovery policy's decisions on hand-made sweeps: who is rebooted, how often, and when a ticket replaces reboots. */
import path from 'node:path';
import { loadConfig } from '../../../alerting/src/config';
import { faultConditions } from '../../../alerting/src/pipeline/evaluate';
import { buildRoute, routesFor } from '../../../alerting/src/pipeline/route';
import { createRecoveryPolicy, RECOVERY_ACTOR } from '../../src/control/recovery';
import { recoverySchema, type RecoverySettings } from '../../src/control/settings';
import type { PolicyDecision } from '../../src/control/types';
import type { ActionResult } from '../../src/miner/control/executor';
import { ActionHistory } from '../../src/miner/control/history';
import { context, HOUR, miner, MINUTE, type MinerOptions } from './policy-fixtures';
import { SimContainer } from './sim-container';

const T0 = Date.parse('2026-01-15T00:00:00Z');

function settings(over: Record<string, unknown> = {}): RecoverySettings {
  return recoverySchema.parse({ enabled: true, notHashingFor: '15m', maxRebootsPerDay: 3, maxPerEvaluation: 5, ...over });
}

function rebootedIds(decisions: readonly PolicyDecision[]): string[] {
  return decisions.flatMap((d) => d.actions.filter((a) => a.action.kind === 'reboot').flatMap((a) => a.targets.map((t) => t.id)));
}

function faultsOf(decisions: readonly PolicyDecision[]) {
  return decisions.flatMap((d) => d.faults ?? []);
}

/** Records what the executor would record for each reboot it sends (its history is the cap's memory). */
function carryOut(history: ActionHistory, decisions: readonly PolicyDecision[], at: number): void {
  for (const d of decisions) for (const a of d.actions) for (const t of a.targets) history.record({ time: at, minerId: t.id, container: t.container, action: a.action.kind, actor: RECOVERY_ACTOR });
}

describe('recovery policy', () => {
  it('reboots a miner down past notHashingFor, naming how long, and not before', () => {
    const history = new ActionHistory(() => T0);
    const policy = createRecoveryPolicy(() => settings(), history);
    const down = { mode: 'idle' as const, notHashingSinceMs: T0 - 14 * MINUTE };
    expect(policy.evaluate(context(T0, [miner('C01-R01-S1-1', down)]))).toEqual([]);
    const decisions = policy.evaluate(context(T0 + 2 * MINUTE, [miner('C01-R01-S1-1', down)]));
    expect(rebootedIds(decisions)).toEqual(['C01-R01-S1-1']);
    expect(decisions[0]?.decision).toBe('reboot');
    expect(decisions[0]?.actions[0]?.reason).toBe('not hashing (mode idle) for 16 min; automatic reboot 1 of 3 in 24 h');
  });

  it('reboots at most maxRebootsPerDay times in 24 h, then raises RECOVERY_EXHAUSTED instead and reboots no more', () => {
    const clock = { now: T0 };
    const history = new ActionHistory(() => clock.now);
    const policy = createRecoveryPolicy(() => settings({ maxRebootsPerDay: 3, notHashingFor: '15m' }), history, () => clock.now, { rebootSpacingMs: 10 * MINUTE });
    const reboots: number[] = [];
    const faultTimes: number[] = [];
    const messages = new Set<string>();
    const sinces = new Set<number>();
    // A miner that never comes back, swept every minute for 30 h.
    for (let t = T0; t <= T0 + 30 * HOUR; t += MINUTE) {
      clock.now = t;
      const decisions = policy.evaluate(context(t, [miner('C01-R02-S3-4', { mode: 'idle', notHashingSinceMs: T0 - 20 * MINUTE })]));
      if (rebootedIds(decisions).length > 0) reboots.push(t);
      carryOut(history, decisions, t);
      const faults = faultsOf(decisions);
      if (faults.length > 0) {
        faultTimes.push(t);
        for (const f of faults) {
          messages.add(f.message);
          sinces.add(f.since);
          expect(f).toMatchObject({ code: 'RECOVERY_EXHAUSTED', severity: 'critical', minerId: 'C01-R02-S3-4', part: 'miner', location: { container: 'C01', rack: 'R02', shelf: 'S3', slot: '4' } });
        }
      }
    }
    expect(reboots).toHaveLength(3);
    // Each reboot gave the miner notHashingFor to come back: never two within 15 min.
    expect(reboots[1]! - reboots[0]!).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(reboots[2]! - reboots[1]!).toBeGreaterThanOrEqual(15 * MINUTE);
    // The fault comes once the next reboot would be due, and stays (one episode: same since, same message).
    expect(faultTimes[0]! - reboots[2]!).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(faultTimes[faultTimes.length - 1]).toBe(T0 + 30 * HOUR);
    expect(sinces.size).toBe(1);
    expect([...messages]).toEqual(['C01/R02/S3/4 C01-R02-S3-4: still not hashing after 3 automatic reboots in 24 h (the daily cap); no more automatic reboots: a person must look']);
  });

  it('clears the fault when the miner hashes again, and a new episode may reboot once its 24 h allow it', () => {
    const clock = { now: T0 };
    const history = new ActionHistory(() => clock.now);
    const policy = createRecoveryPolicy(() => settings({ maxRebootsPerDay: 1 }), history, () => clock.now);
    const down = (since: number): MinerOptions => ({ mode: 'idle', notHashingSinceMs: since });
    carryOut(history, policy.evaluate(context(T0, [miner('m1', down(T0 - HOUR))])), T0);
    expect(faultsOf(policy.evaluate(context(T0 + HOUR, [miner('m1', down(T0 - HOUR))])))).toHaveLength(1);
    expect(policy.evaluate(context(T0 + 2 * HOUR, [miner('m1', { mode: 'hashing' })]))).toEqual([]);
    // Down again the same day: the cap still counts this morning's reboot, so the ticket comes back, not a reboot.
    const again = policy.evaluate(context(T0 + 5 * HOUR, [miner('m1', down(T0 + 4 * HOUR))]));
    expect(rebootedIds(again)).toEqual([]);
    expect(faultsOf(again)).toHaveLength(1);
    // The next day the reboot has left the rolling window: a new episode reboots.
    expect(policy.evaluate(context(T0 + 25 * HOUR, [miner('m1', { mode: 'hashing' })]))).toEqual([]);
    expect(rebootedIds(policy.evaluate(context(T0 + 27 * HOUR, [miner('m1', down(T0 + 26 * HOUR))])))).toEqual(['m1']);
  });

  it('reboots at most maxPerEvaluation miners of a container per evaluation, longest down first', () => {
    const history = new ActionHistory(() => T0);
    const policy = createRecoveryPolicy(() => settings({ maxPerEvaluation: 3 }), history);
    const miners = Array.from({ length: 8 }, (_, i) => miner(`m${i}`, { mode: 'idle', notHashingSinceMs: T0 - (20 + i) * MINUTE }));
    const first = policy.evaluate(context(T0, miners));
    expect(rebootedIds(first)).toEqual(['m7', 'm6', 'm5']);
    expect(first[0]?.reason).toContain('5 more wait for the next evaluation (at most 3 per evaluation)');
    carryOut(history, first, T0);
    expect(rebootedIds(policy.evaluate(context(T0 + MINUTE, miners)))).toEqual(['m4', 'm3', 'm2']);
  });

  it('leaves alone miners asleep on purpose, opted out, or slept by the write path and reporting idle', () => {
    const history = new ActionHistory(() => T0);
    history.record({ time: T0 - HOUR, minerId: 'slept-by-staff', container: 'C01', action: 'sleep', actor: 'staff:ana' });
    history.record({ time: T0 - 2 * HOUR, minerId: 'woken-later', container: 'C01', action: 'sleep', actor: 'policy:curtailment' });
    history.record({ time: T0 - HOUR, minerId: 'woken-later', container: 'C01', action: 'wake', actor: 'policy:curtailment' });
    const policy = createRecoveryPolicy(() => settings({ optOut: ['opted-yaml'] }), history);
    const down = { notHashingSinceMs: T0 - 3 * HOUR };
    const decisions = policy.evaluate(
      context(T0, [
        miner('sleeping', { ...down, mode: 'sleeping' }),
        miner('opted-yaml', { ...down, mode: 'idle' }),
        miner('opted-target', { ...down, mode: 'idle', target: { optOut: ['recovery'] } }),
        miner('opted-other-policy', { ...down, mode: 'idle', target: { optOut: ['curtailment'] } }),
        miner('slept-by-staff', { ...down, mode: 'idle' }),
        miner('woken-later', { ...down, mode: 'idle' }),
        miner('hashing', { mode: 'hashing' }),
      ]),
    );
    expect(rebootedIds(decisions).sort()).toEqual(['opted-other-policy', 'woken-later']);
    expect(faultsOf(decisions)).toEqual([]);
  });

  it('does nothing while disabled', () => {
    const policy = createRecoveryPolicy(() => settings({ enabled: false }), new ActionHistory(() => T0));
    expect(policy.evaluate(context(T0, [miner('m1', { mode: 'idle', notHashingSinceMs: T0 - 5 * HOUR })]))).toEqual([]);
  });

  it('an unreachable miner its firmware cannot reboot gets the fault at once: a person must power-cycle it', () => {
    const history = new ActionHistory(() => T0);
    const policy = createRecoveryPolicy(() => settings(), history);
    const down = { reachable: false, notHashingSinceMs: T0 - 30 * MINUTE };
    const decisions = policy.evaluate(
      context(T0, [
        miner('no-api-reboot', { ...down, capabilities: { reboot: false, sleep: false, pools: { maxSlots: 0, canSwitch: false }, blink: false, needsCredentials: false }, target: { firmware: 'avalon' } }),
        miner('no-write-path', { ...down, capabilities: null, target: { firmware: 'hiveon' } }),
      ]),
    );
    expect(rebootedIds(decisions)).toEqual([]);
    expect(faultsOf(decisions).map((f) => f.message)).toEqual([
      'C01/R01/S1/1 no-api-reboot: unreachable for 30 min and avalon cannot be rebooted through its API: a person must power-cycle it',
      'C01/R01/S1/1 no-write-path: unreachable for 30 min and no write path is known for hiveon: a person must power-cycle it',
    ]);
  });

  it('an unreachable miner that could be rebooted is tried; tries the executor could not deliver count against the cap', () => {
    const clock = { now: T0 };
    const history = new ActionHistory(() => clock.now);
    const policy = createRecoveryPolicy(() => settings({ maxRebootsPerDay: 2 }), history, () => clock.now);
    const hung = miner('hung', { reachable: false, notHashingSinceMs: T0 - 20 * MINUTE });
    const tried: number[] = [];
    let fault: string | undefined;
    for (let t = T0; t <= T0 + 3 * HOUR && fault === undefined; t += MINUTE) {
      clock.now = t;
      const decisions = policy.evaluate(context(t, [hung]));
      for (const d of decisions)
        for (const a of d.actions) {
          tried.push(t);
          // The executor cannot read it before acting: outcome unreachable, nothing in its history.
          const result: ActionResult = { time: t, target: a.targets[0]!, action: a.action, actor: { kind: 'policy', name: 'recovery' }, reason: a.reason, outcome: 'unreachable', detail: 'cannot read the miner before acting: timeout', reply: '', durationMs: 3000 };
          policy.onResults?.('C01', [result]);
        }
      fault = faultsOf(decisions)[0]?.message;
    }
    expect(tried).toHaveLength(2);
    expect(fault).toBe('C01/R01/S1/1 hung: still unreachable after 2 automatic reboots in 24 h (the daily cap); no more automatic reboots: a person must look and power-cycle it');
  });

  it('a reboot the firmware refuses becomes the fault', () => {
    const history = new ActionHistory(() => T0);
    const policy = createRecoveryPolicy(() => settings(), history);
    const m = miner('m1', { mode: 'idle', notHashingSinceMs: T0 - HOUR });
    const [d] = policy.evaluate(context(T0, [m]));
    const a = d!.actions[0]!;
    policy.onResults?.('C01', [{ time: T0, target: m.target, action: a.action, actor: { kind: 'policy', name: 'recovery' }, reason: a.reason, outcome: 'refused', detail: 'miner refused the credentials (401)', reply: '', durationMs: 40 }]);
    const next = policy.evaluate(context(T0 + MINUTE, [m]));
    expect(rebootedIds(next)).toEqual([]);
    expect(faultsOf(next)[0]?.message).toBe('C01/R01/S1/1 m1: not hashing and its reboot was refused (miner refused the credentials (401)): a person must power-cycle it');
  });

  it('respects the executor spacing after a reboot by anyone, even with a short notHashingFor', () => {
    const history = new ActionHistory(() => T0);
    history.record({ time: T0 - 5 * MINUTE, minerId: 'm1', container: 'C01', action: 'reboot', actor: 'staff:ana' });
    const policy = createRecoveryPolicy(() => settings({ notHashingFor: '2m' }), history, () => T0, { rebootSpacingMs: 10 * MINUTE });
    const m = miner('m1', { mode: 'booting', notHashingSinceMs: T0 - HOUR });
    expect(policy.evaluate(context(T0, [m]))).toEqual([]);
    expect(rebootedIds(policy.evaluate(context(T0 + 5 * MINUTE, [m])))).toEqual(['m1']);
  });
});

describe('RECOVERY_EXHAUSTED under the shipped alerting config', () => {
  it('becomes a critical alert of its own rule, which pages on call and so opens a repair ticket', () => {
    const config = loadConfig(path.join(__dirname, '../../../provisioning/alerting/alerting.yaml'), { FLYMINING_PG_URL: 'postgres://alerting@127.0.0.1:5432/flymining' });
    const history = new ActionHistory(() => T0);
    history.record({ time: T0 - 2 * HOUR, minerId: 'C01-R01-S1-2', container: 'C01', action: 'reboot', actor: RECOVERY_ACTOR });
    const policy = createRecoveryPolicy(() => settings({ maxRebootsPerDay: 1 }), history);
    const faults = faultsOf(policy.evaluate(context(T0, [miner('C01-R01-S1-2', { mode: 'idle', notHashingSinceMs: T0 - 3 * HOUR })])));
    const conditions = [...faultConditions(faults, config.rules).values()];
    expect(conditions.map((c) => c.labels)).toEqual([expect.objectContaining({ alertname: 'RecoveryExhausted', severity: 'critical', miner: 'C01-R01-S1-2', container: 'C01', part: 'miner' })]);
    // Routed to the on-call receiver (a paged group: alerting's ticket sync opens a ticket for every paged alert).
    expect(routesFor(buildRoute(config.route), conditions[0]!.labels).map((r) => r.receiver)).toEqual(['oncall']);
  });
});

describe('recovery over the simulator, through the real write path', () => {
  let sim: SimContainer;
  const STUCK = 'C01-R01-S1-1';
  const NO_BOARDS = 'C01-R01-S1-2';
  const HUNG = 'C01-R01-S1-3';
  const HEALTHY = 'C01-R01-S1-4';
  const ASLEEP = 'C01-R01-S1-5';

  beforeAll(async () => {
    sim = await SimContainer.start('127.214.14.1', ['braiins-s19xp', 'braiins-s19xp', 'braiins-s21pro', 'braiins-s21pro', 'braiins-s19xp']);
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('reboots a unit stuck booting (which a reboot cures), reboots a unit without boards its daily cap and then tickets it, and tickets a hung unit after its tries', async () => {
    await sim.sweep(); // all answer once: the agent knows what each can do
    sim.miner(STUCK).applyFault({ fault: 'reboot', downSeconds: 0, warmupSeconds: 3600 }); // stuck in its warm-up for an hour
    for (const board of [0, 1, 2]) sim.miner(NO_BOARDS).applyFault({ fault: 'dropBoard', board }); // answers, hashes nothing; a reboot does not help
    sim.miner(HUNG).applyFault({ fault: 'hang', on: true }); // accepts, never answers: the executor cannot read it
    const slept = await sim.executor.run({ targets: sim.targets.filter((t) => t.id === ASLEEP), action: { kind: 'sleep' }, actor: { kind: 'staff', name: 'ana' } });
    expect(slept[0]!.outcome).toBe('confirmed');

    const policy = createRecoveryPolicy(() => settings({ notHashingFor: '2m', maxRebootsPerDay: 2, maxPerEvaluation: 5 }), sim.history, () => sim.nowMs);
    const start = sim.nowMs;
    const faultsAt = new Map<string, number>();
    for (let i = 0; i < 45 && faultsAt.size < 2; i++) {
      const { decisions } = await sim.evaluate(policy);
      for (const f of faultsOf(decisions)) if (!faultsAt.has(f.minerId)) faultsAt.set(f.minerId, sim.nowMs);
      await sim.advance(60);
    }
    const reboots = (id: string) => sim.audit.filter((r) => r.action.kind === 'reboot' && r.target.id === id);
    // The stuck unit: one reboot, confirmed by its uptime, and it hashes again.
    expect(reboots(STUCK).map((r) => [r.outcome, r.actor.name])).toEqual([['confirmed', 'recovery']]);
    expect(reboots(STUCK)[0]!.reason).toMatch(/^not hashing \(mode booting\) for 2 min; automatic reboot 1 of 2 in 24 h$/);
    expect(sim.miner(STUCK).describe().mode).toBe('hashing');
    expect(sim.miner(STUCK).writes().map((w) => w.action)).toEqual(['reboot']);
    // The unit without boards: its two reboots reached it, at least the executor's 10 min apart, then the ticket.
    expect(reboots(NO_BOARDS).map((r) => r.outcome)).toEqual(['confirmed', 'confirmed']);
    expect(sim.miner(NO_BOARDS).writes().map((w) => w.action)).toEqual(['reboot', 'reboot']);
    const [first, second] = sim.miner(NO_BOARDS).writes();
    expect(second!.atMs - first!.atMs).toBeGreaterThanOrEqual(10 * MINUTE);
    expect(faultsAt.get(NO_BOARDS)).toBeDefined();
    // The hung unit: two tries the executor could not deliver (it does not answer a read), then the ticket.
    expect(reboots(HUNG).map((r) => r.outcome)).toEqual(['unreachable', 'unreachable']);
    expect(faultsAt.get(HUNG)).toBeDefined();
    // Nothing for the healthy unit or the one staff put to sleep.
    expect(sim.audit.filter((r) => r.target.id === HEALTHY || (r.target.id === ASLEEP && r.actor.kind === 'policy'))).toEqual([]);
    expect(sim.miner(ASLEEP).describe().mode).toBe('sleeping');
    // No more reboots once ticketed: ten more minutes change nothing.
    const before = sim.audit.length;
    for (let i = 0; i < 10; i++) {
      const { decisions } = await sim.evaluate(policy);
      expect(faultsOf(decisions).map((f) => f.minerId).sort()).toEqual([NO_BOARDS, HUNG].sort());
      await sim.advance(60);
    }
    expect(sim.audit.length).toBe(before);
    expect(faultsAt.get(NO_BOARDS)! - start).toBeLessThan(45 * MINUTE);
  }, 150_000);
});
