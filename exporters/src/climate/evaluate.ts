/**
 * Per-container judgement from the latest readings: derived figures (delta-T, dew point, condensation margin,
 * airflow, heat share, damper advice) and the faults they imply. Pure: state in, figures and faults out.
 */
import type { Fault, FaultCode, Location } from '@flymining/shared';
import { FAULT_CODES } from '@flymining/shared';
import type { ContainersClimate } from '../common/edge/state-file';
import { airflowM3h, dewPointC, recirculationAdvicePct } from './psychrometrics';
import { DEFAULT_LIMITS, type ConfiguredSensor, type SensorLimits } from './settings';
import type { SensorValues } from './types';

export interface SensorState {
  sensor: ConfiguredSensor;
  values: SensorValues;
  /** ms when the last accepted reading arrived (start time until the first one): freshness. */
  lastSeen: number;
  /** ms the newest applied reading was measured at (its device stamp, else arrival). */
  readingAt?: number;
  /** Since when measured and commanded damper disagree (undefined when they agree). */
  disagreeSince?: number;
}

export interface ContainerFigures {
  intake_c?: number;
  exhaust_c?: number;
  outside_c?: number;
  delta_t_c?: number;
  intake_humidity_pct?: number;
  intake_dew_point_c?: number;
  condensation_margin_c?: number;
  miners_power_w?: number;
  metered_power_w?: number;
  heat_share?: number;
  airflow_m3h?: number;
  damper_pct?: number;
  damper_advice_pct?: number;
  sensors_stale: number;
}

export type Wanted = Omit<Fault, 'severity' | 'since' | 'location'>;

const round = (v: number | undefined, digits = 2): number | undefined => (v === undefined ? undefined : Math.round(v * 10 ** digits) / 10 ** digits);

export function containerLocation(site: string, container: string): Location {
  return { site, container, rack: '-', shelf: '-', slot: '-' };
}

/** First fresh value of a quantity among the container's sensors at a position. */
function pick(states: readonly SensorState[], position: string, q: keyof SensorValues, fresh: (s: SensorState) => boolean): { value: number; state: SensorState } | undefined {
  for (const s of states) {
    const v = s.values[q];
    if (s.sensor.position === position && v !== undefined && fresh(s)) return { value: v, state: s };
  }
  return undefined;
}

