/**
 * The container temperature loop (issue 14). A container has no moving parts besides the miners' fans, so the miners
 * are the only actuator for "not too hot, not too cold": their power is the container's heat.
 *
 *  - Too hot (intake above the band's high edge + hysteresis, or a miner's hottest chip above chipMaxC): step the
 *    hottest miners' power down, a share of their range per step; only when every miner is at its floor, sleep the
 *    hottest (a chip-hot miner already at its floor is slept on its own: nothing else cools its chips).
 *  - Too cold (intake below the low edge − hysteresis, or the dew-point margin below its minimum): wake the miners the
 *    loop itself put to sleep, then raise power back toward where it was; while cold, recommend recirculation when the
 *    damper is not fully open (the loop does not drive the damper).
 *  - In band, after a hold-off since the last cooling step: give back what it took where the chips have room.
 *
 * It never oscillates: it acts only beyond the band ± hysteresis and a latched mode ends only inside it; one step per
 * container per dwell and one change per miner per dwell; giving back in band waits RESTORE_HOLDOFF_DWELLS dwells
 * after the container's last cooling step and after the miner's own (twice as long each time a raise of that miner
 * had to be taken back), and needs room: its chips 2 × hysteresis below the limit after the step's learned effect. It never touches opted-out miners,
 * miners staff put to sleep, or miners without a write path; it wakes only what it slept and restores only what it
 * lowered (remembered in a state file, so a restarted exporter still knows). Stale, missing or absurd climate
 * readings freeze it: no action, a CONTROL_SENSOR_STALE fault until readings return.
 */
import path from 'node:path';
import { FAULT_CODES, type Fault, type Logger } from '@flymining/shared';
import { z } from 'zod';
import { EdgeStateFile } from '../common/edge/state-file';
import type { ActionResult } from '../miner/control/executor';
import { WORK_MODES, type ControlCapabilities, type MinerAction, type PowerTarget, type WorkMode } from '../miner/control/types';
import type { TemperatureSettings } from './settings';
import type { ContainerClimate, ControlPolicy, MinerState, PolicyAction, PolicyContext, PolicyDecision } from './types';

/** Readings outside these are a broken sensor or a corrupted file, never weather: the loop freezes. */
export const PLAUSIBLE_INTAKE_C = { min: -50, max: 80 } as const;
const PLAUSIBLE_MARGIN_C = { min: -1, max: 60 } as const;
/** A chip reading outside this is ignored (that miner is not judged by its chips). */
const PLAUSIBLE_CHIP_C = { min: -40, max: 150 } as const;
/** A reading stamped further ahead than this is from a wrong clock: not trusted. */
const FUTURE_TOLERANCE_MS = 60_000;
/** The loop never sets a power target below this share of the miner's target before the loop began. */
const FLOOR_SHARE_OF_HOME = 0.5;
/** Giving back power in band waits this many dwells after the last cooling step. */
export const RESTORE_HOLDOFF_DWELLS = 3;
/** Assumed chip temperature change of one power step until the loop has measured the miner's own. */
const DEFAULT_STEP_EFFECT_C = 6;
/** A step's effect on the chips is measured this long after it. */
const EFFECT_SETTLE_MS = 60_000;
/** A miner reporting a target other than the one the loop set this long after setting it was changed by staff. */
const OVERRIDE_SETTLE_MS = 120_000;
/** The least chip effect of a step assumed when judging room to give one back (a measurement can be flattered by cooling weather). */
const MIN_STEP_EFFECT_C = 3;
/** What the loop remembers of a miner it has given everything back to is kept this long (its dwell), then dropped. */
const FORGET_AFTER_MS = 24 * 3600_000;

const powerTargetSchema = z.union([z.strictObject({ watts: z.number().positive() }), z.strictObject({ mode: z.enum(WORK_MODES) })]);

const minerMemorySchema = z.object({
  container: z.string(),
  /** Where the miner was before the loop first lowered it: the most it will ever give back. */
  home: powerTargetSchema.optional(),
  /** What the loop last set. */
  set: powerTargetSchema.optional(),
  /** The firmware refused a step below this target: the miner's own floor. */
  floorW: z.number().optional(),
  /** Set when the loop put it to sleep (only these are woken), with the intake then. */
  sleptAtMs: z.number().optional(),
  sleptIntakeC: z.number().optional(),
  lastChangeMs: z.number().optional(),
  /** The direction of its last change, when the loop last lowered (or slept) it, and how often a raise was taken back. */
  lastDirection: z.enum(['down', 'up']).optional(),
  lastDownMs: z.number().optional(),
  reversals: z.number().int().min(0).optional(),
  /** Measured chip temperature drop of one step down. */
  effectC: z.number().optional(),
  pendingEffect: z.object({ chipC: z.number(), atMs: z.number() }).optional(),
  /** The change under way, so a refusal can be learned from. */
  pending: z.object({ direction: z.enum(['down', 'up']), from: powerTargetSchema }).optional(),
});
type MinerMemory = z.infer<typeof minerMemorySchema>;

