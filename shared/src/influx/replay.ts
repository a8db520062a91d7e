/**
 * Spool replay: sends spooled segments oldest first, in batches, deleting a segment only after InfluxDB took all of
 * it. One run at a time; while InfluxDB does not take a batch the next run waits twice as long (from
 * spool.replayIntervalMs up to spool.maxReplayIntervalMs): while the uplink is down its first request is the probe.
 */
import type { Spool } from './spool';

export interface ReplaySettings {
  batchSize: number;
  replayIntervalMs: number;
  maxReplayIntervalMs: number;
}

export interface ReplayHooks {
  /** Before each segment (the schema set-up after "database not found"). */
  beforeSegment(): Promise<void>;
  /** Posts one batch: how many lines InfluxDB took, and whether it stopped taking them (the segment then stays). */
  sendBatch(batch: string[]): Promise<{ delivered: number; unavailable: boolean }>;
  /** Lines of a segment that left the spool delivered. */
  onReplayed(lines: number): void;
  closing(): boolean;
}

export class SpoolReplayer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private backoffMs: number;
  private stopped = false;

  constructor(
    private readonly spool: Spool,
    private readonly settings: ReplaySettings,
    private readonly hooks: ReplayHooks,
  ) {
    this.backoffMs = settings.replayIntervalMs;
  }

  /** The current probe period. */
  get delayMs(): number {
    return this.backoffMs;
  }

  /** InfluxDB took a write: the next probe uses the shortest period again. */
  resetBackoff(): void {
    this.backoffMs = this.settings.replayIntervalMs;
  }

  /** A run after `delayMs` (default: the current back-off), unless one is scheduled or running. */
  schedule(delayMs: number = this.backoffMs): void {
    if (this.stopped || this.hooks.closing() || this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delayMs);
    this.timer.unref();
  }

  /** Runs now (or joins the run under way); resolves when the spool is empty or InfluxDB stopped taking writes. */
  run(): Promise<void> {
    if (!this.running) {
      this.running = this.replay().finally(() => {
        this.running = undefined;
        if (!this.spool.isEmpty()) this.schedule();
      });
    }
    return this.running;
  }

  /** No further runs; resolves when the one under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async replay(): Promise<void> {
    const spool = this.spool;
    for (;;) {
      if (this.hooks.closing()) return;
      await this.hooks.beforeSegment();
      const segment = await spool.oldest();
      if (!segment) break;
      const lines = await spool.readLines(segment);
      let delivered = 0;
      let stalled = false;
      for (let i = 0; lines && i < lines.length; i += this.settings.batchSize) {
        const outcome = await this.hooks.sendBatch(lines.slice(i, i + this.settings.batchSize));
        delivered += outcome.delivered;
        if (outcome.unavailable) {
          stalled = true;
          break;
        }
      }
      if (stalled) {
        this.backoffMs = Math.min(this.settings.maxReplayIntervalMs, this.backoffMs * 2);
        return;
      }
      // Counted in the same step as the segment leaves the spool's counts; only if it was still there: a full spool
      // may have dropped it (counted as dropped).
      await spool.remove(segment, () => this.hooks.onReplayed(delivered));
      this.backoffMs = this.settings.replayIntervalMs;
    }
  }
}
