/**
 * A stand-in for one container's edge as the center sees it: heartbeat and fault_state points written to the real
 * InfluxDB with the shared contract's own builders (heartbeatPoint, faultStatePoints), as the exporters write them.
 */
import {
  encodePoints,
  faultStatePoints,
  heartbeatPoint,
  type EdgeHeartbeat,
  type EdgeSource,
  type Fault,
  type FaultCode,
  type InfluxStore,
  type SchemaPoint,
} from '@flymining/shared';

export function minerFault(site: string, container: string, slot: number, code: FaultCode = 'FAN_STOPPED', since = Date.now()): Fault {
  const minerId = `${container}-R1-S1-${slot}`;
  return {
    code,
    severity: 'critical',
    minerId,
    location: { site, container, rack: 'R1', shelf: 'S1', slot: String(slot) },
    part: code === 'FAN_STOPPED' ? 'fan 1' : '',
    message: `${code} on ${minerId}`,
    since,
  };
}

export interface ReportOptions {
  time?: number;
  spoolLines?: number;
  clockOffsetMs?: number;
  /** Announce this many fault rows instead of the number written (an incomplete snapshot). */
  activeFaults?: number;
  /** Rows written with the snapshot besides the faults' own (e.g. a row naming another container). */
  extraRows?: Array<SchemaPoint<'fault_state'>>;
  /** Leave the fault rows out (they are "still on their way"). */
  withoutRows?: boolean;
}

export class TestEdge {
  seq = 0;
  faults: Fault[] = [];
  /** spool_lines of the next heartbeat only (what the edge had spooled when its uplink came back). */
  nextSpoolLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<unknown> = Promise.resolve();
  /** Center-side times of the heartbeats written by beat(). */
  readonly written: number[] = [];

  constructor(
    private readonly store: InfluxStore,
    readonly site: string,
    readonly container: string,
    readonly source: EdgeSource = 'miner',
    readonly intervalMs = 1000,
    readonly name = `edge-${container}`,
  ) {}

  heartbeat(time: number, activeFaults: number, options: ReportOptions = {}): EdgeHeartbeat {
    this.seq += 1;
    return {
      site: this.site,
      container: this.container,
      edge: this.name,
      source: this.source,
      time,
      seq: this.seq,
      intervalMs: this.intervalMs,
      miners: 10,
      reachable: 10,
      activeFaults,
      spoolLines: options.spoolLines ?? 0,
      spoolBytes: (options.spoolLines ?? 0) * 120,
      spoolOldestMs: 0,
      pointsDropped: 0,
      clockOffsetMs: options.clockOffsetMs,
      uplink: 'ok',
    };
  }

  /** One sweep: the heartbeat and its snapshot at the same time, written and flushed. */
  async report(faults: readonly Fault[] = this.faults, options: ReportOptions = {}): Promise<EdgeHeartbeat> {
    const time = options.time ?? Date.now();
    const rows = [...(options.withoutRows ? [] : faultStatePoints(faults, this.name, this.source, time)), ...(options.extraRows ?? [])];
    const h = this.heartbeat(time, options.activeFaults ?? faults.length, options);
    this.store.write(encodePoints([heartbeatPoint(h), ...rows]));
    await this.store.flush();
    return h;
  }

  /** Reports `faults` every interval until stopped, as a live edge does. */
  beat(): void {
    if (this.timer) return;
    const once = (): void => {
      const spoolLines = this.nextSpoolLines;
      this.nextSpoolLines = 0;
      this.writing = this.writing.then(() => this.report(this.faults, { spoolLines }).then(() => this.written.push(Date.now())));
    };
    once();
    this.timer = setInterval(once, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
  }
}