const containerMemorySchema = z.object({
  mode: z.enum(['idle', 'cooling', 'warming']),
  lastStepMs: z.number().optional(),
  lastCoolingMs: z.number().optional(),
  /** Since when its readings are unusable (the fault's `since`, kept across restarts). */
  staleSince: z.number().optional(),
});
type ContainerMemory = z.infer<typeof containerMemorySchema>;

const loopStateSchema = z.object({
  containers: z.record(z.string(), containerMemorySchema),
  miners: z.record(z.string(), minerMemorySchema),
});
export type TemperatureLoopState = z.infer<typeof loopStateSchema>;

export function temperatureStatePath(stateDir: string): string {
  return path.join(stateDir, 'temperature-loop.json');
}

export interface TemperaturePolicyOptions {
  /** The edge's state folder: the loop remembers there what it slept and lowered. Without it, memory ends with the process. */
  stateDir?: string;
  log?: Logger;
}

type Judged = { ok: true; intakeC: number; marginC?: number; damperPercent?: number; outsideC?: number; notes: string[] } | { ok: false; why: string; intakeC?: number };

const isOk = (outcome: ActionResult['outcome']): boolean => outcome === 'confirmed' || outcome === 'sent' || outcome === 'unconfirmed';
const fmt = (c: number): string => `${c.toFixed(1)} °C`;
const sameTarget = (a: PowerTarget, b: PowerTarget): boolean =>
  'watts' in a && 'watts' in b ? Math.abs(a.watts - b.watts) <= Math.max(25, 0.02 * b.watts) : 'mode' in a && 'mode' in b && a.mode === b.mode;
const describeTarget = (t: PowerTarget): string => ('watts' in t ? `${Math.round(t.watts)} W` : `mode ${t.mode}`);

/** Judges the climate readings: usable intake (and margin, damper), or why the loop must freeze. */
export function judgeClimate(climate: ContainerClimate | undefined, now: number, s: TemperatureSettings): Judged {
  if (!climate) return { ok: false, why: 'no climate readings for this container (container-climate.json has none)' };
  const age = (at: number | undefined): number | undefined => (at === undefined ? undefined : now - at);
  const { intakeC } = climate;
  if (intakeC === undefined || !Number.isFinite(intakeC)) return { ok: false, why: 'no intake temperature reading' };
  if (intakeC < PLAUSIBLE_INTAKE_C.min || intakeC > PLAUSIBLE_INTAKE_C.max) {
    return { ok: false, why: `intake reads ${fmt(intakeC)}, outside ${PLAUSIBLE_INTAKE_C.min}..${PLAUSIBLE_INTAKE_C.max} °C: a broken sensor, not weather`, intakeC };
  }
  const intakeAge = age(climate.intakeAtMs);
  if (intakeAge === undefined) return { ok: false, why: 'the intake reading has no time', intakeC };
  if (intakeAge < -FUTURE_TOLERANCE_MS) return { ok: false, why: `the intake reading is stamped ${Math.round(-intakeAge / 1000)} s in the future (a wrong clock)`, intakeC };
  if (intakeAge > s.staleAfter) return { ok: false, why: `the intake reading is ${Math.round(intakeAge / 1000)} s old (staleAfter ${Math.round(s.staleAfter / 1000)} s)`, intakeC };
  const notes: string[] = [];
  let marginC: number | undefined;
  if (climate.dewPointMarginC !== undefined) {
    const m = climate.dewPointMarginC;
    if (!Number.isFinite(m) || m < PLAUSIBLE_MARGIN_C.min || m > PLAUSIBLE_MARGIN_C.max) {
      return { ok: false, why: `the dew-point margin reads ${Number.isFinite(m) ? fmt(m) : String(m)}, outside ${PLAUSIBLE_MARGIN_C.min}..${PLAUSIBLE_MARGIN_C.max} °C: a broken sensor`, intakeC };
    }
    const mAge = age(climate.dewPointAtMs);
    // A container may have no humidity sensor: a stale margin is left out (the climate exporter raises its own fault), not frozen on.
    if (mAge === undefined || mAge > s.staleAfter || mAge < -FUTURE_TOLERANCE_MS) notes.push('dew-point margin stale, judged on intake alone');
    else marginC = m;
  }
  let damperPercent: number | undefined;
  const dAge = age(climate.damperAtMs);
  if (climate.damperPercent !== undefined && Number.isFinite(climate.damperPercent) && climate.damperPercent >= 0 && climate.damperPercent <= 100) {
    if (dAge === undefined || (dAge <= s.staleAfter && dAge >= -FUTURE_TOLERANCE_MS)) damperPercent = climate.damperPercent;
  }
  let outsideC: number | undefined;
  const oAge = age(climate.outsideAtMs);
  if (climate.outsideC !== undefined && Number.isFinite(climate.outsideC) && climate.outsideC >= PLAUSIBLE_INTAKE_C.min && climate.outsideC <= PLAUSIBLE_INTAKE_C.max) {
    if (oAge !== undefined && oAge <= s.staleAfter && oAge >= -FUTURE_TOLERANCE_MS) outsideC = climate.outsideC;
  }
  return { ok: true, intakeC, marginC, damperPercent, outsideC, notes };
}