export function evaluateContainer(
  container: string,
  states: readonly SensorState[],
  minersPowerW: number | undefined,
  now: number,
): { figures: ContainerFigures; faults: Wanted[] } {
  const faults: Wanted[] = [];
  const staleAfter = (s: SensorState): number => (s.sensor.settings.staleAfterS ?? DEFAULT_LIMITS.staleAfterS) * 1000;
  const fresh = (s: SensorState): boolean => now - s.lastSeen <= staleAfter(s);
  let stale = 0;
  for (const s of states) {
    if (fresh(s)) continue;
    stale++;
    const silentS = Math.round((now - s.lastSeen) / 1000);
    faults.push({
      code: 'CLIMATE_SENSOR_STALE',
      minerId: s.sensor.id,
      part: s.sensor.id,
      message: `container ${container}: ${s.sensor.position} sensor ${s.sensor.id} (${s.sensor.protocol}) sent no valid reading for ${silentS} s`,
      details: { silentS, position: s.sensor.position },
    });
  }

  const intake = pick(states, 'intake', 'temperatureC', fresh);
  const intakeRh = pick(states, 'intake', 'humidityPct', fresh);
  const exhaust = pick(states, 'exhaust', 'temperatureC', fresh);
  const outside = pick(states, 'outside', 'temperatureC', fresh);
  const outsideRh = pick(states, 'outside', 'humidityPct', fresh);
  const damper = pick(states, 'damper', 'damperPct', fresh);
  const metered = pick(states, 'power', 'powerW', fresh);
  const limits: SensorLimits = intake?.state.sensor.settings ?? {};
  const minC = limits.minC ?? DEFAULT_LIMITS.minC;
  const maxC = limits.maxC ?? DEFAULT_LIMITS.maxC;
  const margin = limits.condensationMarginC ?? DEFAULT_LIMITS.condensationMarginC;

  const f: ContainerFigures = { sensors_stale: stale, miners_power_w: minersPowerW, metered_power_w: metered?.value, damper_pct: damper?.value };
  f.intake_c = intake?.value;
  f.exhaust_c = exhaust?.value;
  f.outside_c = outside?.value;
  f.intake_humidity_pct = intakeRh?.value;
  if (intake && exhaust) f.delta_t_c = round(exhaust.value - intake.value);
  if (intake && intakeRh) {
    f.intake_dew_point_c = round(dewPointC(intake.value, intakeRh.value));
    f.condensation_margin_c = round(intake.value - (f.intake_dew_point_c as number));
  }
  if (minersPowerW !== undefined && metered && metered.value > 0) f.heat_share = round(minersPowerW / metered.value, 3);
  if (minersPowerW !== undefined && f.delta_t_c !== undefined) f.airflow_m3h = round(airflowM3h(minersPowerW, f.delta_t_c), 0);
  // Recirculation adds no water: the intake's dew point is the outside one, when the outside sensor has humidity.
  const dew = outside && outsideRh ? dewPointC(outside.value, outsideRh.value) : f.intake_dew_point_c;
  if (outside && f.delta_t_c !== undefined) {
    f.damper_advice_pct = recirculationAdvicePct({ outsideC: outside.value, riseC: f.delta_t_c, dewPointC: dew, minC, maxC, condensationMarginC: margin });
  }

  const advice = f.damper_advice_pct === undefined ? '' : `; advised damper opening ${f.damper_advice_pct} %`;
  if (intake && intake.value > maxC) {
    faults.push({ code: 'INTAKE_TOO_HOT', minerId: container, part: 'intake', message: `container ${container}: intake ${intake.value.toFixed(1)} °C is above ${maxC} °C${advice}`, details: { intakeC: intake.value, maxC } });
  }
  if (intake && intake.value < minC) {
    faults.push({ code: 'INTAKE_TOO_COLD', minerId: container, part: 'intake', message: `container ${container}: intake ${intake.value.toFixed(1)} °C is below ${minC} °C${advice}`, details: { intakeC: intake.value, minC } });
  }
  if (f.condensation_margin_c !== undefined && f.condensation_margin_c < margin) {
    faults.push({
      code: 'CONDENSATION_RISK',
      minerId: container,
      part: 'intake',
      message: `container ${container}: intake ${f.intake_c} °C is only ${f.condensation_margin_c} °C above its dew point ${f.intake_dew_point_c} °C (need ${margin})${advice}`,
      details: { marginC: f.condensation_margin_c, dewPointC: f.intake_dew_point_c as number },
    });
  }
  for (const s of states) {
    if (s.sensor.position === 'exhaust' && fresh(s) && s.values.temperatureC !== undefined) {
      const limit = s.sensor.settings.maxC ?? DEFAULT_LIMITS.exhaustMaxC;
      if (s.values.temperatureC > limit) {
        faults.push({ code: 'EXHAUST_TOO_HOT', minerId: container, part: s.sensor.id, message: `container ${container}: exhaust ${s.values.temperatureC.toFixed(1)} °C at ${s.sensor.id} is above ${limit} °C`, details: { exhaustC: s.values.temperatureC, maxC: limit } });
      }
    }
    const cmd = s.values.damperCommandPct;
    const measured = s.values.damperPct;
    if (cmd === undefined || measured === undefined || !fresh(s)) {
      s.disagreeSince = undefined;
      continue;
    }
    const tolerance = s.sensor.settings.tolerancePct ?? DEFAULT_LIMITS.tolerancePct;
    if (Math.abs(cmd - measured) <= tolerance) {
      s.disagreeSince = undefined;
      continue;
    }
    s.disagreeSince ??= now;
    const stuckAfter = (s.sensor.settings.stuckAfterS ?? DEFAULT_LIMITS.stuckAfterS) * 1000;
    if (now - s.disagreeSince >= stuckAfter) {
      faults.push({
        code: 'DAMPER_STUCK',
        minerId: s.sensor.id,
        part: s.sensor.id,
        message: `container ${container}: damper ${s.sensor.id} reads ${measured.toFixed(0)} % but was commanded ${cmd.toFixed(0)} % for ${Math.round((now - s.disagreeSince) / 1000)} s`,
        details: { measuredPct: measured, commandPct: cmd },
      });
    }
  }
  return { figures: f, faults };
}

