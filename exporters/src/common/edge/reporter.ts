/**
 * The edge side of the uplink contract (shared/src/edge.ts), used by the miner and the climate exporter alike.
 * After every sweep (miner) or evaluation (climate), for each container the exporter serves, one store write()
 * carries the `fault_state` rows of that container's active faults and, last, its `edge_heartbeat`, all at the
 * sweep's start time: the center takes a snapshot as complete when it finds `active_faults` rows at the
 * heartbeat's time. Nothing here talks to Redis.
 */
import {
  encodePoints,
  faultStatePoints,
  heartbeatPoint,
  type EdgeHeartbeat,
  type EdgeSource,
  type Fault,
  type Logger,
} from '@flymining/shared';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StoreCounters } from '../store-metrics';

/** What the reporter needs of the store (InfluxStore satisfies it). */
export interface EdgeStore {
  write(lines: string[]): void;
  stats(): StoreCounters;
}

/** One container's part of a sweep. */
export interface ContainerSnapshot {
  site: string;
  container: string;
  /** Miners (miner exporter) or sensors (climate exporter) of this container the edge watches. */
  watched: number;
  /** Of those, how many answered this sweep. */
  reachable: number;
  /** The container's active faults at the end of the sweep. */
  faults: readonly Fault[];
}

export interface EdgeReporterOptions {
  /** The edge's name (--name), e.g. edge-C02. */
  edge: string;
  source: EdgeSource;
  intervalMs: number;
  /** |center clock − edge clock| beyond this is reported (log once, /healthz, /metrics). */
  clockToleranceMs: number;
}

/** The heartbeat's uplink figures, as the store reports them. */
export function uplinkFigures(stats: StoreCounters): Pick<
  EdgeHeartbeat,
  'uplink' | 'uplinkError' | 'spoolLines' | 'spoolBytes' | 'spoolOldestMs' | 'pointsDropped' | 'clockOffsetMs'
> {
  return {
    uplink: stats.uplink,
    ...(stats.uplinkError === undefined ? {} : { uplinkError: stats.uplinkError }),
    spoolLines: stats.spoolLines,
    spoolBytes: stats.spoolBytes,
    spoolOldestMs: stats.spoolOldestMs,
    pointsDropped: stats.dropped,
    ...(stats.clockOffsetMs === undefined ? {} : { clockOffsetMs: stats.clockOffsetMs }),
  };
}

/**
 * Watches the center-minus-edge clock offset the store measures. Beyond the tolerance it logs once per episode (the
 * offset and the fix: NTP) and says so on /healthz and /metrics; the exporter keeps stamping with its own clock,
 * since each heartbeat carries the offset and the center pages EdgeClockSkew from it.
 */
export class ClockCheck {
  private offsetMs: number | undefined;
  private skewed = false;
  private readonly offsetGauge: Gauge;
  private readonly skewedGauge: Gauge;

  constructor(
    private readonly toleranceMs: number,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.offsetGauge = new Gauge({
      name: 'flymining_edge_clock_offset_seconds',
      help: 'Center clock minus this edge clock, as measured by the uplink (0 until measured)',
      registers: [registry],
    });
    this.skewedGauge = new Gauge({
      name: 'flymining_edge_clock_skewed',
      help: '1 while the edge clock is off the center clock by more than the tolerance (fix NTP on the edge)',
      registers: [registry],
    });
  }

  observe(offsetMs: number | undefined): void {
    if (offsetMs === undefined) return;
    this.offsetMs = offsetMs;
    this.offsetGauge.set(offsetMs / 1000);
    const wasSkewed = this.skewed;
    this.skewed = Math.abs(offsetMs) > this.toleranceMs;
    this.skewedGauge.set(this.skewed ? 1 : 0);
    if (this.skewed && !wasSkewed) {
      this.log.error({ clockOffsetMs: Math.round(offsetMs) }, this.problem() ?? '');
    } else if (!this.skewed && wasSkewed) {
      this.log.info({ clockOffsetMs: Math.round(offsetMs) }, `edge clock back within ${this.toleranceMs / 1000} s of the center`);
    }
  }

  /** The sentence for /healthz and the log, or undefined while the clock is fine. */
  problem(): string | undefined {
    if (!this.skewed || this.offsetMs === undefined) return undefined;
    const s = Math.round(Math.abs(this.offsetMs) / 1000);
    const direction = this.offsetMs > 0 ? 'behind' : 'ahead of';
    return (
      `edge clock is ${s} s ${direction} the center (tolerance ${this.toleranceMs / 1000} s): samples keep the edge's time ` +
      `and the heartbeats carry the offset; fix time sync on this edge (NTP: timedatectl set-ntp true, or chrony)`
    );
  }

  status(): { offsetMs: number | null; skewed: boolean } {
    return { offsetMs: this.offsetMs === undefined ? null : Math.round(this.offsetMs), skewed: this.skewed };
  }
}

export class EdgeReporter {
  readonly clock: ClockCheck;
  private seq = 0;
  private readonly heartbeats: Counter;

  constructor(
    private readonly store: EdgeStore,
    private readonly options: EdgeReporterOptions,
    log: Logger,
    registry: Registry,
  ) {
    this.clock = new ClockCheck(options.clockToleranceMs, log, registry);
    this.heartbeats = new Counter({
      name: 'flymining_edge_heartbeats_total',
      help: 'edge_heartbeat points written (one per served container per sweep)',
      registers: [registry],
    });
  }

  /** Writes one snapshot per container, all at `time` (the sweep's start); returns the sequence number used. */
  report(time: number, containers: readonly ContainerSnapshot[]): number {
    this.seq++;
    const uplink = uplinkFigures(this.store.stats());
    this.clock.observe(uplink.clockOffsetMs);
    const { edge, source, intervalMs } = this.options;
    for (const c of containers) {
      const rows = faultStatePoints(c.faults, edge, source, time);
      const heartbeat = heartbeatPoint({
        site: c.site,
        container: c.container,
        edge,
        source,
        time,
        seq: this.seq,
        intervalMs,
        miners: c.watched,
        reachable: c.reachable,
        activeFaults: rows.length,
        ...uplink,
      });
      // One write, heartbeat last: the store batches in order, so rows never trail their heartbeat.
      this.store.write(encodePoints([...rows, heartbeat]));
      this.heartbeats.inc();
    }
    return this.seq;
  }

  /** For /healthz. */
  status(): Record<string, unknown> {
    return { edge: this.options.edge, source: this.options.source, seq: this.seq, clock: this.clock.status() };
  }

  /** Reasons /healthz says degraded: the uplink not taking points (with the store's reason), the edge clock. */
  problems(): string[] {
    const out: string[] = [];
    const { uplink, uplinkError, spoolLines } = this.store.stats();
    if (uplink !== 'ok' && uplink !== 'starting') out.push(`uplink ${uplink}${uplinkError ? `: ${uplinkError}` : ''}; ${spoolLines} points wait in the spool`);
    const clock = this.clock.problem();
    if (clock) out.push(clock);
    return out;
  }
}