/** A miner as this loop sees it in one evaluation. */
interface MinerView {
  state: MinerState;
  id: string;
  mem: MinerMemory | undefined;
  caps: ControlCapabilities;
  chipC: number | undefined;
  sleeping: boolean;
  hashing: boolean;
  /** The power it runs at (target or mode), when it can be stepped. */
  current: PowerTarget | undefined;
}

/** The hottest plausible chip (or board) temperature of a sample. */
function hottestChip(state: MinerState): number | undefined {
  let hottest: number | undefined;
  for (const b of state.sample?.boards ?? []) {
    const t = b.chipTempC ?? b.boardTempC;
    if (t === undefined || !Number.isFinite(t) || t < PLAUSIBLE_CHIP_C.min || t > PLAUSIBLE_CHIP_C.max || (t === 0 && !b.present)) continue;
    hottest = hottest === undefined ? t : Math.max(hottest, t);
  }
  return hottest;
}

export class TemperaturePolicy implements ControlPolicy {
  readonly name = 'temperature' as const;
  private readonly containers = new Map<string, ContainerMemory>();
  private readonly miners = new Map<string, MinerMemory>();
  private readonly stateFile: EdgeStateFile<TemperatureLoopState> | undefined;
  private lastSaved = '';

  constructor(
    private readonly settingsFor: (container: string) => TemperatureSettings,
    options: TemperaturePolicyOptions = {},
  ) {
    if (options.stateDir && options.log) {
      this.stateFile = new EdgeStateFile(temperatureStatePath(options.stateDir), loopStateSchema, options.log);
      const saved = this.stateFile.load();
      if (saved) {
        for (const [name, c] of Object.entries(saved.containers)) this.containers.set(name, c);
        for (const [id, m] of Object.entries(saved.miners)) this.miners.set(id, m);
        this.lastSaved = JSON.stringify(saved);
      }
    }
  }

  /** What the loop remembers (for tests and the bench): miners it slept and lowered, per-container mode. */
  snapshot(): TemperatureLoopState {
    return { containers: Object.fromEntries(this.containers), miners: Object.fromEntries(this.miners) };
  }

  /** Miners the loop put to sleep and has not woken. */
  sleptByLoop(): string[] {
    return [...this.miners].filter(([, m]) => m.sleptAtMs !== undefined).map(([id]) => id);
  }

  evaluate(ctx: PolicyContext): PolicyDecision[] {
    const s = this.settingsFor(ctx.container);
    if (!s.enabled) return [];
    try {
      return this.decide(ctx, s);
    } catch (err) {
      return [{ policy: 'temperature', container: ctx.container, decision: 'frozen', reason: `internal error, no action: ${(err as Error).message}`, actions: [] }];
    } finally {
      this.save();
    }
  }

  onResults(_container: string, results: readonly ActionResult[]): void {
    for (const r of results) {
      const mem = this.miners.get(r.target.id);
      if (!mem) continue;
      const ok = isOk(r.outcome);
      const action = r.action;
      if (action.kind === 'power') {
        if (ok) mem.set = action.target;
        else if (r.outcome === 'refused' && mem.pending) {
          // The firmware will not go there: below, its floor is reached; above, what it has now is all it gives back.
          const from = mem.pending.from;
          if (mem.pending.direction === 'down' && 'watts' in from) mem.floorW = from.watts;
          if (mem.pending.direction === 'up') mem.home = from;
        }
        mem.pending = undefined;
      } else if (action.kind === 'sleep' && ok) {
        mem.sleptAtMs = r.time;
      } else if (action.kind === 'wake' && ok) {
        mem.sleptAtMs = undefined;
        mem.sleptIntakeC = undefined;
      }
      tidy(mem);
    }
    this.save();
  }

  private containerMemory(name: string): ContainerMemory {
    let c = this.containers.get(name);
    if (!c) this.containers.set(name, (c = { mode: 'idle' }));
    return c;
  }

  private save(): void {
    if (!this.stateFile) return;
    const state = this.snapshot();
    const text = JSON.stringify(state);
    if (text === this.lastSaved) return;
    this.stateFile.save(state);
    this.lastSaved = text;
  }

