/**
 * Query rows → miner readings. A row is one series' values with its tags merged in, which is what both Grafana's
 * InfluxQL data frames (see frames.ts) and the storage layer's queryRows give. The same mapping feeds the Grafana
 * panel and the TV wall, so both show one farm the same way.
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
  const climates = new Map<string, ContainerClimate>();
  const heartbeats: ContainerHeartbeat[] = [];
  for (const row of rows) {
    const minerId = text(row.miner);
    const container = text(row.container);
    if (minerId && LOCATION.every((tag) => text(row[tag]) !== undefined)) {
      // Climate faults carry rack/shelf/slot '-' and name a container or sensor: they are not slots.
      if (row.slot === '-') continue;
      mergeMinerRow(getReading(byMiner, row, minerId), row);
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

function mergeMinerRow(reading: MinerReading, row: QueryRow): void {
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
  const reachable = num(row.reachable);
  if (reachable !== undefined) {
    reading.reachable = reachable >= 0.5;
    // Only a single-selector row (last(reachable)) carries the point's own time; multi-field rows carry the
    // start of the query window, which would make every miner look stale.
    const time = num(row.time);
    if (time !== undefined && time > (reading.time ?? 0)) reading.time = time;
  }
  setNumber(reading, 'tempMaxC', row.temp_max_c);
  setNumber(reading, 'hashrateThs', row.hashrate_ths);
  setNumber(reading, 'nominalThs', row.nominal_ths);
  setNumber(reading, 'fanMinRpm', row.fan_min_rpm);
  setNumber(reading, 'powerW', row.power_w);
  const mode = text(row.mode);
  if (mode) reading.mode = mode;
  const model = text(row.model);
  if (model) reading.model = model;
}

type NumericKey = 'tempMaxC' | 'hashrateThs' | 'nominalThs' | 'fanMinRpm' | 'powerW';
function setNumber(reading: MinerReading, key: NumericKey, value: unknown): void {
  const n = num(value);
  if (n !== undefined) reading[key] = n;
}
