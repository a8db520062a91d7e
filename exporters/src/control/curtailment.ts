/**
 * Curtailment (issue 14): while a schedule window is open (in the farm's time zone) or the power price is above the
 * strike price, a container is brought down to `targetKw` over the `ramp`: each evaluation puts to sleep the worst
 * miners by J/TH (opted-out miners never) until the container's power is at or below the point the ramp has reached.
 * When the window closes and the price is back under the strike, the miners curtailment put to sleep are woken in the
 * reverse order, spread over the ramp as well. Only those: a miner staff or another policy slept is not ours to wake.
 *
 * Which miners it slept is kept in the edge's state folder (curtailment.json), so a restarted exporter still wakes
 * them. A price that is stale or cannot be read is not acted on: the last price judgement holds, and the decision
 * names the failure (unreachable, timeout, too-large, not-json, invalid, future, http-status).
 */
import path from 'node:path';
import { createLogger, type Logger } from '@flymining/shared';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { EdgeStateFile } from '../common/edge/state-file';
import type { ActionResult, ControlTarget } from '../miner/control/executor';
import { frozenOnError } from './frozen-on-error';
import { createPriceSource, type PriceSource } from './price-source';
import type { CurtailmentSettings } from './settings';
import type { ControlPolicy, MinerState, PolicyAction, PolicyContext, PolicyDecision } from './types';

export interface CurtailmentOptions {
  /** One price source for every container (a site-wide feed, tests); default: one per `price.source` of control.yaml. */
  priceSource?: PriceSource;
  now?: () => number;
  /**
   * A miner's power draw when its firmware reports none (the inventory's nominal power), also used for a miner that
   * does not answer: it may still draw power, so the target is judged as if it did. Undefined: unknown (counted 0).
   */
  nominalPowerW?: (target: ControlTarget) => number | undefined;
  /** The edge's state folder: `curtailment.json` there remembers the miners curtailment put to sleep. */
  stateDir?: string;
  log?: Logger;
}

export const CURTAILMENT_STATE_FILE = 'curtailment.json';
/** A sleep that neither a result nor a read confirmed after this long did not take (the miner hashes on). */
const PENDING_GRACE_MS = 5 * 60_000;
/** Wakes that failed this many times in a row are given up (the miner is gone or unreachable): staff wake it. */
const MAX_WAKE_FAILURES = 30;
/** A miner is woken early (during a curtailment) only if the container stays this far under the target. */
const EARLY_WAKE_MARGIN = 1.1;

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const asleepSchema = z.object({
  id: z.string(),
  sleptAtMs: z.number(),
  /** What it drew before it slept: what waking it will add back. */
  powerW: z.number().nonnegative(),
  confirmed: z.boolean(),
  waking: z.boolean().default(false),
  wakeFailures: z.number().int().nonnegative().default(0),
});
type Asleep = z.infer<typeof asleepSchema>;

const containerStateSchema = z.object({
  phase: z.enum(['idle', 'curtailing', 'restoring']),
  phaseSinceMs: z.number(),
  /** The container's power when the curtailing ramp began. */
  startPowerW: z.number().nonnegative(),
  /** Miners asleep when the restoring ramp began. */
  restoreCount: z.number().int().nonnegative(),
  /** The last judgement of a fresh price (true: above the strike); a stale or missing price keeps it. */
  priceAbove: z.boolean().optional(),
  /** In the order they were put to sleep. */
  asleep: z.array(asleepSchema),
});
type ContainerState = z.infer<typeof containerStateSchema>;

const stateSchema = z.object({ containers: z.record(z.string(), containerStateSchema) });