  private decide(ctx: PolicyContext, s: TemperatureSettings): PolicyDecision[] {
    const c = this.containerMemory(ctx.container);
    const [low, high] = s.intakeBandC;
    const h = s.hysteresisC;
    const base = { policy: 'temperature' as const, container: ctx.container, bandLowC: low, bandHighC: high, powerW: totalPower(ctx.miners) };
    const judged = judgeClimate(ctx.climate, ctx.now, s);
    if (!judged.ok) {
      c.staleSince ??= ctx.now;
      const fault: Fault = {
        code: 'CONTROL_SENSOR_STALE',
        severity: FAULT_CODES.CONTROL_SENSOR_STALE.severity,
        minerId: ctx.container,
        location: { site: ctx.site, container: ctx.container, rack: '-', shelf: '-', slot: '-' },
        part: 'temperature-loop',
        message: `container ${ctx.container}: temperature loop frozen, ${judged.why}; it takes no action until readings return`,
        since: c.staleSince,
      };
      return [{ ...base, decision: 'frozen', reason: `${judged.why}: no action until readings return`, actions: [], faults: [fault], ...(judged.intakeC === undefined ? {} : { intakeC: judged.intakeC }) }];
    }
    c.staleSince = undefined;
    const intake = judged.intakeC;
    const margin = judged.marginC;
    const withIntake = { ...base, intakeC: intake };

    const skipped = { optOut: 0, noWritePath: 0, noReading: 0, staffAsleep: 0 };
    const views: MinerView[] = [];
    for (const m of ctx.miners) {
      const v = this.view(m, ctx.now, s, skipped);
      if (v) views.push(v);
    }
    // Memory of miners no longer in this container (moved, removed) is dropped, and of those long given back.
    const listed = new Set(ctx.miners.map((m) => m.target.id));
    for (const [id, mem] of this.miners) {
      if (mem.container !== ctx.container) continue;
      const idle = mem.home === undefined && mem.sleptAtMs === undefined && (mem.lastChangeMs === undefined || ctx.now - mem.lastChangeMs > FORGET_AFTER_MS);
      if (!listed.has(id) || idle) this.miners.delete(id);
    }

    // The mode latches: entered beyond band ± hysteresis, left only inside it.
    const hotIntake = intake > high + h;
    const coldIntake = intake < low - h;
    const dewLow = margin !== undefined && margin < s.dewPointMarginMinC;
    if (hotIntake) c.mode = 'cooling';
    else if (coldIntake || dewLow) c.mode = 'warming';
    else if (c.mode === 'cooling' && intake <= high - h) c.mode = 'idle';
    else if (c.mode === 'warming' && intake >= low + h && (margin === undefined || margin >= s.dewPointMarginMinC + h)) c.mode = 'idle';

    const active = views.filter((v) => v.hashing && !v.sleeping);
    const hot = active.filter((v) => v.chipC !== undefined && v.chipC > s.chipMaxC).sort(byChipDesc);
    const containerWait = c.lastStepMs === undefined ? 0 : c.lastStepMs + s.dwell - ctx.now;
    const minerReady = (v: MinerView): boolean => v.mem?.lastChangeMs === undefined || ctx.now - v.mem.lastChangeMs >= s.dwell;
    const notes = [...judged.notes, ...skippedNotes(skipped)];
    const why = (text: string): string => (notes.length > 0 ? `${text} (${notes.join('; ')})` : text);
    const marginText = margin === undefined ? '' : `, dew-point margin ${fmt(margin)}`;
    const where = `intake ${fmt(intake)}${marginText}, band ${low}..${high} °C ±${h}`;

    // Intake no warmer than the outside air (nothing recirculated): the miners' heat is not what makes it hot, so
    // throttling or sleeping the container would not cool it; only chips over their limit are acted on.
    const outsideAir = c.mode === 'cooling' && judged.outsideC !== undefined && intake - judged.outsideC <= h;
    if (c.mode === 'cooling' || hot.length > 0) {
      const chipCause = `${hot.length} miner(s) with chips above ${s.chipMaxC} °C (hottest ${hot[0]?.id} at ${fmt(hot[0]?.chipC ?? 0)}), ${where}`;
      const cause = outsideAir
        ? `${where}: too hot, but it is the outside air (${fmt(judged.outsideC ?? 0)}) the miners cannot cool${hot.length > 0 ? `; ${chipCause}` : ''}`
        : c.mode === 'cooling'
          ? `${where}: too hot`
          : chipCause;
      if (outsideAir && hot.length === 0) return [{ ...withIntake, decision: 'hold', reason: why(`${cause}; their chips are within ${s.chipMaxC} °C`), actions: [] }];
      if (containerWait > 0) return [{ ...withIntake, decision: 'hold', reason: why(`${cause}; next step in ${Math.ceil(containerWait / 1000)} s (dwell)`), actions: [] }];
      const decisions = c.mode === 'cooling' && !outsideAir ? this.coolContainer(active, s, ctx.now, intake, cause, minerReady) : this.coolChips(hot, s, ctx.now, intake, cause, minerReady);
      if (decisions.some((d) => d.actions.length > 0)) {
        c.lastStepMs = ctx.now;
        c.lastCoolingMs = ctx.now;
      }
      return decisions.map((d) => ({ ...withIntake, ...d, reason: why(d.reason) }));
    }

    const out: PolicyDecision[] = [];
    if (c.mode === 'warming') {
      const cause = `${where}: ${coldIntake || intake < low + h ? 'too cold' : 'condensation risk'}${dewLow ? ` (dew-point margin below ${s.dewPointMarginMinC} °C)` : ''}`;
      const damperMax = judged.damperPercent !== undefined && judged.damperPercent >= s.damperMaxPercent - 0.5;
      if (!damperMax) {
        const damper = judged.damperPercent === undefined ? 'the damper position is unknown' : `the damper is at ${Math.round(judged.damperPercent)} % of ${s.damperMaxPercent} %`;
        out.push({
          ...withIntake,
          decision: 'recommend-recirculation',
          reason: why(`${cause}; ${damper}: recirculate more exhaust air (the loop does not drive the damper, it only acts on the miners)`),
          actions: [],
        });
      }
      if (containerWait > 0) {
        out.push({ ...withIntake, decision: 'hold', reason: why(`${cause}; next step in ${Math.ceil(containerWait / 1000)} s (dwell)`), actions: [] });
        return out;
      }
      const given = this.giveBack(views, active, s, ctx.now, cause, minerReady, undefined);
      if (given) {
        c.lastStepMs = ctx.now;
        out.push({ ...withIntake, ...given, reason: why(given.reason) });
      } else {
        const left = this.takenBack(views);
        const reason = left > 0 ? `${cause}; the ${left} miner(s) it lowered or slept wait for their dwell or chip room` : `${cause}; nothing it took is left to give back${damperMax ? ' and the damper is fully open: nothing more the loop can do' : ''}`;
        out.push({ ...withIntake, decision: 'hold', reason: why(reason), actions: [] });
      }
      return out;
    }

    // In band: give back what it took, once enough time has passed since the last cooling step and with room.
    const holdoffLeft = c.lastCoolingMs === undefined ? 0 : c.lastCoolingMs + RESTORE_HOLDOFF_DWELLS * s.dwell - ctx.now;
    const taken = this.takenBack(views);
    if (taken > 0 && intake <= high - 2 * h && containerWait <= 0 && holdoffLeft <= 0) {
      const given = this.giveBack(views, active, s, ctx.now, `${where}: in band with room`, minerReady, intake);
      if (given) {
        c.lastStepMs = ctx.now;
        return [{ ...withIntake, ...given, reason: why(given.reason) }];
      }
    }
    const pendingText =
      taken === 0 ? '' : intake > high - 2 * h ? `; ${taken} miner(s) lowered or slept wait for intake below ${high - 2 * h} °C` : holdoffLeft > 0 ? `; ${taken} miner(s) lowered or slept, giving back in ${Math.ceil(holdoffLeft / 1000)} s` : `; ${taken} miner(s) lowered or slept wait for their dwell or chip room`;
    return [{ ...withIntake, decision: 'hold', reason: why(`${where}: in band${pendingText}`), actions: [] }];
  }

