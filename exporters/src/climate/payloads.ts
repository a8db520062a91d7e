/**
 * JSON payload families of off-the-shelf sensors, shared by the MQTT and HTTP sources. Each decoder takes the raw
 * text and returns SI values or throws PayloadRejected naming what was wrong. Units are normalized here (°F → °C).
 */
import { PayloadRejected, type SensorValues } from './types';

export type PayloadFormat = 'tasmota' | 'shelly' | 'esphome' | 'json';
export type TemperatureUnit = 'C' | 'F';

export const fahrenheitToCelsius = (f: number): number => ((f - 32) * 5) / 9;

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PayloadRejected('not-json', `not JSON: ${JSON.stringify(text.slice(0, 40))}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A number, or a numeric string (ESPHome and some firmwares send "21.5"); anything else is wrong-type. */
function numeric(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  throw new PayloadRejected('wrong-type', `${field} is ${typeof value === 'string' ? JSON.stringify(value.slice(0, 20)) : typeof value}, not a number`);
}

const temperature = (v: number | undefined, unit: TemperatureUnit): number | undefined =>
  v === undefined ? undefined : unit === 'F' ? fahrenheitToCelsius(v) : v;

/**
 * Tasmota `tele/<topic>/SENSOR` (and the `StatusSNS` object of its HTTP `Status 10`): one object per attached
 * sensor (SHT3X, AM2301, BME280, DS18B20 ...) plus `TempUnit`; a power plug adds `ENERGY`.
 */
export function decodeTasmota(text: string, sensorKey?: string): SensorValues {
  let doc = parseJson(text);
  if (isRecord(doc) && isRecord(doc.StatusSNS)) doc = doc.StatusSNS;
  if (!isRecord(doc)) throw new PayloadRejected('wrong-type', 'Tasmota payload is not a JSON object');
  const unit: TemperatureUnit = doc.TempUnit === 'F' ? 'F' : 'C';
  const out: SensorValues = {};
  const candidates = sensorKey ? [sensorKey] : Object.keys(doc).filter((k) => k !== 'ENERGY' && isRecord(doc[k]));
  for (const key of candidates) {
    const s = doc[key];
    if (!isRecord(s) || !('Temperature' in s || 'Humidity' in s)) continue;
    out.temperatureC = temperature(numeric(s.Temperature, `${key}.Temperature`), unit);
    out.humidityPct = numeric(s.Humidity, `${key}.Humidity`);
    break;
  }
  if (isRecord(doc.ENERGY)) {
    out.powerW = numeric(doc.ENERGY.Power, 'ENERGY.Power');
    out.energyKwh = numeric(doc.ENERGY.Total, 'ENERGY.Total');
  }
  return out;
}

/**
 * Shelly Gen2: `NotifyStatus` on `<prefix>/events/rpc` ({method, params: {"temperature:0": {tC, tF}, ...}}) or the
 * HTTP `Shelly.GetStatus` object itself. Components: temperature:N, humidity:N, switch:N/pm1:N (apower),
 * em:N (total_act_power).
 */
export function decodeShelly(text: string, component = 0): SensorValues {
  const doc = parseJson(text);
  if (!isRecord(doc)) throw new PayloadRejected('wrong-type', 'Shelly payload is not a JSON object');
  let status: Record<string, unknown> = doc;
  if ('method' in doc) {
    // NotifyFullStatus carries the same params; NotifyEvent (button presses, ota) carries no readings.
    if (doc.method !== 'NotifyStatus' && doc.method !== 'NotifyFullStatus') return {};
    if (!isRecord(doc.params)) throw new PayloadRejected('wrong-type', 'Shelly NotifyStatus without params object');
    status = doc.params;
  }
  const part = (name: string): Record<string, unknown> | undefined => {
    const v = status[`${name}:${component}`];
    if (v === undefined) return undefined;
    if (!isRecord(v)) throw new PayloadRejected('wrong-type', `${name}:${component} is not an object`);
    return v;
  };
  const out: SensorValues = {};
  const t = part('temperature');
  if (t) out.temperatureC = numeric(t.tC, `temperature:${component}.tC`) ?? temperature(numeric(t.tF, `temperature:${component}.tF`), 'F');
  const h = part('humidity');
  if (h) out.humidityPct = numeric(h.rh, `humidity:${component}.rh`);
  const sw = part('switch') ?? part('pm1');
  if (sw) {
    out.powerW = numeric(sw.apower, 'apower');
    if (isRecord(sw.aenergy)) {
      const wh = numeric(sw.aenergy.total, 'aenergy.total');
      if (wh !== undefined) out.energyKwh = wh / 1000;
    }
  }
  const em = part('em');
  if (em) out.powerW = numeric(em.total_act_power, `em:${component}.total_act_power`);
  return out;
}

/** ESPHome state topics carry one bare value per topic ("21.5", or "nan" when the sensor failed). */
export function decodeEsphomeState(text: string, field: string): number {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'nan') throw new PayloadRejected('absurd-value', `${field} is nan (ESPHome reports a failed sensor so)`);
  const v = numeric(trimmed, field);
  if (v === undefined) throw new PayloadRejected('no-values', `${field} is empty`);
  return v;
}

/** Generic JSON: each quantity at a dot path, e.g. {"temperatureC": "data.intake.t"}; arrays by index ("a.0.t"). */
export function decodeJsonPaths(text: string, paths: Partial<Record<keyof SensorValues, string>>, unit: TemperatureUnit): SensorValues {
  const doc = parseJson(text);
  const out: SensorValues = {};
  for (const [quantity, path] of Object.entries(paths) as Array<[keyof SensorValues, string]>) {
    let v: unknown = doc;
    for (const step of path.split('.')) v = isRecord(v) ? v[step] : Array.isArray(v) ? v[Number(step)] : undefined;
    const n = numeric(v, path);
    out[quantity] = quantity === 'temperatureC' ? temperature(n, unit) : n;
  }
  return out;
}
