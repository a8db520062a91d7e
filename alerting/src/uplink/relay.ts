/**
 * The uplink relay: the center's only way of learning what an edge knows. Edges write `edge_heartbeat` and
 * `fault_state` points to InfluxDB (the one authenticated uplink); the lease holder runs this each cycle before
 * evaluation. It takes the newest complete snapshot per (site, container, source) and makes the active-fault hash
 * equal to it, keeps an EdgeStatus per edge (Redis hash `flymining:edges`) and judges silence on the center's clock.
 *
 * Level-based on purpose: every cycle compares Redis with the last applied snapshot and rewrites what differs, so an
 * outage of Redis (even one that loses its data), of InfluxDB or of the uplink converges within one cycle.
 */
import {
  REDIS_KEYS,
  edgeStatusKey,
  faultKey,
  faultFromStateRow,
  heartbeatFromRow,
  influxql,
  duration,
  type EdgeHeartbeat,
  type EdgeSource,
  type EdgeStatus,
  type RetiredEdge,
  type Fault,
  type FaultEvent,
  type InfluxStore,
  type Logger,
} from '@flymining/shared';
import type { Redis } from 'ioredis';
import type { EdgesConfig } from '../config';
import type { AlertingMetrics } from '../metrics';
import type { FaultEntry } from '../pipeline/evaluate';

/** A fault of the active-fault hash: its stored JSON (compared to decide writes) and the parsed object. */
export interface StoredFault extends FaultEntry {
  raw: string;
}

/** A new entry, its condition fields present from the start (added later they would cost each entry a copy). */
export function storedFault(raw: string, fault: Fault): StoredFault {
  return { raw, fault, rules: undefined, derived: undefined };
}

/** The active-fault hash as the cycle read it; the relay applies its writes to this copy too. */
export type ActiveFaults = Map<string, StoredFault>;

/** What the relay tells the cycle: every edge's status, for ContainerSilent and EdgeClockSkew. */
export interface RelayResult {
  statuses: EdgeStatus[];
}

/** The cycle's view of the relay: small, so a test or another transport can stand in for it. */
export interface FaultRelay {
  run(now: number, active: ActiveFaults): Promise<RelayResult>;
  /** Drops what this instance remembers: called when it (re)gains the lease, as another leader may have moved on. */
  forget(): void;
}

interface EdgeMemory {
  status: EdgeStatus;
  /** The applied snapshot (without stale marks); undefined when adopted from Redis and not read yet. */
  faults: Fault[] | undefined;
  /** A newer heartbeat whose snapshot was incomplete: when it was first seen, so it is counted once. */
  pending?: { time: number; seq: number; firstSeenMs: number };
  /** Center time the newest heartbeat (complete or not) was first seen: silence is judged on it. */
  heardAtMs?: number;
}

/** A returning edge whose backlog has not drained after this long is judged back anyway. */
const RETURN_GIVE_UP_MS = 15 * 60_000;

function parseRetired(raw: Record<string, string>): Map<string, RetiredEdge> {
  const out = new Map<string, RetiredEdge>();
  for (const [key, value] of Object.entries(raw)) {
    try {
      const r = JSON.parse(value) as RetiredEdge;
      if (typeof r.lastTimeMs === 'number') out.set(key, r);
    } catch {
      /* not ours: ignored */
    }
  }
  return out;
}

const sameHeartbeat = (a: EdgeHeartbeat, b: { time: number; seq: number }): boolean => a.time === b.time && a.seq === b.seq;

/** The part of Fault.source (`<edge>/<source>`) that names the exporter kind. */
function sourceKind(source: string | undefined): EdgeSource | undefined {
  // Anything else (no source, or an exporter name such as "C02" from before the edges) is a leftover of the old path.
  const kind = source?.slice(source.lastIndexOf('/') + 1);
  return source?.includes('/') && (kind === 'miner' || kind === 'climate') ? kind : undefined;
}