  /** The miner as the loop may act on it, or undefined (counted in `skipped`) when it must not. */
  private view(state: MinerState, now: number, s: TemperatureSettings, skipped: Record<'optOut' | 'noWritePath' | 'noReading' | 'staffAsleep', number>): MinerView | undefined {
    const id = state.target.id;
    if (s.optOut.includes(id) || state.target.optOut?.includes('temperature')) {
      skipped.optOut++;
      this.miners.delete(id);
      return undefined;
    }
    const caps = state.capabilities;
    if (!caps || (!caps.power && !caps.sleep)) {
      skipped.noWritePath++;
      return undefined;
    }
    const sample = state.sample;
    if (!sample || state.lastOkMs === undefined || now - state.lastOkMs > s.staleAfter) {
      skipped.noReading++;
      return undefined;
    }
    // When the agent read it, on the agent's clock (the firmware's own time is not trusted).
    const seenAt = state.lastOkMs;
    let mem = this.miners.get(id);
    const sleeping = sample.mode === 'sleeping';
    if (mem && mem.container !== state.target.container) {
      this.miners.delete(id);
      mem = undefined;
    }
    // A miner the loop slept that hashes again was woken by someone else: it is theirs now.
    if (mem?.sleptAtMs !== undefined && !sleeping && sample.mode !== 'booting' && seenAt - mem.sleptAtMs > OVERRIDE_SETTLE_MS) {
      mem.sleptAtMs = undefined;
      mem.sleptIntakeC = undefined;
    }
    if (sleeping && mem?.sleptAtMs === undefined) {
      skipped.staffAsleep++;
      return undefined;
    }
    const chipC = hottestChip(state);
    const current = currentTarget(sample.powerTargetW, sample.workMode, sample.powerW, caps, mem);
    if (mem?.set && current && mem.lastChangeMs !== undefined && seenAt - mem.lastChangeMs > OVERRIDE_SETTLE_MS && !sameTarget(current, mem.set)) {
      // Someone else set another target: the loop no longer owns this miner's power.
      mem.home = undefined;
      mem.set = undefined;
      mem.pending = undefined;
    }
    if (mem?.pendingEffect && chipC !== undefined && seenAt - mem.pendingEffect.atMs >= EFFECT_SETTLE_MS) {
      const drop = Math.min(20, Math.max(1, mem.pendingEffect.chipC - chipC));
      mem.effectC = mem.effectC === undefined ? drop : (mem.effectC + drop) / 2;
      mem.pendingEffect = undefined;
    }
    if (mem) tidy(mem);
    return { state, id, mem, caps, chipC, sleeping, hashing: sample.mode === 'hashing', current };
  }

