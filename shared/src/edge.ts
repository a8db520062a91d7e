/**
 * The uplink contract between an edge (one per container: miner and climate exporters, spool, local broker) and the
 * center. Everything crosses as InfluxDB points over the one authenticated write path:
 *
 *  - `edge_heartbeat`: one per container and source per sweep, at the sweep time (edge clock);
 *  - `fault_state`: every fault active at that moment, at exactly the heartbeat's time (level-based: re-asserted each
 *    sweep, so any outage of any hop converges as soon as one complete snapshot arrives);
 *  - `fault`: the transitions themselves, for history (in order, with their original timestamps).
 *
 * The center's relay (alerting/src/uplink) reads the newest complete snapshot per container and source and makes
 * Redis's active-fault hash equal to it; it keeps an EdgeStatus per edge in Redis for ContainerSilent, clock skew
 * and the TV wall. Nothing at the edge ever talks to Redis.
 */
import type { Fault, FaultCode, Location, Severity } from './faults';
import { FAULT_CODES } from './faults';
import { faultTags, type SchemaPoint } from './schema';

/** Which exporter of an edge: the miner exporter or the climate exporter. Each sends its own heartbeat. */
export type EdgeSource = 'miner' | 'climate';
export const EDGE_SOURCES: readonly EdgeSource[] = ['miner', 'climate'];

/** The uplink as the edge's store sees it. */
export type UplinkState = 'starting' | 'ok' | 'unreachable' | 'refused' | 'tls';

export interface EdgeHeartbeat {
  site: string;
  container: string;
  /** The edge's name (its --name, e.g. `edge-C02`). */
  edge: string;
  source: EdgeSource;
  /** Edge clock when the sweep started: the point's time. */
  time: number;
  seq: number;
  intervalMs: number;
  miners: number;
  reachable: number;
  activeFaults: number;
  spoolLines: number;
  spoolBytes: number;
  /** 0 when the spool is empty. */
  spoolOldestMs: number;
  pointsDropped: number;
  /** Center clock minus edge clock, when measured. */
  clockOffsetMs?: number;
  uplink: UplinkState;
  uplinkError?: string;
}

/** What the center keeps per edge (Redis hash REDIS_KEYS.edges, field edgeStatusKey()). */
export interface EdgeStatus {
  site: string;
  container: string;
  source: EdgeSource;
  edge: string;
  /** The newest heartbeat accepted (complete snapshot applied). */
  last: EdgeHeartbeat;
  /** Center clock when that heartbeat was first seen: silence is judged on this, never on the edge clock. */
  receivedAtMs: number;
  /** Center clock when the edge was judged silent; absent while it reports. */
  silentSinceMs?: number;
  /** The last outage, once over: how long the container was dark and what it backfilled. */
  lastOutage?: { fromMs: number; toMs: number; backfillPoints: number };
  /**
   * The edge reports again but its heartbeats are still its backlog (the spool replays oldest first): the container
   * stays silent until it has caught up, so the resolved notice can say what was backfilled.
   * fromMs/toMs: center clock of the last heartbeat before the gap and of the first after it.
   */
  returning?: { fromMs: number; toMs: number; lastTimeBeforeGapMs: number; sawBacklog: boolean };
  /** Edge clock minus center clock beyond the tolerance: reported, and paged as EdgeClockSkew. */
  clockSkewMs?: number;
}

/** An edge staff took out of service: its heartbeats up to lastTimeMs (edge clock) are history, not a silent container. */
export interface RetiredEdge {
  atMs: number;
  lastTimeMs: number;
  by?: string;
}

export function edgeStatusKey(site: string, container: string, source: EdgeSource): string {
  return `${site}/${container}/${source}`;
}

/** A heartbeat as an InfluxDB point. */
export function heartbeatPoint(h: EdgeHeartbeat): SchemaPoint<'edge_heartbeat'> {
  return {
    measurement: 'edge_heartbeat',
    tags: { site: h.site, container: h.container, edge: h.edge, source: h.source },
    fields: {
      seq: h.seq,
      interval_ms: h.intervalMs,
      miners: h.miners,
      reachable: h.reachable,
      active_faults: h.activeFaults,
      spool_lines: h.spoolLines,
      spool_bytes: h.spoolBytes,
      spool_oldest_ms: h.spoolOldestMs,
      points_dropped: h.pointsDropped,
      clock_offset_ms: h.clockOffsetMs === undefined ? undefined : Math.round(h.clockOffsetMs),
      uplink: h.uplink,
      uplink_error: h.uplinkError,
    },
    time: h.time,
  };
}

