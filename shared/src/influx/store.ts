/**
 * InfluxStore: the one way services write to and query InfluxDB; at an edge, its uplink to the center.
 *
 * One write path: write() → Batcher (a batch leaves at batchSize lines or flushIntervalMs) → postLines(), the one
 * POST to the v1 `/write` endpoint that InfluxDB 1.x, 2.x and 3.x all serve, through the store's HttpEndpoint
 * (keep-alive, the configured CA, the timeout). What InfluxDB cannot take right now (unreachable, credentials or
 * certificate refused, database missing) goes to the on-disk spool, the write path's buffer, and SpoolReplayer
 * sends it later through the same postLines(), oldest first, with original timestamps. While the uplink is down,
 * write() goes straight to the spool and the replay loop is the only traffic: one probe per back-off period
 * (doubling up to spool.maxReplayIntervalMs). A refused uplink is logged once per reason and once when it
 * recovers. What InfluxDB refuses as bad data (400/413/422) is narrowed down to the offending lines by bisection
 * (bisect.ts), those are counted and logged, and the good lines of the batch are written.
 * Queries and ping: query.ts, InfluxQL over `/query`, results as plain rows with `time` in ms.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import pino from 'pino';
import type { UplinkState } from '../edge';
import { Batcher, type DeliveryOutcome } from './batcher';
import { DATA_FAULT_STATUSES, isolateBadLines, type PartOutcome } from './bisect';
import { loadInfluxConfig, type InfluxConfig, type InfluxConfigInput } from './config';
import { ClockOffsetEstimator, HttpEndpoint, type HttpAnswer } from './http';
import { ping, runQuery, type PingResult, type QuerySeries } from './query';
import { SpoolReplayer } from './replay';
import { Spool } from './spool';
import { describeRequestError, describeWriteRefusal, formatElapsed, type UplinkContext, type UplinkFailure } from './uplink';

const gzip = promisify(gzipCb);

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

interface WriteAnswer {
  status: number;
  body: string;
  /** Retry-After of a 429/503, in ms. */
  retryAfterMs?: number;
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
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

function httpReason(answer: WriteAnswer): string {
  return `HTTP ${answer.status}: ${answer.body.slice(0, 500)}`;
}

function isAccepted(status: number): boolean {
  return status >= 200 && status < 300;
}

export class InfluxStore {
  readonly config: InfluxConfig;
  private readonly baseUrl: string;
  private readonly http: HttpEndpoint;
  private readonly batcher: Batcher;
  private readonly spool: Spool | undefined;
  private readonly replayer: SpoolReplayer | undefined;
  private readonly logger: InfluxLogger;
  private readonly onCount: InfluxStoreOptions['onCount'];
  private readonly onSchemaMissing: InfluxStoreOptions['onSchemaMissing'];
  private readonly uplinkContext: UplinkContext;
  private readonly writePath: string;
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

  constructor(config: InfluxConfigInput | InfluxConfig, options: InfluxStoreOptions = {}) {
    this.config = loadInfluxConfig(config, {}, 'InfluxStore config');
    const cfg = this.config;
    this.baseUrl = cfg.url.replace(/\/+$/, '');
    this.logger = options.logger ?? pino({ name: 'influx-store', level: 'warn' }, pino.destination(2));
    this.onCount = options.onCount;
    this.onSchemaMissing = options.onSchemaMissing;
    this.writePath = `/write?db=${encodeURIComponent(cfg.database)}&rp=${encodeURIComponent(cfg.retentionPolicy)}&precision=ms`;
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
    this.http = new HttpEndpoint(this.baseUrl, { ca: cfg.ca, timeoutMs: cfg.timeoutMs, headers: authHeaders(cfg) });
    this.batcher = new Batcher(cfg, {
      deliver: (lines, attempt) => this.deliver(lines, attempt),
      giveUp: (lines, reason) => void this.track(this.toSpool(lines, reason)),
      track: (work) => void this.track(work),
    });
    this.spool =
      options.spool === false ? undefined : Spool.open({ dir: cfg.spool.dir, maxBytes: cfg.spool.maxBytes });
    this.replayer = this.spool
      ? new SpoolReplayer(
          this.spool,
          { batchSize: cfg.batchSize, replayIntervalMs: cfg.spool.replayIntervalMs, maxReplayIntervalMs: cfg.spool.maxReplayIntervalMs },
          {
            // Even when the set-up fails (a write-only user), the probe write still goes: someone else may have fixed it.
            beforeSegment: async () => {
              if (this.schemaMissing && this.onSchemaMissing) await this.recreateSchema(this.onSchemaMissing);
            },
            sendBatch: (batch) => this.replayBatch(batch),
            onReplayed: (lines) => this.count('replayed', lines),
            closing: () => this.closing,
          },
        )
      : undefined;
    if (this.spool && !this.spool.isEmpty()) this.replayer?.schedule(0);
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
    this.batcher.add(lines);
  }

