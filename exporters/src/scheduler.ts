/**
 * Sweeps: every `intervalMs` each miner is scraped once. Start times are spread by a stable per-miner jitter
 * (so 5,000 miners do not hit the uplink in the same millisecond), at most `concurrency` scrapes run at once, and
 * a miner still being scraped when its next turn comes is skipped and counted as an overrun: a slow or dead
 * miner costs its own timeout, never the others' turns.
 */

export interface SweepReport {
  startedAt: number;
  durationMs: number;
  scraped: number;
  /** Miners skipped because their previous scrape was still running. */
  overruns: number;
}

export interface SchedulerOptions<T> {
  intervalMs: number;
  /** Start offsets are spread over [0, jitterMs). */
  jitterMs: number;
  concurrency: number;
  /** The miners of this sweep (re-read each sweep, so inventory reloads apply). */
  targets: () => T[];
  key: (target: T) => string;
  scrape: (target: T) => Promise<void>;
  onSweep?: (report: SweepReport) => void;
  onError?: (target: T, err: unknown) => void;
}

/** Stable offset in [0, range) from a string (FNV-1a), so a miner keeps its slot across sweeps and restarts. */
export function stableJitter(key: string, range: number): number {
  if (range <= 0) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % range;
}

/** A counting semaphore: FIFO, no busy waiting. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<R>(task: () => Promise<R>): Promise<R> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export class ScrapeScheduler<T> {
  private readonly inFlight = new Set<string>();
  private readonly limiter: Limiter;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private sweeping: Promise<SweepReport> | undefined;
  /** The previous sweep's report: reports go out in start order (heartbeat numbers follow sweep start times). */
  private reported: Promise<unknown> = Promise.resolve();
  totalOverruns = 0;

  constructor(private readonly options: SchedulerOptions<T>) {
    this.limiter = new Limiter(Math.max(1, options.concurrency));
  }

  /** One sweep over all targets; resolves when every scrape it started has finished. */
  async sweep(jitterMs = this.options.jitterMs): Promise<SweepReport> {
    const startedAt = Date.now();
    const targets = this.options.targets();
    let overruns = 0;
    let scraped = 0;
    const jobs: Array<Promise<void>> = [];
    for (const target of targets) {
      const key = this.options.key(target);
      if (this.inFlight.has(key)) {
        overruns++;
        continue;
      }
      this.inFlight.add(key);
      const delay = stableJitter(key, jitterMs);
      jobs.push(
        (async () => {
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          try {
            await this.limiter.run(() => this.options.scrape(target));
            scraped++;
          } catch (err) {
            this.options.onError?.(target, err);
          } finally {
            this.inFlight.delete(key);
          }
        })(),
      );
    }
    // A sweep that overlapped a slow one (its stuck miners skipped) may finish first: it waits for the earlier
    // sweep's report, so the edge's heartbeats are numbered in the order of their times.
    const before = this.reported;
    const done = Promise.all(jobs).then(async () => {
      const durationMs = Date.now() - startedAt;
      await before.catch(() => undefined);
      this.totalOverruns += overruns;
      const report = { startedAt, durationMs, scraped, overruns };
      this.options.onSweep?.(report);
      return report;
    });
    this.reported = done;
    return done;
  }

  /** Sweeps every interval until stop(); a sweep that outlasts the interval overlaps only for miners already done. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = (): void => {
      if (!this.running) return;
      this.sweeping = this.sweep();
      this.sweeping.catch(() => undefined);
      this.timer = setTimeout(tick, this.options.intervalMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping;
  }
}
