/**
 * Query rows → miner readings. A row is one point (a raw select, tags as columns) or one series' values with its
 * tags merged in, which is what both Grafana's InfluxQL data frames (see frames.ts) and the storage layer's
 * queryRows give. A miner has several raw rows (every sweep of the window): each value is taken from the newest row
 * that has it, as last() per field would. The same mapping feeds the Grafana panel and the TV wall, so both show one
 * farm the same way.
 */
import { heartbeatFromRow } from '../../shared/src/edge';
import type { ActiveFault, ContainerClimate, ContainerHeartbeat, FaultSeverity, MinerReading } from './types';

export type QueryRow = Readonly<Record<string, unknown>>;

const LOCATION = ['site', 'container', 'rack', 'shelf', 'slot', 'miner'] as const;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const SEVERITIES: ReadonlySet<string> = new Set(['critical', 'warning', 'info']);

export interface FarmReadings {
  readings: MinerReading[];
  climates: ContainerClimate[];
  /** Newest edge heartbeat per container and edge; empty on a farm without edges. */
  heartbeats: ContainerHeartbeat[];
}

export function readingsFromRows(rows: Iterable<QueryRow>): FarmReadings {
  const byMiner = new Map<string, MinerReading>();
  const valueTimes = new Map<MinerReading, ValueTimes>();
  const climates = new Map<string, ContainerClimate>();
  const heartbeats: ContainerHeartbeat[] = [];
  for (const row of rows) {
    const minerId = text(row.miner);
    const container = text(row.container);
    if (minerId && LOCATION.every((tag) => text(row[tag]) !== undefined)) {
      // Climate faults carry rack/shelf/slot '-' and name a container or sensor: they are not slots.
      if (row.slot === '-') continue;
      const reading = getReading(byMiner, row, minerId);
      let times = valueTimes.get(reading);
      if (!times) valueTimes.set(reading, (times = {}));
      mergeMinerRow(reading, row, times);
    } else if (container && (num(row.intake_c) !== undefined || num(row.exhaust_c) !== undefined)) {
      const climate: ContainerClimate = { container };
      const intake = num(row.intake_c);
      const exhaust = num(row.exhaust_c);
      if (intake !== undefined) climate.intakeC = intake;
      if (exhaust !== undefined) climate.exhaustC = exhaust;
      climates.set(container, climate);
    } else if (row.edge !== undefined) {
      const h = heartbeatFromRow(row);
      if (h?.source === 'miner') {
        const heartbeat: ContainerHeartbeat = { site: h.site, container: h.container, edge: h.edge, time: h.time, intervalMs: h.intervalMs };
        if (h.clockOffsetMs !== undefined) heartbeat.clockOffsetMs = h.clockOffsetMs;
        heartbeats.push(heartbeat);
      }
    }
  }
  return { readings: [...byMiner.values()], climates: [...climates.values()], heartbeats };
}

function getReading(byMiner: Map<string, MinerReading>, row: QueryRow, miner: string): MinerReading {
  let reading = byMiner.get(miner);
  if (!reading) {
    reading = {
      site: row.site as string,
      container: row.container as string,
      rack: row.rack as string,
      shelf: row.shelf as string,
      slot: row.slot as string,
      miner,
      faults: [],
    };
    byMiner.set(miner, reading);
  }
  return reading;
}

/** The time of the row each value of a reading was taken from. */
type ValueTimes = Partial<Record<NumericKey | 'mode' | 'model', number>>;

/** Whether a row of `time` is at least as new as the one `key` was taken from (and records it if so). */
function newer(times: ValueTimes, key: keyof ValueTimes, time: number): boolean {
  const taken = times[key];
  if (taken !== undefined && taken > time) return false;
  times[key] = time;
  return true;
}

function mergeMinerRow(reading: MinerReading, row: QueryRow, times: ValueTimes): void {
  const code = text(row.code);
  if (code !== undefined) {
    // A fault row is the fault's last transition: it is active when that transition raised it.
    if (num(row.active) === 1) {
      const severity = text(row.severity);
      const fault: ActiveFault = {
        code,
        severity: severity && SEVERITIES.has(severity) ? (severity as FaultSeverity) : 'warning',
        part: text(row.part) ?? 'miner',
      };
      const message = text(row.message);
      if (message) fault.message = message;
      const since = num(row.since_ms);
      if (since !== undefined) fault.since = since;
      if (!reading.faults.some((f) => f.code === fault.code && f.part === fault.part)) reading.faults.push(fault);
    }
    return;
  }
  // Rows without a time (none of the rack map's queries) count as the oldest.
  const time = num(row.time) ?? -Infinity;
  const reachable = num(row.reachable);
  // The newest scrape attempt decides reachable, and its time stale. Only scrape rows set the time: a row of
  // several last() selectors carries the start of the query window, which would make every miner look stale.
  if (reachable !== undefined && time >= (reading.time ?? -Infinity)) {
    reading.reachable = reachable >= 0.5;
    if (time !== -Infinity) reading.time = time;
  }
  setNumber(reading, times, time, 'tempMaxC', row.temp_max_c);
  setNumber(reading, times, time, 'hashrateThs', row.hashrate_ths);
  setNumber(reading, times, time, 'nominalThs', row.nominal_ths);
  setNumber(reading, times, time, 'fanMinRpm', row.fan_min_rpm);
  setNumber(reading, times, time, 'powerW', row.power_w);
  const mode = text(row.mode);
  if (mode && newer(times, 'mode', time)) reading.mode = mode;
  const model = text(row.model);
  if (model && newer(times, 'model', time)) reading.model = model;
}

type NumericKey = 'tempMaxC' | 'hashrateThs' | 'nominalThs' | 'fanMinRpm' | 'powerW';
function setNumber(reading: MinerReading, times: ValueTimes, time: number, key: NumericKey, value: unknown): void {
  const n = num(value);
  if (n !== undefined && newer(times, key, time)) reading[key] = n;
}