  /**
   * Writes a few lines at once into a given database and retention policy (set-up data such as the dashboards' tier
   * table), outside the batching and the spool; rejects unless InfluxDB takes them.
   */
  async writeNow(lines: readonly string[], target: { database: string; retentionPolicy: string }): Promise<void> {
    const path = `/write?db=${encodeURIComponent(target.database)}&rp=${encodeURIComponent(target.retentionPolicy)}&precision=ms`;
    const res = await this.request('POST', path, lines.join('\n'), { 'Content-Type': 'text/plain; charset=utf-8' });
    if (res.status !== 204) throw new Error(`InfluxDB did not take the write to ${target.database}.${target.retentionPolicy}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  }

  /** Writes are known not to get through: live writes skip the network until a probe succeeds. */
  private uplinkDown(): boolean {
    return this.schemaMissing || (this.uplink !== 'starting' && this.uplink !== 'ok');
  }

  /** Sends everything buffered; resolves when each batch is written, rejected as bad data, spooled or awaiting retry. */
  async flush(): Promise<void> {
    this.batcher.flush();
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
    this.replayer?.resetBackoff();
    if (since !== undefined && this.spool && !this.spool.isEmpty()) this.replayer?.schedule(0);
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
    this.replayer?.schedule();
  }

  private spoolFailed(lineCount: number, err: unknown): void {
    this.count('dropped', lineCount);
    this.noteError(`spool append failed: ${errorMessage(err)}`);
    this.logger.error({ lines: lineCount, err: errorMessage(err) }, 'cannot write to the InfluxDB spool: points dropped');
  }

  /** Every request of the store's own goes through here: the CA, keep-alive, and the server clock estimate. */
  private readonly request = async (
    method: 'GET' | 'POST',
    pathAndQuery: string,
    body?: string | Buffer,
    headers?: Record<string, string>,
  ): Promise<HttpAnswer> => {
    const answer = await this.http.request(method, pathAndQuery, body, headers);
    const date = answer.headers.date;
    this.clock.observe(typeof date === 'string' ? date : undefined, answer.sentAtMs, answer.receivedAtMs);
    return answer;
  };

  /**
   * The one POST of lines to /write: live batches, bisection and replay all send through it. Bodies above
   * gzipThresholdBytes (when set) are gzipped. Rejects with node's error when there is no HTTP answer.
   */
  private async postLines(lines: readonly string[]): Promise<WriteAnswer> {
    const text = lines.join('\n');
    const threshold = this.config.gzipThresholdBytes;
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
    let body: string | Buffer = text;
    if (threshold > 0 && Buffer.byteLength(text) > threshold) {
      body = await gzip(text);
      headers['Content-Encoding'] = 'gzip';
    }
    const res = await this.request('POST', this.writePath, body, headers);
    const retryAfter = Number(res.headers['retry-after']);
    return { status: res.status, body: res.body, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
  }

  /** A write InfluxDB answered but did not take, for a reason other than bad data. */
  private describeRefusal(answer: WriteAnswer): UplinkFailure {
    return (
      describeWriteRefusal(answer.status, answer.body, this.uplinkContext) ?? {
        kind: 'unreachable',
        key: `unreachable:HTTP ${answer.status}`,
        message: `InfluxDB at ${this.uplinkContext.displayUrl} did not take a write: HTTP ${answer.status}: ${answer.body.slice(0, 300)}`,
      }
    );
  }

  /** An accepted write: counted and the uplink marked ok. */
  private accepted(lines: number, counter: 'written' | 'none'): void {
    if (counter === 'written') this.count('written', lines);
    this.count('batches', 1);
    this.noteAccepted();
  }

  /**
   * One live batch (from the Batcher). A busy server (429/5xx) gets in-memory retries while the uplink is otherwise
   * fine; anything else without an answer or refused (TLS, credentials, missing database) goes to the spool at once
   * and the probe takes over; bad data is bisected.
   */
  private async deliver(lines: string[], attempt: number): Promise<DeliveryOutcome> {
    let answer: WriteAnswer;
    try {
      answer = await this.postLines(lines);
    } catch (err) {
      const message = errorMessage(err);
      this.noteError(message);
      this.noteFailure(describeRequestError(err, this.uplinkContext));
      await this.toSpool(lines, message);
      return 'done';
    }
    if (isAccepted(answer.status)) {
      this.accepted(lines.length, 'written');
      return 'done';
    }
    const message = httpReason(answer);
    this.noteError(message);
    if (DATA_FAULT_STATUSES.has(answer.status)) {
      await this.isolateAndSpool(lines, message);
      return 'done';
    }
    const busy = answer.status === 429 || answer.status >= 500;
    if (busy && attempt <= this.config.maxRetries && !this.uplinkDown() && !this.closing) {
      return { retry: true, ...(answer.retryAfterMs !== undefined ? { afterMs: answer.retryAfterMs } : {}) };
    }
    this.noteFailure(this.describeRefusal(answer));
    await this.toSpool(lines, message);
    return 'done';
  }

  /** Sends one part of a refused batch for bisection: written, bad data, or InfluxDB unavailable (noted). */
  private async sendPart(part: string[]): Promise<PartOutcome> {
    let answer: WriteAnswer;
    try {
      answer = await this.postLines(part);
    } catch (err) {
      this.noteFailure(describeRequestError(err, this.uplinkContext));
      return { kind: 'unavailable' };
    }
    if (isAccepted(answer.status)) {
      this.accepted(part.length, 'none');
      return { kind: 'written' };
    }
    if (DATA_FAULT_STATUSES.has(answer.status)) return { kind: 'bad-data', reason: httpReason(answer) };
    this.noteFailure(this.describeRefusal(answer));
    return { kind: 'unavailable' };
  }

  /** Bisects a refused batch: good lines written, bad ones counted as failed and logged with InfluxDB's reason. */
  private async isolate(lines: string[], reason: string): Promise<{ written: number; unsent: string[] }> {
    const result = await isolateBadLines(
      lines,
      reason,
      (part) => this.sendPart(part),
      (part, partReason) =>
        this.logger.warn(
          { lines: part.length, reason: partReason, sample: (part[0] ?? '').slice(0, 300) },
          'InfluxDB refused points as invalid; they are not retried',
        ),
    );
    this.count('failed', result.rejected);
    this.count('written', result.written);
    return result;
  }

  private async isolateAndSpool(lines: string[], reason: string): Promise<void> {
    const result = await this.isolate(lines, reason);
    if (result.unsent.length > 0) await this.toSpool(result.unsent, 'InfluxDB became unavailable while isolating bad lines');
  }

  // ---- replay ----

  /**
   * Sends spooled segments oldest first, in batches, deleting a segment only after InfluxDB took all of it.
   * Resolves when the spool is empty or InfluxDB stopped answering (then a retry is scheduled with back-off).
   * While the uplink is down its first request is the probe; with the database missing, onSchemaMissing runs first.
   */
  replaySpool(): Promise<void> {
    return this.replayer?.run() ?? Promise.resolve();
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
    let answer: WriteAnswer;
    try {
      answer = await this.postLines(batch);
    } catch (err) {
      this.noteFailure(describeRequestError(err, this.uplinkContext));
      return { delivered: 0, unavailable: true };
    }
    if (isAccepted(answer.status)) {
      this.accepted(batch.length, 'written');
      return { delivered: batch.length, unavailable: false };
    }
    if (!DATA_FAULT_STATUSES.has(answer.status)) {
      this.noteFailure(this.describeRefusal(answer));
      return { delivered: 0, unavailable: true };
    }
    const reason = httpReason(answer);
    this.noteError(reason);
    const result = await this.isolate(batch, reason);
    // Lines of this batch still unsent stay in the segment, which is kept: the whole batch is retried later.
    return { delivered: result.written, unavailable: result.unsent.length > 0 };
  }

  // ---- queries ----

  /** Runs InfluxQL (build it with the influxql template). Throws InfluxQueryError naming the failing statement. */
  query(q: string): Promise<QuerySeries[]> {
    return runQuery(this.request, this.config.database, q, this.uplinkContext);
  }

  /** All rows of all series, each row with its series' tags merged in. */
  async queryRows(q: string): Promise<Array<Record<string, unknown> & { time: number }>> {
    const series = await this.query(q);
    return series.flatMap((s) => s.rows.map((row) => ({ ...s.tags, ...row })));
  }

  ping(): Promise<PingResult> {
    return ping(this.request, this.uplinkContext);
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
    await this.replayer?.stop();
    this.batcher.close();
    await this.flush();
    await this.spool?.close();
    this.http.close();
  }
}
