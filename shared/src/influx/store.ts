/**
 * InfluxStore: the one way services write to and query InfluxDB; at an edge, its uplink to the center.
 *
 * Writes: @influxdata/influxdb-client's WriteApi (batching), pointed at the v1 `/write` endpoint that InfluxDB 1.x,
 * 2.x and 3.x all serve. What InfluxDB cannot take right now (unreachable, credentials or certificate refused,
 * database missing) goes to the on-disk spool and is replayed later, oldest first, with original timestamps.
 * While the uplink is down, write() goes straight to the spool and the replay loop is the only traffic: one probe
 * per back-off period (doubling up to spool.maxReplayIntervalMs). A refused uplink is logged once per reason and
 * once when it recovers. What InfluxDB refuses as bad data (400/413/422) is narrowed down to the offending lines by
 * bisection, those are counted and logged, and the good lines of the batch are written.
 * Queries: InfluxQL over `/query`, results as plain rows with `time` in ms.
 */
import { HttpError, InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import pino from 'pino';
import type { UplinkState } from '../edge';
import { loadInfluxConfig, type InfluxConfig, type InfluxConfigInput } from './config';
import { ClockOffsetEstimator, HttpEndpoint, type HttpAnswer } from './http';
import { Spool } from './spool';
import { describeRequestError, describeWriteRefusal, formatElapsed, type UplinkContext, type UplinkFailure } from './uplink';

/** pino-compatible: a pino logger can be passed as is. */
export interface InfluxLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
  /** Recovery notices; warn() when absent. */
  info?(details: object, message: string): void;
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
  /** InfluxDB answers and takes our credentials and certificate: uplink is 'starting' or 'ok'. */
  reachable: boolean;
  /**
   * starting: no write answered yet; ok: writes accepted (or refused only for a missing database, see
   * schemaMissing); unreachable: no answer, timeout or 429/5xx; refused: 401/403; tls: certificate not trusted.
   */
  uplink: UplinkState;
  /** Why the uplink is not ok (or the database is missing): host and reason, never a secret. */
  uplinkError?: string;
  /** InfluxDB answered "database/retention policy not found": points are spooled until the schema exists again. */
  schemaMissing: boolean;
  /** Since when writes have not been accepted (local clock, ms); absent while they are. */
  unavailableSinceMs?: number;
  spoolBytes: number;
  spoolLines: number;
  spoolSegments: number;
  /** Time of the oldest spooled point (ms), 0 when the spool is empty. */
  spoolOldestMs: number;
  /** InfluxDB's clock minus ours, from the Date header of its answers; absent before the first answer. */
  clockOffsetMs?: number;
  lastError: { message: string; atMs: number } | undefined;
}

