/**
 * InfluxStore: the one way services write to and query InfluxDB.
 *
 * Writes: @influxdata/influxdb-client's WriteApi (batching, retry with back-off, bounded retry buffer), pointed at
 * the v1 `/write` endpoint that InfluxDB 1.x, 2.x and 3.x all serve. What InfluxDB cannot take right now (down,
 * 5xx, auth or database missing) goes to the on-disk spool after the client's retries and is replayed later.
 * What InfluxDB refuses as bad data (400/413/422) is narrowed down to the offending lines by bisection, those are
 * counted and logged, and the good lines of the batch are written.
 * Queries: InfluxQL over `/query`, results as plain rows with `time` in ms.
 */
import { HttpError, InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import pino from 'pino';
import { loadInfluxConfig, type InfluxConfig, type InfluxConfigInput } from './config';
import { Spool } from './spool';

/** pino-compatible: a pino logger can be passed as is. */
export interface InfluxLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export type InfluxCounter = 'written' | 'failed' | 'spooled' | 'dropped' | 'replayed' | 'batches';

/** Counters are points (lines) since the store was created, except batches (write requests). */
export interface InfluxStoreStats {
  /** Points InfluxDB accepted (live and replayed). */
  written: number;
  /** Points InfluxDB refused as bad data (HTTP 400/413/422): never retried. */
  failed: number;
  /** Points put in the spool because InfluxDB was unavailable. */
  spooled: number;
  /** Points lost: spool full (oldest dropped), spool disabled or unwritable. */
  dropped: number;
  /** Spooled points InfluxDB later accepted. */
  replayed: number;
  /** Write requests InfluxDB accepted. */
  batches: number;
  /** false from a batch going to the spool until InfluxDB accepts a write again. */
  reachable: boolean;
  spoolBytes: number;
  spoolLines: number;
  spoolSegments: number;
  lastError: { message: string; atMs: number } | undefined;
}

export interface InfluxStoreOptions {
  logger?: InfluxLogger;
  /** Called on every counter change, e.g. to mirror into prom-client: `(c, n) => counter.inc({ kind: c }, n)`. */
  onCount?: (counter: InfluxCounter, increment: number) => void;
  /** false: no spool (points that cannot be written are dropped and counted). Default: config.spool. */
  spool?: false;
}

export interface QuerySeries {
  name: string;
  tags: Record<string, string>;
  /** One object per row: column → value; `time` in ms since the epoch. */
  rows: Array<Record<string, unknown> & { time: number }>;
}

export class InfluxQueryError extends Error {
  constructor(
    message: string,
    readonly query: string,
  ) {
    super(message);
    this.name = 'InfluxQueryError';
  }
}

export interface PingResult {
  ok: boolean;
  version?: string;
  latencyMs: number;
  error?: string;
}

/** Statuses that mean "this data is wrong": retrying the same lines can never succeed. */
const DATA_FAULT_STATUSES = new Set([400, 413, 422]);
/** Most requests spent isolating bad lines of one batch; beyond it the rest of a failing half counts as failed. */
const BISECT_REQUEST_BUDGET = 64;
const MAX_REPLAY_BACKOFF_MS = 30_000;

// The client logs every retry to the console; this module logs what matters itself.
setLogger({ error: () => undefined, warn: () => undefined });

type LineSender = (lines: string[]) => Promise<{ status: number; body: string }>;

interface IsolationResult {
  written: number;
  rejected: number;
  /** Lines not sent because InfluxDB became unavailable meanwhile. */
  unsent: string[];
}

function authHeaders(cfg: InfluxConfig): Record<string, string> {
  if (cfg.token !== undefined) {
    return { Authorization: `${cfg.flavor === 'v3' ? 'Bearer' : 'Token'} ${cfg.token}` };
  }
  if (cfg.username !== undefined) {
    const basic = Buffer.from(`${cfg.username}:${cfg.password ?? ''}`).toString('base64');
    return { Authorization: `Basic ${basic}` };
  }
  return {};
}

function errorMessage(err: unknown): string {
  if (err instanceof HttpError) {
    const detail = err.body ?? err.message;
    return `HTTP ${err.statusCode}: ${detail.slice(0, 500)}`;
  }
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: { code?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}

export class InfluxStore {
  readonly config: InfluxConfig;
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly writeApi: WriteApi;
  private readonly spool: Spool | undefined;
  private readonly logger: InfluxLogger;
  private readonly onCount: InfluxStoreOptions['onCount'];
  private readonly counters: Record<InfluxCounter, number> = {
    written: 0,
    failed: 0,
    spooled: 0,
    dropped: 0,
    replayed: 0,
    batches: 0,
  };
  private lastError: { message: string; atMs: number } | undefined;
  /** Batches the client holds for a retry: spooled on close so none is lost. */
  private readonly awaitingRetry = new Set<string[]>();
  private readonly pendingWork = new Set<Promise<unknown>>();
  private unavailable = false;
  private closing = false;
  private replayTimer: NodeJS.Timeout | undefined;
  private replayRunning: Promise<void> | undefined;
  private replayBackoffMs: number;

  constructor(config: InfluxConfigInput | InfluxConfig, options: InfluxStoreOptions = {}) {
    this.config = loadInfluxConfig(config, {}, 'InfluxStore config');
    this.baseUrl = this.config.url.replace(/\/+$/, '');
    this.headers = authHeaders(this.config);
    this.logger = options.logger ?? pino({ name: 'influx-store', level: 'warn' }, pino.destination(2));
    this.onCount = options.onCount;
    this.replayBackoffMs = this.config.spool.replayIntervalMs;
    this.spool =
      options.spool === false ? undefined : Spool.open({ dir: this.config.spool.dir, maxBytes: this.config.spool.maxBytes });

    const cfg = this.config;
    const client = new InfluxDB({ url: this.baseUrl, timeout: cfg.timeoutMs, headers: this.headers });
    this.trackRequests(client);
    this.writeApi = client.getWriteApi('', '', 'ms', {
      batchSize: cfg.batchSize,
      flushInterval: cfg.flushIntervalMs,
      maxBufferLines: cfg.maxBufferLines,
      maxRetries: cfg.maxRetries,
      minRetryDelay: cfg.minRetryDelayMs,
      maxRetryDelay: cfg.maxRetryDelayMs,
      // Enough time for every retry; after it the batch goes to the spool.
      maxRetryTime: (cfg.maxRetries + 1) * (cfg.maxRetryDelayMs + cfg.timeoutMs),
      gzipThreshold: cfg.gzipThresholdBytes > 0 ? cfg.gzipThresholdBytes : Number.MAX_SAFE_INTEGER,
      writeFailed: (error, lines, attempt, expires) => this.onWriteFailed(error, lines, attempt, expires),
      writeSuccess: (lines) => {
        this.awaitingRetry.delete(lines);
        this.onBatchAccepted(lines.length);
      },
      writeRetrySkipped: (entry) => {
        this.awaitingRetry.delete(entry.lines);
        this.track(this.toSpool(entry.lines, 'retry buffer full'));
      },
    });
    this.writeApi.path = this.writePath();
    if (this.spool && !this.spool.isEmpty()) this.scheduleReplay(0);
  }

  /**
   * The WriteApi sends full batches on its own, without handing out a promise; flush() must still wait for them
   * (and for their failure hooks, which spool). So every request the client makes is tracked until it settles.
   */
  private trackRequests(client: InfluxDB): void {
    const transport = client.transport;
    const send = transport.send.bind(transport);
    transport.send = (path, body, options, callbacks) => {
      let settle: () => void = () => undefined;
      this.track(new Promise<void>((resolve) => (settle = resolve)));
      send(path, body, options, {
        ...callbacks,
        error: (error) => {
          try {
            callbacks?.error?.(error);
          } finally {
            settle();
          }
        },
        complete: () => {
          try {
            callbacks?.complete?.();
          } finally {
            settle();
          }
        },
      });
    };
  }

  private writePath(): string {
    const db = encodeURIComponent(this.config.database);
    const rp = encodeURIComponent(this.config.retentionPolicy);
    return `/write?db=${db}&rp=${rp}&precision=ms`;
  }

  /** Queues formatted line-protocol lines (see formatLine). Cheap: batching and sending happen in the background. */
  write(lines: readonly string[]): void {
    if (this.closing) throw new Error('InfluxStore: write() after close()');
    this.writeApi.writeRecords(lines as string[]);
  }

  /** Sends everything buffered; resolves when each batch is written, rejected as bad data, spooled or awaiting retry. */
  async flush(): Promise<void> {
    await this.writeApi.flush().catch(() => undefined);
    while (this.pendingWork.size > 0) await Promise.allSettled([...this.pendingWork]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pendingWork.add(work);
    void work.finally(() => this.pendingWork.delete(work)).catch(() => undefined);
    return work;
  }

  private count(counter: InfluxCounter, n: number): void {
    if (n === 0) return;
    this.counters[counter] += n;
    this.onCount?.(counter, n);
  }

  private noteError(message: string): void {
    this.lastError = { message, atMs: Date.now() };
  }

  private onBatchAccepted(lineCount: number): void {
    this.count('written', lineCount);
    this.count('batches', 1);
    if (this.unavailable) {
      this.unavailable = false;
      if (this.spool && !this.spool.isEmpty()) this.scheduleReplay(0);
    }
  }

  private onWriteFailed(error: Error, lines: string[], attempt: number, expires: number): Promise<void> | void {
    const message = errorMessage(error);
    this.noteError(message);
    const status = error instanceof HttpError ? error.statusCode : undefined;
    if (status !== undefined && DATA_FAULT_STATUSES.has(status)) {
      this.awaitingRetry.delete(lines);
      return this.track(this.isolateAndSpool(lines, message, this.postLines));
    }
    const clientWillRetry = status === undefined || status >= 429;
    const retriesLeft = attempt <= this.config.maxRetries && expires > Date.now();
    if (clientWillRetry && retriesLeft && !this.unavailable && !this.closing) {
      this.awaitingRetry.add(lines);
      return undefined;
    }
    // Retries exhausted, or InfluxDB already known to be down (do not pile batches up in memory), or a
    // configuration fault (401/403/404) that a person will fix: keep the data on disk.
    this.awaitingRetry.delete(lines);
    this.unavailable = true;
    return this.track(this.toSpool(lines, message));
  }

  private async toSpool(lines: string[], reason: string): Promise<void> {
    if (!this.spool) {
      this.count('dropped', lines.length);
      this.logger.error({ lines: lines.length, reason }, 'InfluxDB unavailable and no spool: points dropped');
      return;
    }
    try {
      const dropped = await this.spool.append(lines);
      this.count('spooled', lines.length);
      if (dropped > 0) {
        this.count('dropped', dropped);
        this.logger.error({ dropped, maxBytes: this.config.spool.maxBytes }, 'InfluxDB spool full: oldest points dropped');
      }
    } catch (err) {
      this.count('dropped', lines.length);
      this.noteError(`spool append failed: ${errorMessage(err)}`);
      this.logger.error({ lines: lines.length, err: errorMessage(err) }, 'cannot write to the InfluxDB spool: points dropped');
      return;
    }
    this.scheduleReplay(this.replayBackoffMs);
  }

  /** Raw POST of lines to /write (used for bisection and replay, where the status of each request matters). */
  private readonly postLines: LineSender = async (lines) => {
    const res = await fetch(this.baseUrl + this.writePath(), {
      method: 'POST',
      headers: { ...this.headers, 'Content-Type': 'text/plain; charset=utf-8' },
      body: lines.join('\n'),
      signal: AbortSignal.timeout(this.config.timeoutMs),
    });
    const body = res.status === 204 ? '' : await res.text();
    return { status: res.status, body };
  };

  /**
   * Splits a refused batch until each refused part is a single line: good lines get written, bad ones are
   * counted and logged with InfluxDB's reason. Re-sending lines that a 1.x partial write already stored is
   * harmless (same series, same time: overwritten).
   */
  private async isolateBadLines(lines: string[], reason: string, send: LineSender): Promise<IsolationResult> {
    const result: IsolationResult = { written: 0, rejected: 0, unsent: [] };
    let budget = BISECT_REQUEST_BUDGET;
    const visit = async (part: string[], partReason: string): Promise<void> => {
      if (part.length === 1 || budget <= 0) {
        result.rejected += part.length;
        this.logger.warn(
          { lines: part.length, reason: partReason, sample: (part[0] ?? '').slice(0, 300) },
          'InfluxDB refused points as invalid; they are not retried',
        );
        return;
      }
      const middle = part.length >> 1;
      for (const half of [part.slice(0, middle), part.slice(middle)]) {
        if (result.unsent.length > 0) {
          result.unsent.push(...half);
          continue;
        }
        budget--;
        let res: { status: number; body: string };
        try {
          res = await send(half);
        } catch (err) {
          this.noteError(errorMessage(err));
          result.unsent.push(...half);
          continue;
        }
        if (res.status >= 200 && res.status < 300) {
          result.written += half.length;
          this.count('batches', 1);
        } else if (DATA_FAULT_STATUSES.has(res.status)) {
          await visit(half, `HTTP ${res.status}: ${res.body.slice(0, 500)}`);
        } else {
          this.noteError(`HTTP ${res.status}: ${res.body.slice(0, 500)}`);
          result.unsent.push(...half);
        }
      }
    };
    await visit(lines, reason);
    this.count('failed', result.rejected);
    return result;
  }

  private async isolateAndSpool(lines: string[], reason: string, send: LineSender): Promise<void> {
    const result = await this.isolateBadLines(lines, reason, send);
    this.count('written', result.written);
    if (result.unsent.length > 0) {
      this.unavailable = true;
      await this.toSpool(result.unsent, 'InfluxDB became unavailable while isolating bad lines');
    }
  }

  // ---- replay ----

  private scheduleReplay(delayMs: number): void {
    if (!this.spool || this.closing || this.replayTimer || this.replayRunning) return;
    this.replayTimer = setTimeout(() => {
      this.replayTimer = undefined;
      void this.replaySpool();
    }, delayMs);
    this.replayTimer.unref();
  }

  /**
   * Sends spooled segments oldest first, in batches, deleting a segment only after InfluxDB took all of it.
   * Resolves when the spool is empty or InfluxDB stopped answering (then a retry is scheduled with back-off).
   */
  replaySpool(): Promise<void> {
    if (!this.replayRunning) {
      this.replayRunning = this.runReplay().finally(() => {
        this.replayRunning = undefined;
        if (this.spool && !this.spool.isEmpty()) this.scheduleReplay(this.replayBackoffMs);
      });
    }
    return this.replayRunning;
  }

  private async runReplay(): Promise<void> {
    const spool = this.spool;
    if (!spool) return;
    for (;;) {
      if (this.closing) return;
      const segment = await spool.oldest();
      if (!segment) break;
      const lines = await spool.readLines(segment);
      let delivered = 0;
      let stalled = false;
      for (let i = 0; lines && i < lines.length; i += this.config.batchSize) {
        const batch = lines.slice(i, i + this.config.batchSize);
        const outcome = await this.replayBatch(batch);
        delivered += outcome.delivered;
        if (outcome.unavailable) {
          stalled = true;
          break;
        }
      }
      if (stalled) {
        this.unavailable = true;
        this.replayBackoffMs = Math.min(MAX_REPLAY_BACKOFF_MS, this.replayBackoffMs * 2);
        return;
      }
      // Count only if the segment was still there: a full spool may have dropped it (counted as dropped).
      if (await spool.remove(segment)) this.count('replayed', delivered);
      this.replayBackoffMs = this.config.spool.replayIntervalMs;
      this.unavailable = false;
    }
  }

  private async replayBatch(batch: string[]): Promise<{ delivered: number; unavailable: boolean }> {
    let res: { status: number; body: string };
    try {
      res = await this.postLines(batch);
    } catch (err) {
      this.noteError(errorMessage(err));
      return { delivered: 0, unavailable: true };
    }
    if (res.status >= 200 && res.status < 300) {
      this.count('written', batch.length);
      this.count('batches', 1);
      return { delivered: batch.length, unavailable: false };
    }
    const reason = `HTTP ${res.status}: ${res.body.slice(0, 500)}`;
    this.noteError(reason);
    if (!DATA_FAULT_STATUSES.has(res.status)) return { delivered: 0, unavailable: true };
    const result = await this.isolateBadLines(batch, reason, this.postLines);
    this.count('written', result.written);
    // Lines of this batch still unsent stay in the segment, which is kept: the whole batch is retried later.
    return { delivered: result.written, unavailable: result.unsent.length > 0 };
  }

  // ---- queries ----

  /** Runs InfluxQL (build it with the influxql template). Throws InfluxQueryError naming the failing statement. */
  async query(q: string): Promise<QuerySeries[]> {
    const params = new URLSearchParams({ db: this.config.database, epoch: 'ms' });
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/query?${params.toString()}`, {
        method: 'POST',
        headers: { ...this.headers, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ q }).toString(),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
    } catch (err) {
      throw new InfluxQueryError(`InfluxDB at ${this.baseUrl} unreachable: ${errorMessage(err)}`, q);
    }
    const text = await res.text();
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      throw new InfluxQueryError(`InfluxDB query answered HTTP ${res.status} with non-JSON: ${text.slice(0, 300)}`, q);
    }
    return parseQueryResponse(payload, res.status, q);
  }

  /** All rows of all series, each row with its series' tags merged in. */
  async queryRows(q: string): Promise<Array<Record<string, unknown> & { time: number }>> {
    const series = await this.query(q);
    return series.flatMap((s) => s.rows.map((row) => ({ ...s.tags, ...row })));
  }

  async ping(): Promise<PingResult> {
    const started = performance.now();
    try {
      const res = await fetch(`${this.baseUrl}/ping`, {
        headers: this.headers,
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      await res.arrayBuffer();
      const latencyMs = performance.now() - started;
      const version = res.headers.get('x-influxdb-version') ?? undefined;
      if (res.status === 204 || res.status === 200) return { ok: true, version, latencyMs };
      return { ok: false, version, latencyMs, error: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, latencyMs: performance.now() - started, error: errorMessage(err) };
    }
  }

  stats(): InfluxStoreStats {
    const spoolStats = this.spool?.stats();
    return {
      ...this.counters,
      reachable: !this.unavailable,
      spoolBytes: spoolStats?.bytes ?? 0,
      spoolLines: spoolStats?.lines ?? 0,
      spoolSegments: spoolStats?.segments ?? 0,
      lastError: this.lastError,
    };
  }

  /** Flushes; whatever is still waiting for a retry goes to the spool; stops the replay loop. */
  async close(): Promise<void> {
    if (this.closing) return;
    await this.flush();
    this.closing = true;
    if (this.replayTimer) clearTimeout(this.replayTimer);
    this.replayTimer = undefined;
    await this.replayRunning;
    for (const lines of [...this.awaitingRetry]) {
      this.awaitingRetry.delete(lines);
      this.track(this.toSpool(lines, 'closing with a retry pending'));
    }
    this.writeApi.dispose();
    await this.flush();
    await this.spool?.close();
  }
}

interface RawSeries {
  name?: unknown;
  tags?: unknown;
  columns?: unknown;
  values?: unknown;
}

/** Turns InfluxDB's /query JSON into QuerySeries, checking its shape (it is input from the network). */
export function parseQueryResponse(payload: unknown, status: number, q: string): QuerySeries[] {
  const body = payload as { error?: unknown; results?: unknown };
  if (typeof body !== 'object' || body === null) throw new InfluxQueryError(`InfluxDB query: unexpected answer`, q);
  if (typeof body.error === 'string') throw new InfluxQueryError(`InfluxDB query failed (HTTP ${status}): ${body.error}`, q);
  if (!Array.isArray(body.results)) throw new InfluxQueryError(`InfluxDB query: answer without results (HTTP ${status})`, q);
  const out: QuerySeries[] = [];
  for (const [i, result] of (body.results as Array<{ error?: unknown; series?: unknown }>).entries()) {
    if (typeof result.error === 'string') {
      throw new InfluxQueryError(`InfluxDB query statement ${i + 1} failed: ${result.error}`, q);
    }
    if (!Array.isArray(result.series)) continue;
    for (const s of result.series as RawSeries[]) {
      const columns = Array.isArray(s.columns) ? (s.columns as string[]) : [];
      const values = Array.isArray(s.values) ? (s.values as unknown[][]) : [];
      const rows = values.map((v) => {
        const row: Record<string, unknown> = {};
        for (let c = 0; c < columns.length; c++) row[columns[c] as string] = v[c];
        return row as Record<string, unknown> & { time: number };
      });
      const tags = typeof s.tags === 'object' && s.tags !== null ? (s.tags as Record<string, string>) : {};
      out.push({ name: typeof s.name === 'string' ? s.name : '', tags, rows });
    }
  }
  return out;
}