  private memoryOf(v: MinerView): MinerMemory {
    let mem = this.miners.get(v.id);
    if (!mem) this.miners.set(v.id, (mem = { container: v.state.target.container }));
    v.mem = mem;
    return mem;
  }

  /** Intake too hot: step the hottest down; when every miner is at its floor, sleep the hottest. */
  private coolContainer(active: MinerView[], s: TemperatureSettings, now: number, intakeC: number, cause: string, ready: (v: MinerView) => boolean): Array<Omit<PolicyDecision, 'policy' | 'container'>> {
    const order = [...active].sort(byChipDesc);
    const steps = order.filter((v) => ready(v) && this.lower(v, s) !== undefined).slice(0, s.stepMiners);
    if (steps.length > 0) return [this.stepDown(steps, s, now, `${cause}: stepping the ${steps.length} hottest down`)];
    if (order.some((v) => this.lower(v, s) !== undefined)) return [{ decision: 'hold', reason: `${cause}; miners above their floor wait for their dwell`, actions: [] }];
    const sleepers = order.filter((v) => ready(v) && v.caps.sleep).slice(0, s.stepMiners);
    if (sleepers.length > 0) return [this.sleep(sleepers, now, intakeC, `${cause}, every miner at its floor: sleeping the ${sleepers.length} hottest`)];
    return [{ decision: 'hold', reason: `${cause}; every miner is at its floor and none it may sleep is ready`, actions: [] }];
  }

  /** Chips too hot with intake in band: step those miners down; one already at its floor sleeps. */
  private coolChips(hot: MinerView[], s: TemperatureSettings, now: number, intakeC: number, cause: string, ready: (v: MinerView) => boolean): Array<Omit<PolicyDecision, 'policy' | 'container'>> {
    const chosen = hot.filter(ready).slice(0, s.stepMiners);
    const steps = chosen.filter((v) => this.lower(v, s) !== undefined);
    const sleepers = chosen.filter((v) => this.lower(v, s) === undefined && v.caps.sleep);
    const out: Array<Omit<PolicyDecision, 'policy' | 'container'>> = [];
    if (steps.length > 0) out.push(this.stepDown(steps, s, now, `${cause}: stepping them down`));
    if (sleepers.length > 0) out.push(this.sleep(sleepers, now, intakeC, `${cause}: ${sleepers.length} at its floor and still too hot, sleeping`));
    if (out.length === 0) out.push({ decision: 'hold', reason: `${cause}; the hot miners wait for their dwell or can go no lower`, actions: [] });
    return out;
  }

  private stepDown(views: MinerView[], s: TemperatureSettings, now: number, reason: string): Omit<PolicyDecision, 'policy' | 'container'> {
    const actions: PolicyAction[] = [];
    for (const v of views) {
      const to = this.lower(v, s) as PowerTarget;
      const from = v.current as PowerTarget;
      const mem = this.memoryOf(v);
      mem.home ??= from;
      mem.pending = { direction: 'down', from };
      markDown(mem, now);
      if (v.chipC !== undefined) mem.pendingEffect = { chipC: v.chipC, atMs: now };
      actions.push({ action: { kind: 'power', target: to }, targets: [v.state.target], reason: `${reason}: ${v.id} ${describeTarget(from)} → ${describeTarget(to)}${v.chipC === undefined ? '' : `, chips ${fmt(v.chipC)}`}` });
    }
    return { decision: 'step-down', reason, actions, ...targetSum(views, (v) => this.lower(v, s)) };
  }

  private sleep(views: MinerView[], now: number, intakeC: number, reason: string): Omit<PolicyDecision, 'policy' | 'container'> {
    for (const v of views) {
      const mem = this.memoryOf(v);
      markDown(mem, now);
      mem.sleptIntakeC = intakeC;
    }
    return { decision: 'sleep', reason, actions: [{ action: { kind: 'sleep' }, targets: views.map((v) => v.state.target), reason }] };
  }

