/**
 * The edge's end of miner actions asked for at the center (issue 14, docs/control.md). The center never connects to
 * an edge, so the edge asks: every 10 s (longer after errors) it fetches its container's pending requests from the
 * maintenance service through the uplink gateway, claims each one (once: the center hands a request out under a row
 * lock, and never after it expired), resolves the targets with its own inventory, carries the action out through the
 * write path (ControlExecutor: capabilities, rate limits, staggering, confirmation, audit) and posts each miner's
 * outcome back while it works and at the end.
 *
 * Settings (environment): FLYMINING_CONTROL_TOKEN_FILE (a token named edge-<container> with scope control:edge; an
 * empty file turns this off), FLYMINING_CONTROL_CENTER_URL (default: the origin of FLYMINING_INFLUX_URL, the gateway),
 * FLYMINING_CONTROL_CA_FILE (default: FLYMINING_INFLUX_CA_FILE). The token is never logged. Whatever the center
 * answers is bounded in size and validated; a bad answer is logged and skipped, it never stops the exporter.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Inventory, Logger } from '@flymining/shared';
import {
  CONTROL_EDGE_PREFIX,
  MAX_RESULT_TEXT,
  claimAnswerSchema,
  pendingAnswerSchema,
  remoteRequestSchema,
  type MinerResult,
  type RemoteOutcome,
  type RemoteRequest,
  type ResultsBody,
} from '@flymining/shared/src/control-link';
import { CredentialStore } from '../miner/credentials';
import { AuditFile, AuditLog, AuditPoints } from '../miner/control/audit';
import { boundedText, ControlExecutor, type ActionResult, type ControlRequest, type ControlTarget } from '../miner/control/executor';
import { ActionHistory } from '../miner/control/history';
import { resolveTargets, TargetError } from '../miner/control/targets';
import type { MinerAction } from '../miner/control/types';

export const POLL_INTERVAL_MS = 10_000;
const MAX_BACKOFF_MS = 5 * 60_000;
/** A claim whose answer takes longer is not acted on: the request may have expired meanwhile (an LTE link stalling). */
const REQUEST_TIMEOUT_MS = 15_000;
/** Pending answers carry at most 50 requests of a few kB each. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const PROGRESS_EVERY_MS = 5000;
const MAX_IN_FLIGHT = 4;
/** Final results the center did not take yet, retried each poll; the oldest go first when there are more. */
const MAX_UNSENT = 100;
const UNSENT_KEEP_MS = 3600_000;

export interface RemoteControlSettings {
  centerUrl: string;
  tokenFile: string;
  caFile?: string;
}

export class RemoteControlSettingsError extends Error {}