export class UplinkRelay implements FaultRelay {
  private readonly edges = new Map<string, EdgeMemory>();
  /** Heartbeats of edges not known yet whose snapshot was incomplete: when each was first seen. */
  private readonly pendingNew = new Map<string, { time: number; seq: number; firstSeenMs: number }>();
  private influxFailing = false;
  /** Center time the heartbeat query answered again after failing: silence is not judged on the time it could not read. */
  private readableSinceMs = 0;

  constructor(
    private readonly redis: Redis,
    private readonly influx: InfluxStore,
    private readonly config: EdgesConfig,
    private readonly metrics: AlertingMetrics,
    private readonly logger: Logger,
  ) {}

  forget(): void {
    this.edges.clear();
    this.pendingNew.clear();
  }

  async run(now: number, active: ActiveFaults): Promise<RelayResult> {
    const [stored, retiredRaw] = await Promise.all([this.redis.hgetall(REDIS_KEYS.edges), this.redis.hgetall(REDIS_KEYS.retiredEdges)]);
    const retired = parseRetired(retiredRaw);
    this.adoptStored(stored, retired);
    for (const [key, r] of retired) {
      const memory = this.edges.get(key);
      if (memory && memory.status.last.time <= r.lastTimeMs) this.edges.delete(key);
    }
    const heartbeats = await this.newestHeartbeats(now);
    let readAll = heartbeats !== undefined;
    for (const h of heartbeats ?? []) {
      // A retired edge's old heartbeats are history; one that reports again after retirement is taken back.
      const r = retired.get(edgeStatusKey(h.site, h.container, h.source));
      if (r && h.time <= r.lastTimeMs) continue;
      if (!(await this.accept(h, now))) readAll = false;
    }
    // Only what was read decides silence: an edge whose snapshot could not be read is not judged on that.
    if (readAll) this.judgeSilence(now);
    await this.converge(active, retired);
    await this.saveStatuses(stored);
    const statuses = [...this.edges.values()].map((e) => e.status);
    let silent = 0;
    for (const s of statuses) if (s.silentSinceMs !== undefined) silent += 1;
    this.metrics.edges.set({ state: 'silent' }, silent);
    this.metrics.edges.set({ state: 'reporting' }, statuses.length - silent);
    return { statuses };
  }

  /** Edges another leader knew (or this one before a restart): their status continues instead of starting over. */
  private adoptStored(stored: Record<string, string>, retired: ReadonlyMap<string, RetiredEdge>): void {
    for (const [key, value] of Object.entries(stored)) {
      if (this.edges.has(key) || retired.has(key)) continue;
      try {
        const status = JSON.parse(value) as EdgeStatus;
        if (status && typeof status.receivedAtMs === 'number' && status.last && typeof status.last.time === 'number') this.edges.set(key, { status, faults: undefined });
      } catch {
        /* a corrupt entry is rebuilt from the next heartbeat */
      }
    }
  }