export interface InfluxStoreOptions {
  logger?: InfluxLogger;
  /** Called on every counter change, e.g. to mirror into prom-client: `(c, n) => counter.inc({ kind: c }, n)`. */
  onCount?: (counter: InfluxCounter, increment: number) => void;
  /** false: no spool (points that cannot be written are dropped and counted). Default: config.spool. */
  spool?: false;
  /**
   * Re-creates the database when InfluxDB answers a write with "database/retention policy not found", before the
   * spool is replayed; services pass `() => ensureDatabase(store, schemaRetention())`. A failure (e.g. a write-only
   * user may not CREATE DATABASE) is logged and retried at the next probe; points stay in the spool.
   */
  onSchemaMissing?: () => Promise<void>;
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

/** The URL without user:password, for messages. */
function displayUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/+$/, '');
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
  private readonly http: HttpEndpoint;
  private readonly spool: Spool | undefined;
  private readonly logger: InfluxLogger;
  private readonly onCount: InfluxStoreOptions['onCount'];
  private readonly onSchemaMissing: InfluxStoreOptions['onSchemaMissing'];
  private readonly uplinkContext: UplinkContext;
  private readonly clock = new ClockOffsetEstimator();
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
  private uplink: UplinkState = 'starting';
  private uplinkError: string | undefined;
  private schemaMissing = false;
  /** Why onSchemaMissing failed last, while the database is still missing. */
  private schemaSetupError: string | undefined;
  private unavailableSinceMs: number | undefined;
  /**
   * The reason last logged, per topic (the uplink itself; the schema set-up): the same reason is not logged again
   * until it changes or the uplink recovers.
   */
  private readonly loggedReasons = new Map<'uplink' | 'schema-setup', string>();
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
    this.onSchemaMissing = options.onSchemaMissing;
    this.replayBackoffMs = this.config.spool.replayIntervalMs;
    this.spool =
      options.spool === false ? undefined : Spool.open({ dir: this.config.spool.dir, maxBytes: this.config.spool.maxBytes });

    const cfg = this.config;
    const url = new URL(this.baseUrl);
    this.uplinkContext = {
      displayUrl: displayUrl(this.baseUrl),
      hostPort: `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`,
      database: cfg.database,
      retentionPolicy: cfg.retentionPolicy,
      username: cfg.token === undefined ? cfg.username : undefined,
      tokenFile: cfg.tokenFile,
      caFile: cfg.caFile,
      customCa: cfg.ca !== undefined,
    };
    this.http = new HttpEndpoint(this.baseUrl, { ca: cfg.ca, timeoutMs: cfg.timeoutMs, headers: this.headers });
    const client = new InfluxDB({
      url: this.baseUrl,
      timeout: cfg.timeoutMs,
      headers: this.headers,
      transportOptions: this.http.transportOptions,
    });
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
        this.count('written', lines.length);
        this.count('batches', 1);
        this.noteAccepted();
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
      const sentAtMs = Date.now();
      send(path, body, options, {
        ...callbacks,
        responseStarted: (headers, statusCode) => {
          const date = headers.date;
          this.clock.observe(typeof date === 'string' ? date : undefined, sentAtMs, Date.now());
          callbacks?.responseStarted?.(headers, statusCode);
        },
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

  /**
   * Queues formatted line-protocol lines (see formatLine). Cheap: batching and sending happen in the background.
   * While the uplink is down the lines go straight to the spool (synchronously with spool.syncWhenDown).
   */
  write(lines: readonly string[]): void {
    if (this.closing) throw new Error('InfluxStore: write() after close()');
    if (this.spool && this.uplinkDown()) {
      if (this.config.spool.syncWhenDown) this.toSpoolSync(this.spool, lines);
      else this.track(this.toSpool([...lines], 'uplink down'));
      return;
    }
    this.writeApi.writeRecords(lines as string[]);
  }

  /** Writes are known not to get through: live writes skip the network until a probe succeeds. */
  private uplinkDown(): boolean {
    return this.schemaMissing || (this.uplink !== 'starting' && this.uplink !== 'ok');
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

  /** A write was accepted: the uplink is ok; after an outage, say so once and replay the spool now. */
  private noteAccepted(): void {
    const since = this.unavailableSinceMs;
    if (since !== undefined) {
      const spooled = this.spool?.stats().lines ?? 0;
      const message =
        `uplink to ${this.uplinkContext.displayUrl} accepted writes again after ${formatElapsed(Date.now() - since)}; ` +
        `replaying ${spooled.toLocaleString('en-US')} spooled points`;
      (this.logger.info ?? this.logger.warn).call(this.logger, { uplink: 'ok', spoolLines: spooled }, message);
    }
    this.uplink = 'ok';
    this.uplinkError = undefined;
    this.schemaMissing = false;
    this.schemaSetupError = undefined;
    this.unavailableSinceMs = undefined;
    this.loggedReasons.clear();
    this.replayBackoffMs = this.config.spool.replayIntervalMs;
    if (since !== undefined && this.spool && !this.spool.isEmpty()) this.scheduleReplay(0);
  }

  /** Writes are not getting through: record why, log it once per reason. */
  private noteFailure(failure: UplinkFailure): void {
    this.noteError(failure.message);
    if (failure.kind === 'schema') {
      // InfluxDB answered after checking credentials: the uplink itself works.
      this.uplink = 'ok';
      this.schemaMissing = true;
    } else {
      this.uplink = failure.kind;
    }
    this.uplinkError = failure.message;
    this.unavailableSinceMs ??= Date.now();
    this.logOnce('uplink', failure.key, failure.message, failure.kind);
  }

  private logOnce(topic: 'uplink' | 'schema-setup', key: string, message: string, kind: string): void {
    if (this.loggedReasons.get(topic) === key) return;
    this.loggedReasons.set(topic, key);
    const next = this.spool
      ? `points go to the spool; one probe every ${this.config.spool.replayIntervalMs}–${this.config.spool.maxReplayIntervalMs} ms`
      : 'no spool: points are dropped';
    this.logger.error({ uplink: kind, spoolLines: this.spool?.stats().lines ?? 0 }, `${message}; ${next}`);
  }

  private onWriteFailed(error: Error, lines: string[], attempt: number, expires: number): Promise<void> | void {
    const message = errorMessage(error);
    this.noteError(message);
    const status = error instanceof HttpError ? error.statusCode : undefined;
    if (status !== undefined && DATA_FAULT_STATUSES.has(status)) {
      this.awaitingRetry.delete(lines);
      return this.track(this.isolateAndSpool(lines, message, this.postLines));
    }
    // A busy server (429/5xx) gets the client's in-memory retries while the uplink is otherwise fine; anything
    // else (no answer, TLS, credentials, missing database) goes to the spool at once and the probe takes over.
    const busy = status !== undefined && (status === 429 || status >= 500);
    const retriesLeft = attempt <= this.config.maxRetries && expires > Date.now();
    if (busy && retriesLeft && !this.uplinkDown() && !this.closing) {
      this.awaitingRetry.add(lines);
      return undefined;
    }
    this.awaitingRetry.delete(lines);
    this.noteFailure(this.describeFailure(error, status));
    return this.track(this.toSpool(lines, message));
  }

  private describeFailure(error: Error, status: number | undefined): UplinkFailure {
    if (status === undefined) return describeRequestError(error, this.uplinkContext);
    const body = error instanceof HttpError ? (error.body ?? error.message) : error.message;
    return (
      describeWriteRefusal(status, body, this.uplinkContext) ?? {
        kind: 'unreachable',
        key: `unreachable:HTTP ${status}`,
        message: `InfluxDB at ${this.uplinkContext.displayUrl} did not take a write: HTTP ${status}: ${body.slice(0, 300)}`,
      }
    );
  }

  private async toSpool(lines: string[], reason: string): Promise<void> {
    if (!this.spool) {
      this.count('dropped', lines.length);
      this.logger.error({ lines: lines.length, reason }, 'InfluxDB unavailable and no spool: points dropped');
      return;
    }
    let dropped: number;
    try {
      dropped = await this.spool.append(lines);
    } catch (err) {
      this.spoolFailed(lines.length, err);
      return;
    }
    this.spooled(lines.length, dropped);
  }

  /** spool.syncWhenDown: the lines are on disk (fsynced) when write() returns. */
  private toSpoolSync(spool: Spool, lines: readonly string[]): void {
    let dropped: number;
    try {
      dropped = spool.appendSync(lines);
    } catch (err) {
      this.spoolFailed(lines.length, err);
      return;
    }
    this.spooled(lines.length, dropped);
  }

  private spooled(lineCount: number, dropped: number): void {
    this.count('spooled', lineCount);
    if (dropped > 0) {
      this.count('dropped', dropped);
      this.logger.error({ dropped, maxBytes: this.config.spool.maxBytes }, 'InfluxDB spool full: oldest points dropped');
    }
    this.scheduleReplay(this.replayBackoffMs);
  }

  private spoolFailed(lineCount: number, err: unknown): void {
    this.count('dropped', lineCount);
    this.noteError(`spool append failed: ${errorMessage(err)}`);
    this.logger.error({ lines: lineCount, err: errorMessage(err) }, 'cannot write to the InfluxDB spool: points dropped');
  }

  /** Every request of the store's own goes through here: the CA, keep-alive, and the server clock estimate. */
  private async request(method: 'GET' | 'POST', pathAndQuery: string, body?: string, headers?: Record<string, string>): Promise<HttpAnswer> {
    const answer = await this.http.request(method, pathAndQuery, body, headers);
    const date = answer.headers.date;
    this.clock.observe(typeof date === 'string' ? date : undefined, answer.sentAtMs, answer.receivedAtMs);
    return answer;
  }

  /** Raw POST of lines to /write (used for bisection and replay, where the status of each request matters). */
  private readonly postLines: LineSender = async (lines) => {
    const res = await this.request('POST', this.writePath(), lines.join('\n'), { 'Content-Type': 'text/plain; charset=utf-8' });
    return { status: res.status, body: res.body };
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
          this.noteFailure(describeRequestError(err, this.uplinkContext));
          result.unsent.push(...half);
          continue;
        }
        if (res.status >= 200 && res.status < 300) {
          result.written += half.length;
          this.count('batches', 1);
          this.noteAccepted();
        } else if (DATA_FAULT_STATUSES.has(res.status)) {
          await visit(half, `HTTP ${res.status}: ${res.body.slice(0, 500)}`);
        } else {
          this.noteFailure(this.describeFailure(new HttpError(res.status, '', res.body), res.status));
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
    if (result.unsent.length > 0) await this.toSpool(result.unsent, 'InfluxDB became unavailable while isolating bad lines');
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
   * While the uplink is down its first request is the probe; with the database missing, onSchemaMissing runs first.
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
      // Even when the set-up fails (a write-only user), the probe write still goes: someone else may have fixed it.
      if (this.schemaMissing && this.onSchemaMissing) await this.recreateSchema(this.onSchemaMissing);
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
        this.backOff();
        return;
      }
      // Counted in the same step as the segment leaves the spool's counts; only if it was still there: a full spool
      // may have dropped it (counted as dropped).
      await spool.remove(segment, () => this.count('replayed', delivered));
      this.replayBackoffMs = this.config.spool.replayIntervalMs;
    }
  }

  /** The next probe waits twice as long, up to spool.maxReplayIntervalMs. */
  private backOff(): void {
    this.replayBackoffMs = Math.min(this.config.spool.maxReplayIntervalMs, this.replayBackoffMs * 2);
  }

  /** Runs the schema set-up after "database not found"; a failure is logged once per reason and kept for stats. */
  private async recreateSchema(setUp: () => Promise<void>): Promise<void> {
    const database = this.config.database;
    try {
      await setUp();
    } catch (err) {
      const message = `schema set-up for database "${database}" on ${this.uplinkContext.displayUrl} failed: ${errorMessage(err)}`;
      this.noteError(message);
      this.schemaSetupError = message;
      this.logOnce('schema-setup', errorMessage(err), message, 'schema');
      return;
    }
    this.schemaSetupError = undefined;
    this.logger.warn({ database }, `re-created database "${database}" on ${this.uplinkContext.displayUrl}; replaying the spool`);
  }

  private async replayBatch(batch: string[]): Promise<{ delivered: number; unavailable: boolean }> {
    let res: { status: number; body: string };
    try {
      res = await this.postLines(batch);
    } catch (err) {
      this.noteFailure(describeRequestError(err, this.uplinkContext));
      return { delivered: 0, unavailable: true };
    }
    if (res.status >= 200 && res.status < 300) {
      this.count('written', batch.length);
      this.count('batches', 1);
      this.noteAccepted();
      return { delivered: batch.length, unavailable: false };
    }
    const reason = `HTTP ${res.status}: ${res.body.slice(0, 500)}`;
    if (!DATA_FAULT_STATUSES.has(res.status)) {
      this.noteFailure(this.describeFailure(new HttpError(res.status, '', res.body), res.status));
      return { delivered: 0, unavailable: true };
    }
    this.noteError(reason);
    const result = await this.isolateBadLines(batch, reason, this.postLines);
    this.count('written', result.written);
    // Lines of this batch still unsent stay in the segment, which is kept: the whole batch is retried later.
    return { delivered: result.written, unavailable: result.unsent.length > 0 };
  }

  // ---- queries ----

  /** Runs InfluxQL (build it with the influxql template). Throws InfluxQueryError naming the failing statement. */
  async query(q: string): Promise<QuerySeries[]> {
    const params = new URLSearchParams({ db: this.config.database, epoch: 'ms' });
    let res: HttpAnswer;
    try {
      res = await this.request('POST', `/query?${params.toString()}`, new URLSearchParams({ q }).toString(), {
        'Content-Type': 'application/x-www-form-urlencoded',
      });
    } catch (err) {
      throw new InfluxQueryError(describeRequestError(err, this.uplinkContext).message, q);
    }
    const text = res.body;
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
      const res = await this.request('GET', '/ping');
      const latencyMs = performance.now() - started;
      const header = res.headers['x-influxdb-version'];
      const version = typeof header === 'string' ? header : undefined;
      if (res.status === 204 || res.status === 200) return { ok: true, version, latencyMs };
      return { ok: false, version, latencyMs, error: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, latencyMs: performance.now() - started, error: describeRequestError(err, this.uplinkContext).message };
    }
  }

  stats(): InfluxStoreStats {
    const spoolStats = this.spool?.stats();
    return {
      ...this.counters,
      reachable: this.uplink === 'starting' || this.uplink === 'ok',
      uplink: this.uplink,
      uplinkError:
        this.schemaMissing && this.schemaSetupError && this.uplinkError ? `${this.uplinkError}; ${this.schemaSetupError}` : this.uplinkError,
      schemaMissing: this.schemaMissing,
      unavailableSinceMs: this.unavailableSinceMs,
      spoolBytes: spoolStats?.bytes ?? 0,
      spoolLines: spoolStats?.lines ?? 0,
      spoolSegments: spoolStats?.segments ?? 0,
      spoolOldestMs: this.spool?.oldestTimeMs() ?? 0,
      clockOffsetMs: this.clock.offsetMs,
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
    this.http.close();
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