  /** Wakes what the loop slept (longest asleep first), else raises what it lowered (coolest chips first). */
  private giveBack(
    views: MinerView[],
    active: MinerView[],
    s: TemperatureSettings,
    now: number,
    cause: string,
    ready: (v: MinerView) => boolean,
    /** In band (not cold), a miner slept for heat wakes only once intake is 2 × hysteresis cooler than when it was slept. */
    inBandIntakeC: number | undefined,
  ): Omit<PolicyDecision, 'policy' | 'container'> | undefined {
    const cooledSince = (v: MinerView): boolean => inBandIntakeC === undefined || v.mem?.sleptIntakeC === undefined || inBandIntakeC <= v.mem.sleptIntakeC - 2 * s.hysteresisC;
    // A miner's own hold-off since the loop last lowered it, doubling with each give-back that had to be taken back;
    // when cold, only for a miner whose give-back was taken back before (a first one is prompt).
    const heldOff = (v: MinerView): boolean => {
      const m = v.mem;
      const reversals = m?.reversals ?? 0;
      if (m?.lastDownMs === undefined || (inBandIntakeC === undefined && reversals === 0)) return false;
      return now - m.lastDownMs < RESTORE_HOLDOFF_DWELLS * s.dwell * 2 ** Math.min(reversals, 6);
    };
    const slept = views
      .filter((v) => v.sleeping && v.mem?.sleptAtMs !== undefined && ready(v) && cooledSince(v) && !heldOff(v))
      .sort((a, b) => (a.mem?.sleptAtMs ?? 0) - (b.mem?.sleptAtMs ?? 0));
    const wake = slept.slice(0, s.stepMiners);
    if (wake.length > 0) {
      for (const v of wake) markUp(this.memoryOf(v), now);
      const reason = `${cause}: waking ${wake.length} miner(s) the loop put to sleep`;
      return { decision: 'wake', reason, actions: [{ action: { kind: 'wake' } as MinerAction, targets: wake.map((v) => v.state.target), reason }] };
    }
    // Room: after the step its chips would still be 2 × hysteresis below the limit (by the step's measured effect),
    // so chip noise and a warming day do not take the raise back at once.
    const room = (v: MinerView): boolean => v.chipC === undefined || v.chipC + Math.max(MIN_STEP_EFFECT_C, v.mem?.effectC ?? DEFAULT_STEP_EFFECT_C) <= s.chipMaxC - 2 * s.hysteresisC;
    const raise = active
      .filter((v) => ready(v) && this.raise(v, s) !== undefined && room(v) && !heldOff(v))
      .sort((a, b) => (a.chipC ?? 0) - (b.chipC ?? 0))
      .slice(0, s.stepMiners);
    if (raise.length === 0) return undefined;
    const reason = `${cause}: raising ${raise.length} miner(s) back toward their power before the loop lowered it`;
    const actions: PolicyAction[] = raise.map((v) => {
      const to = this.raise(v, s) as PowerTarget;
      const from = v.current as PowerTarget;
      const mem = this.memoryOf(v);
      mem.pending = { direction: 'up', from };
      markUp(mem, now);
      return { action: { kind: 'power', target: to }, targets: [v.state.target], reason: `${reason}: ${v.id} ${describeTarget(from)} → ${describeTarget(to)} (before: ${describeTarget(mem.home as PowerTarget)})` };
    });
    return { decision: 'step-up', reason, actions, ...targetSum(raise, (v) => this.raise(v, s)) };
  }

  /** Miners the loop has slept or lowered and not given back. */
  private takenBack(views: MinerView[]): number {
    return views.filter((v) => v.mem !== undefined && (v.mem.sleptAtMs !== undefined || (v.mem.home !== undefined && v.current !== undefined && !sameTarget(v.current, v.mem.home)))).length;
  }

  /** The next lower power for this miner, or undefined at its floor (or when it has no power control). */
  private lower(v: MinerView, s: TemperatureSettings): PowerTarget | undefined {
    const power = v.caps.power;
    const current = v.current;
    if (!power || !current) return undefined;
    if (power.kind === 'modes') {
      if (!('mode' in current)) return undefined;
      const ladder = WORK_MODES.filter((m) => power.modes.includes(m));
      const i = ladder.indexOf(current.mode);
      return i > 0 ? { mode: ladder[i - 1] as WorkMode } : undefined;
    }
    if (!('watts' in current)) return undefined;
    const { floor, step } = wattRange(v, power, s);
    if (current.watts <= floor + 0.5 || step <= 0) return undefined;
    return { watts: Math.max(floor, Math.round(current.watts - step)) };
  }

