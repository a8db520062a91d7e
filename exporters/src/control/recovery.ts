/**
 * Recovery (issue 14): a miner that has not hashed for `notHashingFor` (reachable but idle, stuck booting, hung, or
 * unreachable) is rebooted through the write path, at most `maxRebootsPerDay` times in a rolling 24 h and at most
 * `maxPerEvaluation` miners of a container per evaluation. Past the cap, or when the miner cannot be rebooted through
 * its API at all, it gets a RECOVERY_EXHAUSTED fault instead: that fault pages and opens a repair ticket, and no
 * further reboot is tried in that episode (it ends when the miner hashes again). Never a reboot loop: after a reboot
 * the miner gets `notHashingFor` again to come back, and never less than the executor's reboot spacing.
 *
 * Left alone: miners asleep on purpose (mode `sleeping`, or put to sleep by the write path and not woken since, which
 * some firmware reports as idle), miners opted out of `recovery`, and miners without a container. The edge does not
 * know maintenance windows or repair tickets (both live at the center); staff working on a miner opt it out
 * (docs/control.md, "Recovery").
 */
import { severityOf, type Fault } from '@flymining/shared';
import { DEFAULT_LIMITS, type ActionResult, type ControlTarget } from '../miner/control/executor';
import type { ActionHistory } from '../miner/control/history';
import { frozenOnError } from './frozen-on-error';
import type { RecoverySettings } from './settings';
import type { ControlPolicy, MinerState, PolicyAction, PolicyContext, PolicyDecision } from './types';

const DAY_MS = 24 * 3600_000;
export const RECOVERY_ACTOR = 'policy:recovery';