/** Whether a schedule window of the settings is open now, in words; an invalid time zone is an error in words. */
export function openWindow(settings: CurtailmentSettings, now: number): { open: boolean; label?: string; error?: string } {
  if (settings.schedule.length === 0) return { open: false };
  const local = DateTime.fromMillis(now, { zone: settings.timezone });
  if (!local.isValid) return { open: false, error: `timezone "${settings.timezone}" is not valid (${local.invalidExplanation ?? local.invalidReason ?? 'unknown zone'})` };
  const minute = local.hour * 60 + local.minute;
  const today = WEEKDAYS[local.weekday - 1] as (typeof WEEKDAYS)[number];
  const yesterday = WEEKDAYS[(local.weekday + 5) % 7] as (typeof WEEKDAYS)[number];
  const toMinute = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
  for (const w of settings.schedule) {
    const from = toMinute(w.from);
    const to = toMinute(w.to);
    // from < to: within one day; otherwise the window runs past midnight (from = to: a whole day from `from`).
    const open = from < to ? w.days.includes(today) && minute >= from && minute < to : (w.days.includes(today) && minute >= from) || (w.days.includes(yesterday) && minute < to);
    if (open) return { open: true, label: `schedule ${w.days.join(',')} ${w.from}-${w.to} ${settings.timezone}` };
  }
  return { open: false };
}

function kw(w: number): string {
  return `${(w / 1000).toFixed(1)} kW`;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + 'Z';
}

function minutes(ms: number): string {
  return `${Math.round(ms / 60_000)} min`;
}