  /** The next higher power toward where the loop found it, or undefined when it gave everything back. */
  private raise(v: MinerView, s: TemperatureSettings): PowerTarget | undefined {
    const power = v.caps.power;
    const current = v.current;
    const home = v.mem?.home;
    if (!power || !current || !home || sameTarget(current, home)) return undefined;
    if (power.kind === 'modes') {
      if (!('mode' in current) || !('mode' in home)) return undefined;
      const ladder = WORK_MODES.filter((m) => power.modes.includes(m));
      const i = ladder.indexOf(current.mode);
      return i >= 0 && i < ladder.indexOf(home.mode) ? { mode: ladder[i + 1] as WorkMode } : undefined;
    }
    if (!('watts' in current) || !('watts' in home) || current.watts >= home.watts) return undefined;
    const { step } = wattRange(v, power, s);
    return { watts: Math.min(home.watts, Math.round(current.watts + Math.max(1, step)), power.maxW) };
  }
}

function markDown(mem: MinerMemory, now: number): void {
  if (mem.lastDirection === 'up') mem.reversals = (mem.reversals ?? 0) + 1;
  mem.lastDirection = 'down';
  mem.lastDownMs = now;
  mem.lastChangeMs = now;
}

function markUp(mem: MinerMemory, now: number): void {
  mem.lastDirection = 'up';
  mem.lastChangeMs = now;
}

/** Once everything is given back, the miner's home and target are no longer the loop's business. */
function tidy(mem: MinerMemory): void {
  if (mem.home !== undefined && mem.set !== undefined && mem.pending === undefined && sameTarget(mem.set, mem.home)) {
    mem.home = undefined;
    mem.set = undefined;
    mem.floorW = undefined;
  }
}

/** The target the miner runs at: what it reports, else what the loop set, else its draw (watts) or `normal`. */
function currentTarget(targetW: number | undefined, workMode: string | undefined, powerW: number | undefined, caps: ControlCapabilities, mem: MinerMemory | undefined): PowerTarget | undefined {
  const power = caps.power;
  if (!power) return undefined;
  if (power.kind === 'modes') {
    const reported = WORK_MODES.find((m) => m === workMode);
    if (reported && power.modes.includes(reported)) return { mode: reported };
    if (mem?.set && 'mode' in mem.set) return mem.set;
    return power.modes.includes('normal') ? { mode: 'normal' } : undefined;
  }
  if (targetW !== undefined && Number.isFinite(targetW) && targetW > 0) return { watts: targetW };
  if (mem?.set && 'watts' in mem.set) return mem.set;
  return powerW !== undefined && Number.isFinite(powerW) && powerW > 0 ? { watts: Math.round(powerW) } : undefined;
}

/** A miner's floor and step in watts: the span from its target before the loop began down to half of it (or the firmware's minimum). */
function wattRange(v: MinerView, power: { minW: number; maxW: number }, s: TemperatureSettings): { floor: number; step: number } {
  const current = v.current && 'watts' in v.current ? v.current.watts : 0;
  const home = v.mem?.home && 'watts' in v.mem.home ? v.mem.home.watts : current;
  const top = Math.min(home, power.maxW);
  const floor = Math.min(top, Math.max(power.minW, Math.ceil(home * FLOOR_SHARE_OF_HOME), v.mem?.floorW ?? 0));
  return { floor, step: Math.round(s.powerStepShare * (top - floor)) };
}

function byChipDesc(a: MinerView, b: MinerView): number {
  return (b.chipC ?? -Infinity) - (a.chipC ?? -Infinity);
}

function totalPower(miners: readonly MinerState[]): number | undefined {
  let sum = 0;
  let any = false;
  for (const m of miners) {
    const w = m.sample?.powerW;
    if (w !== undefined && Number.isFinite(w) && w >= 0) {
      sum += w;
      any = true;
    }
  }
  return any ? Math.round(sum) : undefined;
}

/** The sum of the new watt targets (for Grafana), when every one is in watts. */
function targetSum(views: MinerView[], next: (v: MinerView) => PowerTarget | undefined): { targetW?: number } {
  let sum = 0;
  for (const v of views) {
    const t = next(v);
    if (!t || !('watts' in t)) return {};
    sum += t.watts;
  }
  return { targetW: sum };
}

function skippedNotes(skipped: Record<'optOut' | 'noWritePath' | 'noReading' | 'staffAsleep', number>): string[] {
  const notes: string[] = [];
  if (skipped.optOut > 0) notes.push(`${skipped.optOut} opted out`);
  if (skipped.noWritePath > 0) notes.push(`${skipped.noWritePath} without a write path`);
  if (skipped.noReading > 0) notes.push(`${skipped.noReading} without a fresh reading`);
  if (skipped.staffAsleep > 0) notes.push(`${skipped.staffAsleep} put to sleep by staff (left alone)`);
  return notes;
}

export function createTemperaturePolicy(settingsFor: (container: string) => TemperatureSettings, options: TemperaturePolicyOptions = {}): TemperaturePolicy {
  return new TemperaturePolicy(settingsFor, options);
}