/** The settings from the environment; undefined when FLYMINING_CONTROL_TOKEN_FILE is not set (remote control off). */
export function readRemoteControlSettings(env: NodeJS.ProcessEnv = process.env): RemoteControlSettings | undefined {
  const tokenFile = env.FLYMINING_CONTROL_TOKEN_FILE;
  if (!tokenFile) return undefined;
  let centerUrl = env.FLYMINING_CONTROL_CENTER_URL;
  if (!centerUrl) {
    if (!env.FLYMINING_INFLUX_URL) throw new RemoteControlSettingsError('FLYMINING_CONTROL_CENTER_URL: not set, and there is no FLYMINING_INFLUX_URL to take the center from');
    try {
      centerUrl = new URL(env.FLYMINING_INFLUX_URL).origin;
    } catch {
      throw new RemoteControlSettingsError('FLYMINING_INFLUX_URL: not a URL (the control center URL is taken from it)');
    }
  }
  let url: URL;
  try {
    url = new URL(centerUrl);
  } catch {
    throw new RemoteControlSettingsError(`FLYMINING_CONTROL_CENTER_URL: "${centerUrl.slice(0, 100)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RemoteControlSettingsError('FLYMINING_CONTROL_CENTER_URL: use https:// (the uplink gateway)');
  if (url.username || url.password) throw new RemoteControlSettingsError('FLYMINING_CONTROL_CENTER_URL: no credentials in the URL (the token comes from FLYMINING_CONTROL_TOKEN_FILE)');
  const caFile = env.FLYMINING_CONTROL_CA_FILE || env.FLYMINING_INFLUX_CA_FILE || undefined;
  return { centerUrl: url.toString().replace(/\/$/, ''), tokenFile, ...(caFile ? { caFile } : {}) };
}

export interface CenterAnswer {
  status: number;
  /** The parsed JSON body, undefined when it was not JSON. */
  body: unknown;
}

/** HTTPS to the center with the edge token: a timeout, the configured CA, and a cap on what an answer may weigh. */
export class CenterLink {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(
    centerUrl: string,
    private readonly token: string,
    private readonly options: { ca?: string; timeoutMs?: number; maxAnswerBytes?: number } = {},
  ) {
    this.base = new URL(centerUrl);
    this.agent = this.base.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 2, ...(options.ca ? { ca: options.ca } : {}) }) : new http.Agent({ keepAlive: true, maxSockets: 2 });
  }

  /** Resolves with any HTTP status; rejects on network, TLS, timeout or an oversized answer (the message names which). */
  call(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<CenterAnswer> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + pathAndQuery, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const limit = this.options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
    const timeoutMs = this.options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/json',
            ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) {
              req.destroy(new Error(`answer larger than ${limit} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      // The whole exchange, not only idle time: an answer that trickles in is cut too.
      const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('close', () => clearTimeout(deadline));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** What the poller needs of the write path (ControlExecutor). */
export interface ActionRunner {
  run(request: ControlRequest): Promise<ActionResult[]>;
}

export interface RemoteControlOptions {
  link: Pick<CenterLink, 'call'>;
  /** The containers this edge serves (empty: every container of its inventory). */
  containers: readonly string[];
  inventory: () => Inventory;
  executor: ActionRunner;
  credentials?: CredentialStore;
  log: Logger;
  intervalMs?: number;
  maxBackoffMs?: number;
  progressEveryMs?: number;
  now?: () => number;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function placeOf(t: ControlTarget): string {
  return [t.container, t.rack, t.shelf, t.slot].filter(Boolean).join('/') || `${t.host}:${t.port}`;
}

export function minerResultOf(r: ActionResult): MinerResult {
  // A compile-time check that every executor outcome is one the center accepts.
  const outcome: RemoteOutcome = r.outcome;
  const ms = (v: number) => Math.min(86_400_000, Math.max(0, Math.round(v)));
  return {
    miner: clip(r.target.id, 200),
    place: clip(placeOf(r.target), 200),
    outcome,
    detail: clip(r.detail, MAX_RESULT_TEXT),
    reply: clip(r.reply, MAX_RESULT_TEXT),
    durationMs: ms(r.durationMs),
    confirmMs: r.confirmMs === undefined ? null : ms(r.confirmMs),
    mode: r.sample?.mode ?? null,
  };
}

function notDone(word: string, outcome: RemoteOutcome, detail: string): MinerResult {
  return { miner: clip(word, 200), place: clip(word, 200), outcome, detail: clip(detail, MAX_RESULT_TEXT), reply: '', durationMs: 0, confirmMs: null, mode: null };
}

/** An error's words for the log, bounded and printable (the center's text included). */
function describe(err: unknown): string {
  // Node's own errors may come from another realm than this module's Error (instanceof is not enough).
  const message = (err as { message?: unknown } | undefined)?.message;
  return boundedText(typeof message === 'string' ? message : String(err), 300);
}

/** The center's refusal in its own words ({error, reason}), bounded. */
function refusalText(answer: CenterAnswer): string {
  const b = answer.body as { error?: unknown; reason?: unknown } | undefined;
  const words = [b?.error, b?.reason].filter((w): w is string => typeof w === 'string').join(': ');
  return `HTTP ${answer.status}${words ? `: ${boundedText(words, 300)}` : ''}`;
}

export class RemoteControl {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private failures = 0;
  private ticking: Promise<void> | undefined;
  private readonly running = new Map<number, Promise<void>>();
  private readonly unsent: Array<{ id: number; body: ResultsBody; since: number }> = [];
  /** Problems already logged, so a poll every 10 s does not repeat the same line. */
  private lastProblem = '';
  private readonly skipped = new Set<string>();
  private readonly intervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => number;

  constructor(private readonly options: RemoteControlOptions) {
    this.intervalMs = options.intervalMs ?? POLL_INTERVAL_MS;
    this.maxBackoffMs = options.maxBackoffMs ?? MAX_BACKOFF_MS;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling; requests already running finish in the background (their results are posted if the process lives). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
  }

  /** Requests being carried out now (tests wait for them). */
  inFlight(): Promise<void> {
    return Promise.all(this.running.values()).then(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.pollOnce()
        .then((ok) => {
          this.failures = ok ? 0 : this.failures + 1;
        })
        .finally(() => this.schedule(this.failures === 0 ? this.intervalMs : Math.min(this.maxBackoffMs, this.intervalMs * 2 ** this.failures)));
    }, delayMs);
    this.timer.unref?.();
  }

  /** One round: unsent results first, then each container's pending requests. True when the center answered well. */
  async pollOnce(): Promise<boolean> {
    try {
      await this.flushUnsent();
      for (const container of this.containers()) {
        const answer = await this.options.link.call('GET', `${CONTROL_EDGE_PREFIX}/pending?container=${encodeURIComponent(container)}`);
        if (answer.status !== 200) {
          this.problem(`fetching ${container}'s control requests from the center: ${refusalText(answer)}`);
          return false;
        }
        const parsed = pendingAnswerSchema.safeParse(answer.body);
        if (!parsed.success) {
          this.problem(`the center's pending answer for ${container} is not a list of requests`);
          return false;
        }
        for (const raw of parsed.data.requests) {
          const request = remoteRequestSchema.safeParse(raw);
          if (!request.success) {
            this.skipOnce(raw, `a request this edge cannot read was skipped (${request.error.issues[0]?.path.join('.') ?? '?'}: ${request.error.issues[0]?.message ?? '?'})`);
            continue;
          }
          if (request.data.container !== container) {
            this.skipOnce(raw, `request #${request.data.id} is for ${request.data.container}, asked for ${container}: skipped`);
            continue;
          }
          if (this.running.has(request.data.id) || this.running.size >= MAX_IN_FLIGHT) continue;
          await this.claimAndRun(request.data);
        }
      }
      if (this.lastProblem) this.options.log.info('control: the center answers again');
      this.lastProblem = '';
      return true;
    } catch (err) {
      this.problem(`control requests: cannot reach the center (${describe(err)})`);
      return false;
    }
  }

  private containers(): string[] {
    if (this.options.containers.length > 0) return [...this.options.containers];
    return this.options.inventory().containers.map((c) => c.name);
  }

  private async claimAndRun(request: RemoteRequest): Promise<void> {
    const answer = await this.options.link.call('POST', `${CONTROL_EDGE_PREFIX}/${request.id}/claim`, {});
    if (answer.status === 409 || answer.status === 410) {
      // Taken, cancelled or expired meanwhile: not ours to run.
      this.options.log.info({ id: request.id }, `control: request #${request.id} not claimed (${refusalText(answer)})`);
      return;
    }
    if (answer.status !== 200) throw new Error(`claiming request #${request.id}: ${refusalText(answer)}`);
    const claimed = claimAnswerSchema.safeParse(answer.body);
    if (!claimed.success || claimed.data.request.id !== request.id) {
      // Claimed at the center, but this edge cannot tell what it holds: act on nothing, say so in the results.
      this.options.log.warn({ id: request.id }, `control: the center's claim answer for #${request.id} is unreadable; nothing done`);
      await this.post(request.id, { results: [notDone(request.targets[0] ?? '?', 'failed', "the edge could not read the center's claim answer: nothing was done")], done: true });
      return;
    }
    const run = this.execute(claimed.data.request)
      .catch((err: unknown) => this.options.log.error({ id: request.id, err: describe(err) }, `control: center request #${request.id} failed on this edge`))
      .finally(() => this.running.delete(request.id));
    this.running.set(request.id, run);
  }

  /** Resolves the words with this edge's inventory, runs the action, posts progress and the final results. */
  private async execute(request: RemoteRequest): Promise<void> {
    const { log } = this.options;
    const before: MinerResult[] = [];
    const targets = new Map<string, ControlTarget>();
    const inventory = this.options.inventory();
    for (const word of request.targets) {
      try {
        for (const target of resolveTargets([word], { inventory, credentials: this.options.credentials })) {
          if (!inventory.miners.has(target.id)) before.push(notDone(word, 'unknown-target', `"${word}" is not a miner of this edge's inventory (${path.basename(inventory.source)})`));
          else if (target.container !== request.container) before.push(notDone(target.id, 'refused', `stands in ${target.container}, and request #${request.id} is for ${request.container}`));
          else targets.set(target.id, target);
        }
      } catch (err) {
        before.push(err instanceof TargetError ? notDone(word, 'unknown-target', err.message) : notDone(word, 'failed', `cannot resolve "${word}": ${describe(err)}`));
      }
    }
    // The zod output is the write path's action, field for field (a compile-time check).
    const action: MinerAction = request.action;
    log.info({ id: request.id, requestedBy: request.requestedBy, miners: targets.size, dryRun: request.dryRun }, `control: carrying out center request #${request.id}`);

    const done: MinerResult[] = [];
    let posted = -1;
    let posting: Promise<void> | undefined;
    const progress = setInterval(() => {
      if (posting || done.length === posted) return;
      const count = done.length;
      posting = this.post(request.id, { results: [...before, ...done], done: false }, false)
        .then(() => {
          posted = count;
        })
        .finally(() => (posting = undefined));
    }, this.options.progressEveryMs ?? PROGRESS_EVERY_MS);
    progress.unref?.();

    let results: MinerResult[];
    try {
      const ran =
        targets.size === 0
          ? []
          : await this.options.executor.run({
              targets: [...targets.values()],
              action,
              actor: { kind: 'staff', name: clip(request.requestedBy, 200) },
              reason: clip(`center request #${request.id}: ${request.reason}`, 600),
              dryRun: request.dryRun,
              onResult: (r) => done.push(minerResultOf(r)),
            });
      results = [...before, ...ran.map(minerResultOf)];
    } catch (err) {
      log.error({ id: request.id, err: describe(err) }, `control: center request #${request.id} stopped with an error`);
      const finished = new Set(done.map((r) => r.miner));
      results = [...before, ...done, ...[...targets.keys()].filter((id) => !finished.has(id)).map((id) => notDone(id, 'failed', `the edge stopped with an error: ${describe(err)}`))];
    } finally {
      clearInterval(progress);
      await posting;
    }
    await this.post(request.id, { results, done: true });
  }

  /** Posts results; a final post that fails is kept and retried each poll. */
  private async post(id: number, body: ResultsBody, keepIfFailed = true): Promise<void> {
    try {
      const answer = await this.options.link.call('POST', `${CONTROL_EDGE_PREFIX}/${id}/results`, body);
      if (answer.status === 200) return;
      // 409/403/404: the center will never take these (the request is no longer this edge's): drop them, say so.
      if (answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429) {
        this.options.log.warn({ id }, `control: the center refused the results of #${id} (${refusalText(answer)})`);
        return;
      }
      throw new Error(refusalText(answer));
    } catch (err) {
      if (!keepIfFailed) return;
      this.options.log.warn({ id }, `control: results of #${id} not delivered (${describe(err)}); retried with the next poll`);
      this.unsent.push({ id, body, since: this.now() });
      if (this.unsent.length > MAX_UNSENT) this.unsent.shift();
    }
  }

  private async flushUnsent(): Promise<void> {
    const waiting = this.unsent.splice(0).filter((u) => this.now() - u.since < UNSENT_KEEP_MS);
    for (const [i, u] of waiting.entries()) {
      const answer = await this.options.link.call('POST', `${CONTROL_EDGE_PREFIX}/${u.id}/results`, u.body).catch((err: unknown) => err as Error);
      if (answer instanceof Error || answer.status >= 500 || answer.status === 408 || answer.status === 429) {
        // Still no center: keep this one and the rest for the next round.
        this.unsent.unshift(...waiting.slice(i));
        if (answer instanceof Error) throw answer;
        return;
      }
      if (answer.status !== 200) this.options.log.warn({ id: u.id }, `control: the center refused the results of #${u.id} (${refusalText(answer)})`);
    }
  }

  private problem(message: string): void {
    if (message !== this.lastProblem) this.options.log.warn(`control: ${message}`);
    this.lastProblem = message;
  }

  private skipOnce(raw: unknown, message: string): void {
    const key = JSON.stringify(raw).slice(0, 500);
    if (this.skipped.has(key)) return;
    if (this.skipped.size > 1000) this.skipped.clear();
    this.skipped.add(key);
    this.options.log.warn(`control: ${message}`);
  }
}

export interface EdgeRemoteControlDeps {
  inventory: () => Inventory;
  containers: readonly string[];
  stateDir: string;
  /** The exporter's InfluxDB store: the audit also goes out as control_action points. */
  store?: { write(lines: readonly string[]): void };
  log: Logger;
  /** The exporter's own executor, when it has one (policies): one history, one set of rate limits. */
  executor?: ActionRunner;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts the poller when FLYMINING_CONTROL_TOKEN_FILE is set (undefined otherwise, or when the file is empty).
 * Throws on settings that are wrong (naming the variable), as the exporter's other settings do.
 */
export function startRemoteControl(deps: EdgeRemoteControlDeps): RemoteControl | undefined {
  const env = deps.env ?? process.env;
  const settings = readRemoteControlSettings(env);
  if (!settings) {
    deps.log.info('control from the center off (no FLYMINING_CONTROL_TOKEN_FILE)');
    return undefined;
  }
  let token: string;
  try {
    token = readFileSync(settings.tokenFile, 'utf8').split(/\r?\n/)[0]?.trim() ?? '';
  } catch (err) {
    throw new RemoteControlSettingsError(`FLYMINING_CONTROL_TOKEN_FILE: cannot read ${settings.tokenFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (token === '') {
    deps.log.info(`control from the center off: ${settings.tokenFile} is empty`);
    return undefined;
  }
  let ca: string | undefined;
  if (settings.caFile) {
    try {
      ca = readFileSync(settings.caFile, 'utf8');
    } catch (err) {
      throw new RemoteControlSettingsError(`FLYMINING_CONTROL_CA_FILE: cannot read ${settings.caFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new RemoteControlSettingsError(`FLYMINING_CONTROL_CA_FILE: ${settings.caFile} holds no PEM certificate`);
  }
  const executor = deps.executor ?? edgeExecutor(deps, env);
  const remote = new RemoteControl({
    link: new CenterLink(settings.centerUrl, token, { ca }),
    containers: deps.containers,
    inventory: deps.inventory,
    executor,
    credentials: new CredentialStore(),
    log: deps.log,
  });
  remote.start();
  deps.log.info({ center: settings.centerUrl }, `control from the center on: polling every ${POLL_INTERVAL_MS / 1000} s`);
  return remote;
}

/** The write path for center requests: the edge's audit file (rate limits survive restarts), the log, InfluxDB. */
function edgeExecutor(deps: EdgeRemoteControlDeps, env: NodeJS.ProcessEnv): ControlExecutor {
  const history = new ActionHistory();
  const auditFile = new AuditFile(env.FLYMINING_CONTROL_AUDIT_FILE || path.join(deps.stateDir, 'control-audit.jsonl'), deps.log);
  auditFile.loadHistory(history);
  return new ControlExecutor({ history, audit: [auditFile, new AuditLog(deps.log), ...(deps.store ? [new AuditPoints(deps.store)] : [])] });
}