/** Keeps active climate faults and turns each evaluation's wanted set into raised/cleared transitions. */
const bookKey = (container: string, f: Pick<Fault, 'minerId' | 'code' | 'part'>): string => `${container}|${f.minerId}|${f.code}|${f.part}`;

export class ClimateFaultBook {
  private readonly active = new Map<string, Fault>();

  /** Puts back faults saved before a restart, with their `since`; announces nothing. */
  restore(faults: readonly Fault[]): void {
    for (const f of faults) this.active.set(bookKey(f.location.container, f), { ...f });
  }

  update(site: string, container: string, wanted: readonly Wanted[], now: number): Array<{ type: 'raised' | 'cleared'; fault: Fault }> {
    const out: Array<{ type: 'raised' | 'cleared'; fault: Fault }> = [];
    const keys = new Set<string>();
    for (const w of wanted) {
      const key = bookKey(container, w);
      keys.add(key);
      const existing = this.active.get(key);
      if (existing) {
        existing.message = w.message;
        existing.details = w.details;
        continue;
      }
      const fault: Fault = { ...w, severity: FAULT_CODES[w.code as FaultCode].severity, since: now, location: containerLocation(site, container) };
      this.active.set(key, fault);
      out.push({ type: 'raised', fault });
    }
    for (const [key, fault] of this.active) {
      if (fault.location.container !== container || keys.has(key)) continue;
      this.active.delete(key);
      out.push({ type: 'cleared', fault });
    }
    return out;
  }

  all(): Fault[] {
    return [...this.active.values()];
  }
}

/** The newest value of a quantity at a position, fresh or not, with the time it arrived. */
function newest(states: readonly SensorState[], position: string, q: keyof SensorValues): { value: number; state: SensorState } | undefined {
  let best: { value: number; state: SensorState } | undefined;
  for (const s of states) {
    const v = s.values[q];
    if (s.sensor.position === position && v !== undefined && (!best || s.lastSeen > best.state.lastSeen)) best = { value: v, state: s };
  }
  return best;
}

/**
 * A container's newest readings for the temperature loop (container-climate.json), each with its arrival time and
 * whether fresh or not: the loop judges staleness by its own settings.
 */
export function newestReadings(container: string, states: readonly SensorState[], now: number): ContainersClimate['containers'][string] {
  const out: ContainersClimate['containers'][string] = { container, writtenMs: now };
  const intake = newest(states, 'intake', 'temperatureC');
  const exhaust = newest(states, 'exhaust', 'temperatureC');
  const outside = newest(states, 'outside', 'temperatureC');
  const damper = newest(states, 'damper', 'damperPct');
  if (intake) Object.assign(out, { intakeC: intake.value, intakeAtMs: intake.state.lastSeen });
  if (exhaust) Object.assign(out, { exhaustC: exhaust.value, exhaustAtMs: exhaust.state.lastSeen });
  if (outside) Object.assign(out, { outsideC: outside.value, outsideAtMs: outside.state.lastSeen });
  if (damper) Object.assign(out, { damperPercent: damper.value, damperAtMs: damper.state.lastSeen });
  // The margin from one intake sensor that reports both temperature and humidity (the newest such).
  const humid = states.filter((s) => s.sensor.position === 'intake' && s.values.temperatureC !== undefined && s.values.humidityPct !== undefined);
  const h = humid.sort((a, b) => b.lastSeen - a.lastSeen)[0];
  if (h) {
    const t = h.values.temperatureC as number;
    out.dewPointMarginC = round(t - dewPointC(t, h.values.humidityPct as number));
    out.dewPointAtMs = h.lastSeen;
  }
  return out;
}
