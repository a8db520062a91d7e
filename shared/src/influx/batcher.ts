/**
 * Batching for the store's one write path (Telegraf's RunningOutput in small): lines collect in memory and leave as
 * a batch when `batchSize` lines are waiting or `flushIntervalMs` after the first of a partial batch. Each batch is
 * handed to `deliver`, which posts it and settles it (written, bad lines isolated, or spooled) or answers 'retry'
 * for a busy server: then it waits in memory with exponential back-off, at most `maxBufferLines` lines in all (the
 * oldest beyond that, and all of them at close, are handed to `giveUp`, which spools them).
 */

export interface BatcherSettings {
  batchSize: number;
  flushIntervalMs: number;
  maxBufferLines: number;
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
}

export interface BatcherHooks {
  /**
   * Sends one batch (attempt 1 is the first try); `retry` asks for another attempt after the back-off, or after
   * `afterMs` when the server said when (Retry-After).
   */
  deliver(lines: string[], attempt: number): Promise<DeliveryOutcome>;
  /** A batch that will not be retried in memory (retry buffer full, or closing). */
  giveUp(lines: string[], reason: string): void;
  /** Every delivery in flight, so the owner's flush() can wait for it. */
  track(work: Promise<unknown>): void;
}

export type DeliveryOutcome = 'done' | { retry: true; afterMs?: number };

interface PendingRetry {
  lines: string[];
  attempt: number;
  timer: NodeJS.Timeout;
}

export class Batcher {
  private buffer: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly retries = new Set<PendingRetry>();
  private retryLines = 0;

  constructor(
    private readonly settings: BatcherSettings,
    private readonly hooks: BatcherHooks,
  ) {}

  add(lines: readonly string[]): void {
    const { batchSize } = this.settings;
    for (const line of lines) {
      this.buffer.push(line);
      if (this.buffer.length >= batchSize) this.sendBuffer();
    }
    if (this.buffer.length > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.sendBuffer();
      }, this.settings.flushIntervalMs);
    }
  }

  /** Sends the partial batch now (its delivery is tracked). */
  flush(): void {
    this.sendBuffer();
  }

  private sendBuffer(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.dispatch(batch, 1);
  }

  private dispatch(lines: string[], attempt: number): void {
    this.hooks.track(
      this.hooks.deliver(lines, attempt).then((outcome) => {
        if (outcome !== 'done') this.scheduleRetry(lines, attempt + 1, outcome.afterMs);
      }),
    );
  }

  /** Retry-After when given, else exponential back-off from minRetryDelayMs, doubling per attempt, up to maxRetryDelayMs. */
  private scheduleRetry(lines: string[], attempt: number, afterMs: number | undefined): void {
    const { minRetryDelayMs, maxRetryDelayMs, maxBufferLines } = this.settings;
    const delayMs = afterMs ?? Math.min(maxRetryDelayMs, minRetryDelayMs * 2 ** Math.max(0, attempt - 2));
    const entry: PendingRetry = {
      lines,
      attempt,
      timer: setTimeout(() => {
        this.forget(entry);
        this.dispatch(lines, attempt);
      }, delayMs),
    };
    this.retries.add(entry);
    this.retryLines += lines.length;
    // Oldest first beyond the bound (Set iterates in insertion order); the newest batch always stays.
    for (const old of this.retries) {
      if (this.retryLines <= maxBufferLines || old === entry) break;
      clearTimeout(old.timer);
      this.forget(old);
      this.hooks.giveUp(old.lines, 'retry buffer full');
    }
  }

  private forget(entry: PendingRetry): void {
    if (this.retries.delete(entry)) this.retryLines -= entry.lines.length;
  }

  /** Sends what is buffered, then hands every batch still waiting for a retry to giveUp. */
  close(): void {
    this.sendBuffer();
    for (const entry of [...this.retries]) {
      clearTimeout(entry.timer);
      this.forget(entry);
      this.hooks.giveUp(entry.lines, 'closing with a retry pending');
    }
  }
}
