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

export function isRecord(v: unknown): v is Record<string, unknown> {
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
  return decodeTasmotaDoc(parseJson(text), sensorKey);
}

export function decodeTasmotaDoc(parsed: unknown, sensorKey?: string): SensorValues {
  let doc = parsed;
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
  return decodeShellyDoc(parseJson(text), component);
}

export function decodeShellyDoc(doc: unknown, component = 0): SensorValues {
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

/** How to read a device's local wall-clock time (Tasmota `Time` has no zone): a fixed offset or an IANA zone. */
export interface DeviceZone {
  /** e.g. "+03:00", "-05:30", "Z". */
  utcOffset?: string;
  /** e.g. "Europe/Berlin" (daylight saving included). */
  timezone?: string;
}

const OFFSET = /^(?:Z|([+-])(\d{2}):?(\d{2}))$/;

/** Minutes east of UTC of "+03:00" / "-0530" / "Z"; undefined when it is not one. */
export function parseUtcOffset(text: string): number | undefined {
  const m = OFFSET.exec(text.trim());
  if (!m) return undefined;
  if (!m[1]) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return minutes > 14 * 60 ? undefined : m[1] === '-' ? -minutes : minutes;
}

/** Whether the runtime knows this IANA zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Offset of an IANA zone at an instant, in ms (local wall clock minus UTC). */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(utcMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(.*)$/;

/**
 * ms since the epoch of a Tasmota `Time`: "2026-11-24T20:00:00" is the device's local time (its `TimeZone` when the
 * payload carries one, else the sensor's utcOffset/timezone setting, else UTC); a time with its own offset
 * (SetOption52) or an epoch number is taken as it is. Undefined when absent or unreadable (then: arrival time).
 */
export function tasmotaTime(doc: unknown, zone: DeviceZone = {}): number | undefined {
  let d = doc;
  if (isRecord(d) && isRecord(d.StatusSNS)) d = d.StatusSNS;
  if (!isRecord(d)) return undefined;
  const time = d.Time;
  if (typeof time === 'number' && Number.isFinite(time)) return time > 1e12 ? time : time * 1000;
  if (typeof time !== 'string') return undefined;
  const m = LOCAL_TIME.exec(time.trim());
  if (!m) return undefined;
  const [, y, mo, day, h, mi, sec, frac, suffix = ''] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(day), Number(h), Number(mi), Number(sec), Number((frac ?? '0').padEnd(3, '0')));
  if (!Number.isFinite(wall)) return undefined;
  const own = suffix ? parseUtcOffset(suffix) : undefined;
  if (suffix && own === undefined) return undefined;
  const declared = d.TimeZone ?? d.Timezone;
  const deviceZone = typeof declared === 'string' ? parseUtcOffset(declared) : undefined;
  const minutes = own ?? deviceZone ?? (zone.utcOffset === undefined ? undefined : parseUtcOffset(zone.utcOffset));
  if (minutes !== undefined) return wall - minutes * 60_000;
  if (zone.timezone) {
    // The wall clock's offset is the zone's offset at the instant it names; a second look settles DST edges.
    const first = wall - zoneOffsetMs(wall, zone.timezone);
    return wall - zoneOffsetMs(first, zone.timezone);
  }
  return wall;
}

/** ms since the epoch of a Shelly Gen2 NotifyStatus/NotifyFullStatus (`params.ts`, epoch seconds); else undefined. */
export function shellyTime(doc: unknown): number | undefined {
  if (!isRecord(doc) || !isRecord(doc.params)) return undefined;
  const ts = doc.params.ts;
  return typeof ts === 'number' && Number.isFinite(ts) && ts > 0 ? Math.round(ts * 1000) : undefined;
}