export interface RecoveryOptions {
  /** The executor's least time between two reboots of one miner (default: the executor's default). */
  rebootSpacingMs?: number;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min` : `${(ms / 3600_000).toFixed(1)} h`;
}

function place(t: ControlTarget): string {
  return [t.container, t.rack, t.shelf, t.slot].filter((p) => p !== undefined && p !== '').join('/');
}

/** Why a miner is exhausted, kept for the episode so the fault's `since` and message stay put. */
interface Exhausted {
  container: string;
  since: number;
  message: string;
  reboots: number;
}

/** A reboot the executor could not deliver (the miner did not answer its read): counts against the cap here. */
interface MissedAttempt {
  minerId: string;
  time: number;
}

export function createRecoveryPolicy(
  settingsFor: (container: string) => RecoverySettings,
  history: ActionHistory,
  now: () => number = Date.now,
  options: RecoveryOptions = {},
): ControlPolicy {
  const rebootSpacingMs = options.rebootSpacingMs ?? DEFAULT_LIMITS.rebootSpacingMs;
  const exhausted = new Map<string, Exhausted>();
  let missed: MissedAttempt[] = [];

  const rebootsInDay = (minerId: string, at: number): number =>
    history.count({ minerId, action: 'reboot', actor: RECOVERY_ACTOR, sinceMs: at - DAY_MS }) + missed.filter((m) => m.minerId === minerId && m.time >= at - DAY_MS).length;

  /** Asleep on purpose: the firmware says so, or our write path slept it and nobody woke or rebooted it since. */
  const asleepOnPurpose = (m: MinerState): boolean => {
    if (m.sample?.mode === 'sleeping') return true;
    const slept = history.last({ minerId: m.target.id, action: 'sleep' });
    if (!slept) return false;
    const woken = Math.max(history.last({ minerId: m.target.id, action: 'wake' })?.time ?? -Infinity, history.last({ minerId: m.target.id, action: 'reboot' })?.time ?? -Infinity);
    return slept.time > woken;
  };

  const faultFor = (m: MinerState, e: Exhausted): Fault => {
    const t = m.target;
    return {
      code: 'RECOVERY_EXHAUSTED',
      severity: severityOf('RECOVERY_EXHAUSTED'),
      minerId: t.id,
      location: { site: t.site, container: t.container, rack: t.rack ?? '-', shelf: t.shelf ?? '-', slot: t.slot ?? '-' },
      part: 'miner',
      message: e.message,
      since: e.since,
      details: { reboots: e.reboots },
    };
  };

  const decide = (ctx: PolicyContext): PolicyDecision[] => {
    const settings = settingsFor(ctx.container);
    const at = ctx.now;
    missed = missed.filter((m) => m.time >= at - DAY_MS);
    // An episode ends when its miner hashes again, is opted out, sleeps on purpose (below), or left the container.
    const inContainer = new Set(ctx.miners.map((m) => m.target.id));
    for (const [id, e] of exhausted) if (e.container === ctx.container && !inContainer.has(id)) exhausted.delete(id);
    if (!settings.enabled) {
      for (const id of inContainer) exhausted.delete(id);
      return [];
    }

    const candidates: Array<{ m: MinerState; downMs: number; reboots: number }> = [];
    const faulted: MinerState[] = [];
    for (const m of ctx.miners) {
      const t = m.target;
      const optedOut = settings.optOut.includes(t.id) || (t.optOut?.includes('recovery') ?? false);
      if (m.notHashingSinceMs === undefined || optedOut || t.container === '' || asleepOnPurpose(m)) {
        exhausted.delete(t.id);
        continue;
      }
      if (exhausted.has(t.id)) {
        faulted.push(m);
        continue;
      }
      const downMs = at - m.notHashingSinceMs;
      if (downMs < settings.notHashingFor) continue;
      // A reboot (by anyone) restarts the clock: the miner gets notHashingFor to come back, and never less than the
      // executor's spacing, so two evaluations never reboot it back to back, and the last allowed reboot gets its
      // chance before the ticket.
      const lastReboot = history.last({ minerId: t.id, action: 'reboot' })?.time;
      const lastMissed = missed.filter((x) => x.minerId === t.id).reduce((a, x) => Math.max(a, x.time), -Infinity);
      const lastTry = Math.max(lastReboot ?? -Infinity, lastMissed);
      if (at - lastTry < Math.max(settings.notHashingFor, rebootSpacingMs)) continue;
      const reachable = m.sample !== undefined;
      const caps = m.capabilities;
      const reboots = rebootsInDay(t.id, at);
      const family = m.sample?.model ?? t.firmware ?? t.backend ?? 'its firmware';
      if (reboots >= settings.maxRebootsPerDay) {
        exhausted.set(t.id, {
          container: t.container,
          since: at,
          reboots,
          message: `${place(t)} ${t.id}: ${reachable ? 'still not hashing' : 'still unreachable'} after ${reboots} automatic reboot${reboots === 1 ? '' : 's'} in 24 h (the daily cap); no more automatic reboots: a person must look${reachable ? '' : ' and power-cycle it'}`,
        });
        faulted.push(m);
        continue;
      }
      if (!caps?.reboot) {
        const why = caps === undefined ? `no write path is known for ${family}` : `${family} cannot be rebooted through its API`;
        exhausted.set(t.id, {
          container: t.container,
          since: at,
          reboots,
          message: `${place(t)} ${t.id}: ${reachable ? 'not hashing' : 'unreachable'} for ${minutes(downMs)} and ${why}: a person must power-cycle it`,
        });
        faulted.push(m);
        continue;
      }
      candidates.push({ m, downMs, reboots });
    }

    const decisions: PolicyDecision[] = [];
    // Longest down first; the rest wait for the next evaluation (a container is one feed: no reboot storms).
    candidates.sort((a, b) => b.downMs - a.downMs || a.m.target.id.localeCompare(b.m.target.id));
    const chosen = candidates.slice(0, settings.maxPerEvaluation);
    if (chosen.length > 0) {
      const actions: PolicyAction[] = chosen.map(({ m, downMs, reboots }) => ({
        action: { kind: 'reboot' },
        targets: [m.target],
        reason: `${m.sample === undefined ? 'unreachable' : `not hashing (mode ${m.sample.mode})`} for ${minutes(downMs)}; automatic reboot ${reboots + 1} of ${settings.maxRebootsPerDay} in 24 h`,
      }));
      const waiting = candidates.length - chosen.length;
      decisions.push({
        policy: 'recovery',
        container: ctx.container,
        decision: 'reboot',
        reason: `${chosen.length} miner${chosen.length === 1 ? '' : 's'} not hashing for ${minutes(settings.notHashingFor)} or more: ${chosen.map((c) => c.m.target.id).join(', ')}${waiting > 0 ? `; ${waiting} more wait for the next evaluation (at most ${settings.maxPerEvaluation} per evaluation)` : ''}`,
        actions,
      });
    }
    if (faulted.length > 0) {
      decisions.push({
        policy: 'recovery',
        container: ctx.container,
        decision: 'ticket',
        reason: `${faulted.length} miner${faulted.length === 1 ? '' : 's'} past automatic recovery: ${faulted.map((m) => m.target.id).join(', ')}`,
        actions: [],
        faults: faulted.map((m) => faultFor(m, exhausted.get(m.target.id) as Exhausted)),
      });
    }
    return decisions;
  };

  return {
    name: 'recovery',

    evaluate: frozenOnError('recovery', decide),

    onResults(_container: string, results: readonly ActionResult[]): void {
      for (const r of results) {
        if (r.action.kind !== 'reboot') continue;
        // The executor reads a miner before acting; one that does not answer is never sent the reboot and so is not
        // in its history. Count the try here, or an unreachable miner would be "rebooted" every evaluation forever.
        if (r.outcome === 'unreachable') missed.push({ minerId: r.target.id, time: r.time });
        // A firmware that refuses (no reboot on this model, credentials refused): only a person can help.
        if (r.outcome === 'refused' && !exhausted.has(r.target.id)) {
          exhausted.set(r.target.id, {
            container: r.target.container,
            since: r.time,
            reboots: rebootsInDay(r.target.id, now()),
            message: `${place(r.target)} ${r.target.id}: not hashing and its reboot was refused (${r.detail}): a person must power-cycle it`,
          });
        }
      }
    },
  };
}