export function createCurtailmentPolicy(settingsFor: (container: string) => CurtailmentSettings, options: CurtailmentOptions = {}): ControlPolicy {
  const now = options.now ?? Date.now;
  const file = options.stateDir ? new EdgeStateFile(path.join(options.stateDir, CURTAILMENT_STATE_FILE), stateSchema, options.log ?? createLogger('curtailment')) : undefined;
  const state = file?.load() ?? { containers: {} };
  let savedText = JSON.stringify(state);
  const sources = new Map<string, PriceSource>();
  const lastEvaluation = new Map<string, number>();

  const save = (): void => {
    const text = JSON.stringify(state);
    if (text === savedText) return;
    savedText = text;
    file?.save(state, now());
  };

  const sourceFor = (price: NonNullable<CurtailmentSettings['price']>): PriceSource => {
    if (options.priceSource) return options.priceSource;
    const key = `${price.pollEvery}|${price.source}`;
    let source = sources.get(key);
    if (!source) {
      source = createPriceSource(price.source, { pollEveryMs: price.pollEvery, now });
      sources.set(key, source);
    }
    return source;
  };

  const containerState = (container: string, at: number): ContainerState => {
    let s = state.containers[container];
    if (!s) {
      s = { phase: 'idle', phaseSinceMs: at, startPowerW: 0, restoreCount: 0, asleep: [] };
      state.containers[container] = s;
    }
    return s;
  };

  /** What a miner draws now as far as the container's total is concerned. */
  const drawW = (m: MinerState, entry: Asleep | undefined): { watts: number; known: boolean } => {
    const sample = m.sample;
    if (entry && !entry.waking && sample?.mode !== 'sleeping') return { watts: 0, known: true }; // asleep by our command, not yet seen so
    if (entry?.waking && sample?.mode === 'sleeping') return { watts: Math.max(sample.powerW ?? 0, entry.powerW), known: true }; // about to draw again
    if (sample) {
      if (sample.powerW !== undefined) return { watts: sample.powerW, known: true };
      if (sample.mode === 'sleeping') return { watts: 0, known: true };
      const nominal = options.nominalPowerW?.(m.target);
      if (nominal !== undefined) return { watts: nominal, known: true };
      if (sample.efficiencyJth !== undefined && sample.hashrateThs !== undefined) return { watts: sample.efficiencyJth * sample.hashrateThs, known: true };
      return { watts: 0, known: false };
    }
    if (entry) return { watts: 0, known: true };
    const nominal = options.nominalPowerW?.(m.target);
    return nominal === undefined ? { watts: 0, known: false } : { watts: nominal, known: true };
  };

  /** J/TH for the order of sleeping: a miner drawing power without hashing is the worst of all; unknown goes last. */
  const jPerTh = (m: MinerState): number => {
    const s = m.sample;
    if (!s) return -1;
    if (s.efficiencyJth !== undefined && s.efficiencyJth > 0) return s.efficiencyJth;
    const power = s.powerW ?? options.nominalPowerW?.(m.target);
    if (power === undefined) return -1;
    if (s.hashrateThs === undefined || s.hashrateThs <= 0) return power > 0 ? Infinity : -1;
    return power / s.hashrateThs;
  };

  const decide = (ctx: PolicyContext): PolicyDecision[] => {
    const settings = settingsFor(ctx.container);
    const at = ctx.now;
    const previous = lastEvaluation.get(ctx.container);
    lastEvaluation.set(ctx.container, at);
    const s = containerState(ctx.container, at);
    const byId = new Map(ctx.miners.map((m) => [m.target.id, m]));
    const optedOut = (m: MinerState): boolean => settings.optOut.includes(m.target.id) || (m.target.optOut?.includes('curtailment') ?? false);
    const notes: string[] = [];

    // What the reads say about the miners we slept: confirmed asleep, woken (by us or someone else), or gone.
    s.asleep = s.asleep.filter((e) => {
      const m = byId.get(e.id);
      if (!m) return false;
      const mode = m.sample?.mode;
      if (mode === 'sleeping') {
        e.confirmed = true;
        return true;
      }
      if (mode === undefined) return true; // does not answer: nothing learnt
      if (e.waking || e.confirmed) return false; // awake again: woken by us, or by staff / another policy
      return at - e.sleptAtMs <= PENDING_GRACE_MS; // our sleep did not take: forget it
    });
    const asleepById = new Map(s.asleep.map((e) => [e.id, e]));

    // Is curtailment wanted now?
    const reasonOn: string[] = [];
    let failure: string | undefined;
    if (settings.enabled) {
      const window = openWindow(settings, at);
      if (window.error) notes.push(window.error);
      if (window.open && window.label) reasonOn.push(`${window.label} is open`);
      const price = settings.price;
      if (price) {
        const source = sourceFor(price);
        source.poll(at);
        const snap = source.snapshot();
        if (snap.failure) failure = `${snap.failure.kind}: ${snap.failure.message}`;
        const p = snap.price;
        if (p && at - p.timeMs <= price.staleAfter) {
          s.priceAbove = p.perMwh > price.strikePerMwh;
          if (s.priceAbove) reasonOn.push(`price ${p.perMwh.toFixed(2)} ${p.currency}/MWh (${clock(p.timeMs)}) above the strike ${price.strikePerMwh}`);
          else notes.push(`price ${p.perMwh.toFixed(2)} ${p.currency}/MWh at or below the strike ${price.strikePerMwh}`);
        } else {
          const what = p ? `price of ${clock(p.timeMs)} is older than ${minutes(price.staleAfter)}` : 'no price read yet';
          notes.push(`${what}: not acted on, the last judgement holds (${s.priceAbove ? 'above the strike' : 'not above the strike'})`);
          if (s.priceAbove) reasonOn.push('the last fresh price was above the strike');
        }
        if (failure) notes.push(`price source failed (${failure})`);
      }
    }
    const active = reasonOn.length > 0;
    const targetW = settings.targetKw * 1000;

    let powerW = 0;
    let unknown = 0;
    for (const m of ctx.miners) {
      const d = drawW(m, asleepById.get(m.target.id));
      powerW += d.watts;
      if (!d.known) unknown++;
    }
    if (unknown > 0) notes.push(`${unknown} miner${unknown === 1 ? '' : 's'} of unknown power counted as 0 W`);

    const rampMs = settings.ramp;
    const stepMs = previous === undefined ? rampMs / 10 : Math.min(rampMs, Math.max(0, at - previous));
    const rampShare = (since: number): number => (rampMs <= 0 ? 1 : Math.min(1, (at - since + stepMs) / rampMs));
    const actions: PolicyAction[] = [];
    const decision = (word: string, reason: string, extra: Partial<PolicyDecision> = {}): PolicyDecision => ({
      policy: 'curtailment',
      container: ctx.container,
      decision: word,
      reason: [reason, ...notes].join('; '),
      actions,
      powerW: Math.round(powerW),
      ...extra,
    });

    // Opted out while asleep by us: staff want it hashing, wake it now.
    const optedOutAsleep = s.asleep.filter((e) => !e.waking && byId.get(e.id) !== undefined && optedOut(byId.get(e.id) as MinerState));
    for (const e of optedOutAsleep) e.waking = true;
    if (optedOutAsleep.length > 0) {
      actions.push({ action: { kind: 'wake' }, targets: optedOutAsleep.map((e) => (byId.get(e.id) as MinerState).target), reason: 'opted out of curtailment while curtailed' });
    }

    if (active) {
      if (s.phase !== 'curtailing') {
        s.phase = 'curtailing';
        s.phaseSinceMs = at;
        s.startPowerW = powerW;
      }
      const why = reasonOn.join(' and ');
      const share = rampShare(s.phaseSinceMs);
      const allowedW = Math.max(targetW, s.startPowerW - (s.startPowerW - targetW) * share);
      const eligible = ctx.miners
        .filter((m) => m.sample !== undefined && m.sample.mode !== 'sleeping' && !asleepById.has(m.target.id) && !optedOut(m) && m.capabilities?.sleep === true && m.target.container !== '')
        .map((m) => ({ m, jth: jPerTh(m), watts: drawW(m, undefined).watts }))
        .sort((a, b) => b.jth - a.jth || a.m.target.id.localeCompare(b.m.target.id));
      const chosen: typeof eligible = [];
      let projected = powerW;
      for (const c of eligible) {
        if (projected <= allowedW) break;
        if (c.watts <= 0) continue;
        chosen.push(c);
        projected -= c.watts;
      }
      if (chosen.length > 0) {
        for (const c of chosen) s.asleep.push({ id: c.m.target.id, sleptAtMs: at, powerW: c.watts, confirmed: false, waking: false, wakeFailures: 0 });
        actions.push({
          action: { kind: 'sleep' },
          targets: chosen.map((c) => c.m.target),
          reason: `curtailment (${why}): ${kw(powerW)} → ${kw(allowedW)} on the way to ${kw(targetW)}; worst J/TH first`,
        });
        save();
        return [
          decision('curtail', `${why}: ${kw(powerW)} over ${share < 1 ? `the ramp's ${kw(allowedW)} (${Math.round(share * 100)} % of ${minutes(rampMs)} towards ${kw(targetW)})` : `the target ${kw(targetW)}`}; sleeping ${chosen.length} (worst J/TH first): ${chosen.map((c) => `${c.m.target.id} ${Number.isFinite(c.jth) ? `${c.jth.toFixed(1)} J/TH` : 'not hashing'}`).join(', ')}`, { targetW, powerW: Math.round(powerW) }),
        ];
      }
      // At the target with the ramp done: wake the last slept while the container stays clearly under the target.
      const pending = s.asleep.some((e) => !e.confirmed || e.waking);
      const early: Asleep[] = [];
      if (share >= 1 && !pending) {
        let room = targetW - powerW;
        for (let i = s.asleep.length - 1; i >= 0; i--) {
          const e = s.asleep[i] as Asleep;
          if (e.powerW * EARLY_WAKE_MARGIN > room) break;
          room -= e.powerW;
          early.push(e);
        }
      }
      if (early.length > 0) {
        for (const e of early) e.waking = true;
        actions.push({ action: { kind: 'wake' }, targets: early.map((e) => (byId.get(e.id) as MinerState).target), reason: `curtailment (${why}): room under ${kw(targetW)}` });
        save();
        return [decision('restore', `${why}: ${kw(powerW)} is well under the target ${kw(targetW)}; waking ${early.length} of the last slept: ${early.map((e) => e.id).join(', ')}`, { targetW })];
      }
      let where = `${kw(powerW)}, at or under ${share < 1 ? `the ramp's ${kw(allowedW)}` : `the target ${kw(targetW)}`}`;
      if (powerW > allowedW) {
        const count = (test: (m: MinerState) => boolean): number => ctx.miners.filter((m) => !asleepById.has(m.target.id) && m.sample?.mode !== 'sleeping' && test(m)).length;
        where =
          `${kw(powerW)}, above ${share < 1 ? `the ramp's ${kw(allowedW)}` : `the target ${kw(targetW)}`} with nothing left to sleep ` +
          `(${count(optedOut)} opted out, ${count((m) => m.sample === undefined)} unreachable, ${count((m) => m.sample !== undefined && m.capabilities?.sleep !== true)} without a sleep mode we can set)`;
      }
      save();
      return [decision('hold', `${why}: ${where}; ${s.asleep.length} asleep by curtailment`, { targetW })];
    }

    // Not wanted (or switched off): wake what we slept, last slept first, spread over the ramp.
    const sleepers = s.asleep.filter((e) => !e.waking);
    if (s.asleep.length === 0) {
      s.phase = 'idle';
      save();
      return failure || notes.some((n) => n.startsWith('timezone')) ? [decision('hold', 'not curtailing')] : [];
    }
    if (s.phase !== 'restoring') {
      s.phase = 'restoring';
      s.phaseSinceMs = at;
      s.restoreCount = s.asleep.length;
    }
    const share = rampShare(s.phaseSinceMs);
    const due = Math.ceil(s.restoreCount * share) - (s.restoreCount - sleepers.length);
    const wake = sleepers.slice(Math.max(0, sleepers.length - due)).reverse();
    const why = settings.enabled ? 'no schedule window open and the price is not above the strike' : 'curtailment is switched off';
    if (wake.length > 0) {
      for (const e of wake) e.waking = true;
      actions.push({ action: { kind: 'wake' }, targets: wake.map((e) => (byId.get(e.id) as MinerState).target), reason: `curtailment over (${why}): waking in the reverse order` });
      save();
      return [decision('restore', `${why}: waking ${wake.length} of ${s.restoreCount} (${Math.round(share * 100)} % of ${minutes(rampMs)}), last slept first: ${wake.map((e) => e.id).join(', ')}`)];
    }
    save();
    return [decision(actions.length > 0 ? 'restore' : 'hold', `${why}: ${s.asleep.length} still asleep by curtailment, ${s.asleep.filter((e) => e.waking).length} waking`)];
  };

  return {
    name: 'curtailment',

    evaluate: frozenOnError('curtailment', decide),

    onResults(container: string, results: readonly ActionResult[]): void {
      const s = state.containers[container];
      if (!s) return;
      for (const r of results) {
        const i = s.asleep.findIndex((e) => e.id === r.target.id);
        const e = s.asleep[i];
        if (!e) continue;
        // Nothing was sent (refused, not reachable, rate-limited): this miner did not change.
        const notSent = r.outcome === 'refused' || r.outcome === 'unreachable' || r.outcome === 'rate-limited';
        if (r.action.kind === 'sleep') {
          if (notSent) s.asleep.splice(i, 1);
          else if (r.outcome === 'confirmed') e.confirmed = true;
        } else if (r.action.kind === 'wake') {
          if (r.outcome === 'confirmed') s.asleep.splice(i, 1);
          else if (notSent || r.outcome === 'failed') {
            e.waking = false;
            e.wakeFailures += 1;
            if (e.wakeFailures >= MAX_WAKE_FAILURES) {
              s.asleep.splice(i, 1);
              options.log?.warn({ miner: e.id, container, detail: r.detail }, `curtailment: gave up waking ${e.id} after ${e.wakeFailures} tries (${r.outcome}); staff must wake it`);
            }
          }
        }
      }
      save();
    },
  };
}