/** The snapshot rows of one heartbeat: each active fault at the heartbeat's time. */
export function faultStatePoints(faults: readonly Fault[], edge: string, source: EdgeSource, time: number): Array<SchemaPoint<'fault_state'>> {
  return faults.map((f) => {
    return {
      measurement: 'fault_state',
      tags: {
        ...faultTags(f),
        source,
        edge,
      },
      fields: { since_ms: f.since, message: f.message, details: f.details ? JSON.stringify(f.details) : undefined },
      time,
    };
  });
}

type Row = Record<string, unknown>;

function str(row: Row, key: string): string | undefined {
  const v = row[key];
  return typeof v === 'string' ? v : undefined;
}
function num(row: Row, key: string): number | undefined {
  const v = row[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const UPLINK_STATES: readonly UplinkState[] = ['starting', 'ok', 'unreachable', 'refused', 'tls'];

/** A heartbeat from an InfluxQL row (tags merged in, `time` in ms); undefined when it is not one. */
export function heartbeatFromRow(row: Row): EdgeHeartbeat | undefined {
  const site = str(row, 'site');
  const container = str(row, 'container');
  const edge = str(row, 'edge');
  const source = str(row, 'source');
  const time = num(row, 'time');
  const seq = num(row, 'seq');
  if (!site || !container || !edge || time === undefined || seq === undefined) return undefined;
  if (source !== 'miner' && source !== 'climate') return undefined;
  const uplink = str(row, 'uplink');
  return {
    site,
    container,
    edge,
    source,
    time,
    seq,
    intervalMs: num(row, 'interval_ms') ?? 30_000,
    miners: num(row, 'miners') ?? 0,
    reachable: num(row, 'reachable') ?? 0,
    activeFaults: num(row, 'active_faults') ?? 0,
    spoolLines: num(row, 'spool_lines') ?? 0,
    spoolBytes: num(row, 'spool_bytes') ?? 0,
    spoolOldestMs: num(row, 'spool_oldest_ms') ?? 0,
    pointsDropped: num(row, 'points_dropped') ?? 0,
    clockOffsetMs: num(row, 'clock_offset_ms'),
    uplink: UPLINK_STATES.includes(uplink as UplinkState) ? (uplink as UplinkState) : 'ok',
    uplinkError: str(row, 'uplink_error'),
  };
}

/** A fault from a fault_state row; undefined for a row that is not a known fault (counted by the caller). */
export function faultFromStateRow(row: Row): (Fault & { source: string }) | undefined {
  const code = str(row, 'code');
  const minerId = str(row, 'miner');
  const since = num(row, 'since_ms');
  if (!code || !(code in FAULT_CODES) || !minerId || since === undefined) return undefined;
  const location: Location = {
    site: str(row, 'site') ?? '',
    container: str(row, 'container') ?? '',
    rack: str(row, 'rack') ?? '-',
    shelf: str(row, 'shelf') ?? '-',
    slot: str(row, 'slot') ?? '-',
  };
  const part = str(row, 'part');
  let details: Record<string, number | string> | undefined;
  const rawDetails = str(row, 'details');
  if (rawDetails) {
    try {
      const parsed: unknown = JSON.parse(rawDetails);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        details = {};
        for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
          if (typeof v === 'number' || typeof v === 'string') details[k] = v;
        }
      }
    } catch {
      /* details are decoration: a bad one is left out, the fault stays */
    }
  }
  const severity = str(row, 'severity');
  return {
    code: code as FaultCode,
    severity: severity === 'critical' || severity === 'warning' || severity === 'info' ? (severity as Severity) : FAULT_CODES[code as FaultCode].severity,
    minerId,
    location,
    part: part === 'miner' || part === undefined ? '' : part,
    message: str(row, 'message') ?? '',
    since,
    details,
    source: `${str(row, 'edge') ?? '?'}/${str(row, 'source') ?? '?'}`,
  };
}