  private async newestHeartbeats(now: number): Promise<EdgeHeartbeat[] | undefined> {
    const q = influxql`SELECT * FROM "edge_heartbeat" WHERE time > now() - ${duration(this.config.lookback)} GROUP BY "site", "container", "source" ORDER BY time DESC LIMIT 1`;
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await this.influx.queryRows(q);
    } catch (e) {
      this.metrics.uplinkQueryErrors.inc();
      if (!this.influxFailing) this.logger.error({ err: (e as Error).message }, 'uplink relay cannot read heartbeats from InfluxDB; faults and edge states are kept as they are, silence is not judged');
      this.influxFailing = true;
      return undefined;
    }
    if (this.influxFailing) {
      this.logger.warn('uplink relay reads InfluxDB again');
      this.influxFailing = false;
      this.readableSinceMs = now;
    }
    const out: EdgeHeartbeat[] = [];
    for (const row of rows) {
      const h = heartbeatFromRow(row);
      if (h) out.push(h);
      else {
        this.metrics.uplinkRowsRejected.inc({ measurement: 'edge_heartbeat' });
        this.logger.warn({ site: row.site, container: row.container, edge: row.edge, source: row.source }, 'edge_heartbeat row without its tags or seq; ignored');
      }
    }
    return out;
  }

  /**
   * A heartbeat newer than the applied one: its snapshot is read and, when complete, becomes the edge's truth.
   * False when the snapshot could not be read.
   */
  private async accept(h: EdgeHeartbeat, now: number): Promise<boolean> {
    const key = edgeStatusKey(h.site, h.container, h.source);
    const known = this.edges.get(key);
    const isApplied = known !== undefined && sameHeartbeat(known.status.last, h);
    if (isApplied && known.faults !== undefined) return true;
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await this.influx.queryRows(
        influxql`SELECT * FROM "fault_state" WHERE time = ${duration(h.time)} AND "site" = ${h.site} AND "container" = ${h.container} AND "source" = ${h.source} AND "edge" = ${h.edge} GROUP BY *`,
      );
    } catch (e) {
      this.metrics.uplinkQueryErrors.inc();
      this.logger.warn({ site: h.site, container: h.container, edge: h.edge, err: (e as Error).message }, 'cannot read a fault snapshot; next cycle');
      return false;
    }
    if (rows.length !== h.activeFaults) {
      // Its rows may still be on their way (or lost): the next cycle looks again, and a newer sweep supersedes it.
      const pending = known ? known.pending : this.pendingNew.get(key);
      if (!pending || !sameHeartbeat(h, pending)) {
        this.metrics.uplinkSnapshots.inc({ outcome: 'incomplete' });
        this.logger.info({ site: h.site, container: h.container, edge: h.edge, source: h.source, rows: rows.length, activeFaults: h.activeFaults }, 'incomplete fault snapshot; waiting');
        if (known) {
          known.pending = { time: h.time, seq: h.seq, firstSeenMs: now };
          known.heardAtMs = now; // the edge is alive even if this snapshot never completes
        }
        else this.pendingNew.set(key, { time: h.time, seq: h.seq, firstSeenMs: now });
      }
      return true;
    }
    const faults: Fault[] = [];
    for (const row of rows) {
      const fault = faultFromStateRow(row);
      // The query already names the container; a row claiming another place is not this edge's to report.
      if (fault && fault.location.site === h.site && fault.location.container === h.container) faults.push(fault);
      else {
        this.metrics.uplinkRowsRejected.inc({ measurement: 'fault_state' });
        this.logger.warn({ site: h.site, container: h.container, edge: h.edge, source: h.source, code: row.code, miner: row.miner }, 'fault_state row that is not a known fault; ignored');
      }
    }
    this.metrics.uplinkSnapshots.inc({ outcome: 'applied' });
    if (isApplied) {
      known.faults = faults; // adopted from Redis: same heartbeat, its status continues
      return true;
    }
    const firstSeenMs = (known?.pending && sameHeartbeat(h, known.pending) ? known.pending.firstSeenMs : this.pendingNew.get(key)?.firstSeenMs) ?? now;
    this.pendingNew.delete(key);
    const status: EdgeStatus = { site: h.site, container: h.container, source: h.source, edge: h.edge, last: h, receivedAtMs: firstSeenMs };
    const previous = known?.status;
    if (previous?.lastOutage) status.lastOutage = previous.lastOutage;
    if (previous?.silentSinceMs !== undefined) {
      const returning = previous.returning ?? { fromMs: previous.receivedAtMs, toMs: firstSeenMs, lastTimeBeforeGapMs: previous.last.time, sawBacklog: false };
      returning.sawBacklog ||= h.spoolLines > 0;
      if (!this.caughtUp(h, returning, now)) {
        // Still its backlog: silent (and its faults stale) until the center is current with this edge.
        if (!previous.returning) this.logger.info({ site: h.site, container: h.container, edge: h.edge, source: h.source, spoolLines: h.spoolLines }, 'edge reports again; replaying its backlog');
        status.silentSinceMs = previous.silentSinceMs;
        status.returning = returning;
      } else {
        status.lastOutage = { fromMs: returning.fromMs, toMs: returning.toMs, backfillPoints: await this.backfillPoints(h, returning.lastTimeBeforeGapMs) };
        this.logger.warn({ site: h.site, container: h.container, edge: h.edge, source: h.source, darkMs: returning.toMs - returning.fromMs, backfill: status.lastOutage.backfillPoints }, 'edge reports again and has caught up');
      }
    }
    // The receive time says something about the edge clock only for a heartbeat that follows a reporting one.
    const live = previous !== undefined && previous.silentSinceMs === undefined;
    const skew = this.skewOf(h, firstSeenMs, live);
    if (skew !== undefined) status.clockSkewMs = skew;
    this.edges.set(key, { status, faults });
    return true;
  }

  /**
   * A returning edge has caught up when its newest heartbeat is recent on the center clock (the edge's offset
   * applied), or, for an edge whose clock cannot be judged, when its spool is empty again after holding a backlog.
   * After RETURN_GIVE_UP_MS of replay the outage is closed anyway (an edge that never drains must not stay silent).
   */
  private caughtUp(h: EdgeHeartbeat, returning: NonNullable<EdgeStatus['returning']>, now: number): boolean {
    const centerTime = h.time + (h.clockOffsetMs ?? 0);
    if (now - centerTime <= this.config.silent_after_intervals * h.intervalMs) return true;
    if (returning.sawBacklog && h.spoolLines === 0) return true;
    return now - returning.toMs > RETURN_GIVE_UP_MS;
  }

  /** Points the edge had spooled when it came back: the largest spool any heartbeat since the gap reported. */
  private async backfillPoints(h: EdgeHeartbeat, afterMs: number): Promise<number> {
    try {
      const rows = await this.influx.queryRows(
        influxql`SELECT max("spool_lines") AS "lines" FROM "edge_heartbeat" WHERE time > ${duration(afterMs)} AND "site" = ${h.site} AND "container" = ${h.container} AND "source" = ${h.source}`,
      );
      const lines = rows[0]?.lines;
      return typeof lines === 'number' ? Math.max(lines, h.spoolLines) : h.spoolLines;
    } catch {
      return h.spoolLines;
    }
  }

  /** Edge minus center clock when beyond the tolerance: measured by the edge, or seen on a live (unspooled) heartbeat. */
  private skewOf(h: EdgeHeartbeat, receivedAtMs: number, live: boolean): number | undefined {
    const tolerance = this.config.clock_skew_tolerance;
    if (h.clockOffsetMs !== undefined && Math.abs(h.clockOffsetMs) > tolerance) return -h.clockOffsetMs;
    const seen = h.time - receivedAtMs;
    if (live && h.spoolLines === 0 && Math.abs(seen) > tolerance) return seen;
    return undefined;
  }

  private judgeSilence(now: number): void {
    for (const { status, heardAtMs } of this.edges.values()) {
      const heardAt = Math.max(status.receivedAtMs, heardAtMs ?? 0, this.readableSinceMs);
      const silent = now - heardAt > this.config.silent_after_intervals * status.last.intervalMs;
      if (silent && status.silentSinceMs === undefined) {
        status.silentSinceMs = now;
        this.logger.warn({ site: status.site, container: status.container, edge: status.edge, source: status.source, lastHeardMs: status.receivedAtMs }, 'edge silent');
      }
    }
  }

  /** Makes each edge's faults in the hash equal to its last snapshot (stale while the edge is silent). */
  private async converge(active: ActiveFaults, retired: ReadonlyMap<string, RetiredEdge> = new Map()): Promise<void> {
    const owned = new Map<string, string[]>();
    /** Faults without a source, by container: written by exporters before the edges existed (see below). */
    const legacy = new Map<string, string[]>();
    const add = (map: Map<string, string[]>, at: string, key: string): void => {
      const keys = map.get(at);
      if (keys) keys.push(key);
      else map.set(at, [key]);
    };
    for (const [key, { fault }] of active) {
      const kind = sourceKind(fault.source);
      if (kind === undefined) add(legacy, `${fault.location.site}/${fault.location.container}`, key);
      else add(owned, edgeStatusKey(fault.location.site, fault.location.container, kind), key);
    }
    const sets: Array<[string, StoredFault]> = [];
    const dels: string[] = [];
    const events: FaultEvent[] = [];
    const wanted = new Set<string>();
    /** Containers whose every known edge has its snapshot in memory: the relay speaks for all their faults. */
    const complete = new Map<string, boolean>();
    for (const memory of this.edges.values()) {
      const at = `${memory.status.site}/${memory.status.container}`;
      complete.set(at, (complete.get(at) ?? true) && memory.faults !== undefined);
    }
    for (const [edgeKey, memory] of this.edges) {
      if (memory.faults === undefined) continue;
      const { status } = memory;
      for (const f of memory.faults) {
        const fault: Fault = { ...f, source: `${status.edge}/${status.source}` };
        if (status.silentSinceMs !== undefined) fault.stale = { sinceMs: status.silentSinceMs, lastReportMs: status.receivedAtMs };
        const key = faultKey(fault);
        wanted.add(key);
        const raw = JSON.stringify(fault);
        const current = active.get(key);
        if (current?.raw === raw) continue;
        sets.push([key, storedFault(raw, fault)]);
        if (!current || current.fault.stale !== undefined || fault.stale !== undefined) events.push({ type: 'raised', fault, at: status.last.time, source: fault.source! });
      }
    }
    // Removals once every snapshot's faults are known: a fault that moved to another edge is rewritten, not lost.
    for (const [edgeKey, { status, faults }] of this.edges) {
      if (faults === undefined) continue;
      for (const key of owned.get(edgeKey) ?? []) {
        if (wanted.has(key)) continue;
        dels.push(key);
        events.push({ type: 'cleared', fault: active.get(key)!.fault, at: status.last.time, source: `${status.edge}/${status.source}` });
      }
    }
    // Faults of a retired edge that has not reported since: nobody will ever clear them.
    for (const key of retired.keys()) {
      if (this.edges.has(key)) continue;
      for (const faultKeyOfEdge of owned.get(key) ?? []) {
        dels.push(faultKeyOfEdge);
        events.push({ type: 'cleared', fault: active.get(faultKeyOfEdge)!.fault, at: Date.now(), source: 'uplink-relay' });
      }
    }
    // Exporters no longer write Redis: a source-less fault in a container the edges report for is a leftover of
    // the old direct path (nobody would ever clear it), unless a snapshot still holds it (then it was rewritten).
    for (const [at, keys] of legacy) {
      if (!complete.get(at)) continue;
      for (const key of keys) {
        if (wanted.has(key)) continue;
        dels.push(key);
        events.push({ type: 'cleared', fault: active.get(key)!.fault, at: Date.now(), source: 'uplink-relay' });
      }
    }
    if (sets.length === 0 && dels.length === 0) return;
    const tx = this.redis.multi();
    for (let i = 0; i < sets.length; i += 1000) tx.hset(REDIS_KEYS.activeFaults, ...sets.slice(i, i + 1000).flatMap(([k, v]) => [k, v.raw]));
    for (let i = 0; i < dels.length; i += 1000) tx.hdel(REDIS_KEYS.activeFaults, ...dels.slice(i, i + 1000));
    // Other readers of the hash (TV wall) wake on the channel; alerting itself has the hash already.
    for (const e of events.slice(0, 100)) tx.publish(REDIS_KEYS.faultChannel, JSON.stringify(e));
    await tx.exec();
    for (const [k, v] of sets) active.set(k, v);
    for (const k of dels) active.delete(k);
    this.metrics.uplinkFaultWrites.inc(sets.length + dels.length);
  }

  /** Writes statuses that differ from Redis (all of them after Redis lost its data). */
  private async saveStatuses(stored: Record<string, string>): Promise<void> {
    const args: string[] = [];
    for (const [key, { status }] of this.edges) {
      const raw = JSON.stringify(status);
      if (stored[key] !== raw) args.push(key, raw);
    }
    if (args.length > 0) await this.redis.hset(REDIS_KEYS.edges, ...args);
  }
}
