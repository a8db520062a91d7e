/**
 * The write path's common half (issue 14): takes one action for many miners and, for each one, reads it (which
 * backend, which model, which state), checks the family's capabilities, the rate limits and the staggering of its
 * container, sends the action through the family module, confirms it by reading again, and audits the outcome.
 *
 * Staggering is per container because a container is one electrical feed: 300 miners rebooting in the same second is
 * a PSU inrush on one breaker. Containers proceed in parallel. Confirmation runs outside the container's slot, so
 * a slow wake does not hold the next miner's turn.
 */
import { DEFAULT_PROTOCOL_PORTS, type FirmwareFamily, type MinerProtocol, type MinerSample } from '@flymining/shared';
import { backendId, protocolOf } from '../backends/types';
import { credentialsFor, type CredentialSource } from '../credentials';
import { scrapeMiner, type ScrapeOptions, type ScrapeResult } from '../scrape';
import { MinerConnectionError } from '../transports/cgminer-tcp';
import type { ActionHistory } from './history';
import { CONTROL_TRANSPORT, openControlLink } from './link';
import { controlBackendFor } from './registry';
import { ControlError, describeAction, expectedMode, refusalFor, type ControlBackend, type MinerAction } from './types';

export interface ControlTarget {
  /** Inventory id, or the address when the miner is not listed. */
  id: string;
  site: string;
  /** Staggering and per-container limits group by this; '' for a miner outside any container. */
  container: string;
  rack?: string;
  shelf?: string;
  slot?: string;
  host: string;
  port: number;
  protocol?: MinerProtocol;
  backend?: string;
  firmware?: FirmwareFamily;
  credentials?: CredentialSource;
  /** Ports of the other protocols when not the defaults (a unit read on 4028 and written through its web CGI). */
  ports?: Partial<Record<MinerProtocol, number>>;
  /** Staff opted this miner out of a policy (curtailment, temperature loop); manual actions still apply. */
  optOut?: readonly string[];
}

/** Who acted: a staff user (CLI, staff page, API) or a policy (`recovery`, `temperature`, `curtailment`). */
export interface ControlActor {
  kind: 'staff' | 'policy';
  name: string;
}

export const ACTION_OUTCOMES = ['confirmed', 'sent', 'unconfirmed', 'refused', 'rate-limited', 'failed', 'unreachable', 'dry-run'] as const;
export type ActionOutcome = (typeof ACTION_OUTCOMES)[number];

/** One miner's result of one action: what the audit records and the CLI's table shows. */
export interface ActionResult {
  time: number;
  target: ControlTarget;
  action: MinerAction;
  actor: ControlActor;
  reason: string;
  outcome: ActionOutcome;
  /** Why, in words: the refusal, the error, what the confirming read showed. */
  detail: string;
  /** The firmware's reply to the write, bounded and printable. */
  reply: string;
  /** From taking the miner's turn to the write's answer. */
  durationMs: number;
  /** From the write's answer to the confirming read (undefined when not confirmed). */
  confirmMs?: number;
  /** The state the confirming read showed (for a follow-up decision: the loop's next step). */
  sample?: MinerSample;
}

export interface StaggerSettings {
  /** Writes in flight at once per container. */
  maxConcurrentPerContainer: number;
  /** Least time between two writes starting in one container. */
  minSpacingMs: number;
}

export interface RateLimits {
  /** Actions (any kind) a miner may take in a rolling hour. */
  perMinerPerHour: number;
  /** Least time between two reboots of one miner. */
  rebootSpacingMs: number;
  /** Actions a container may take in a rolling 10 minutes (a runaway policy or script stops here). */
  perContainerPer10Min: number;
}

export interface ConfirmSettings {
  /** Wait for the read that shows the result; false = report `sent` at once. */
  wait: boolean;
  /** Give up (outcome `unconfirmed`) after this long. */
  timeoutMs: number;
  /** Between confirming reads. */
  intervalMs: number;
}

export const DEFAULT_STAGGER: StaggerSettings = { maxConcurrentPerContainer: 10, minSpacingMs: 200 };
export const DEFAULT_LIMITS: RateLimits = { perMinerPerHour: 12, rebootSpacingMs: 10 * 60_000, perContainerPer10Min: 1000 };
/** A wake includes the boards' re-initialization: up to a few minutes on real units. */
export const DEFAULT_CONFIRM: ConfirmSettings = { wait: true, timeoutMs: 180_000, intervalMs: 2000 };

/** Where outcomes go: the audit file, InfluxDB (`control_action`), the log. Each sink must not throw. */
export interface AuditSink {
  record(result: ActionResult): void | Promise<void>;
}

export interface ExecutorOptions {
  history: ActionHistory;
  audit: readonly AuditSink[];
  stagger?: Partial<StaggerSettings>;
  limits?: Partial<RateLimits>;
  confirm?: Partial<ConfirmSettings>;
  /** Read settings for the reads before and after (session tokens are shared with the writes). */
  scrape?: ScrapeOptions;
  /** Family lookup (tests may pass their own list). */
  backendFor?: (readBackendId: string) => ControlBackend | undefined;
  /** Reads (before and after writes) in flight at once across all containers. */
  maxConcurrentReads?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A miner's newest read: the sample and the read backend that produced it. */
export interface KnownRead {
  sample: MinerSample;
  backendId: string;
  protocol: MinerProtocol;
}

/** How old a known read may be to stand in for the read before acting (a sweep interval, with room). */
export const KNOWN_READ_MAX_AGE_MS = 60_000;

export interface ControlRequest {
  targets: readonly ControlTarget[];
  action: MinerAction;
  actor: ControlActor;
  reason?: string;
  dryRun?: boolean;
  /**
   * Reads taken moments ago by id (the exporter's sweep, for its policies): used instead of reading again before
   * acting when at most KNOWN_READ_MAX_AGE_MS old. The confirmation always reads afresh.
   */
  knownReads?: ReadonlyMap<string, KnownRead>;
  /** Called as each miner finishes (CLI progress, staff page). */
  onResult?: (result: ActionResult, done: number, total: number) => void;
}

/** Bounded, printable text of a firmware's reply or error (control characters escaped). */
export function boundedText(text: string, max = 300): string {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Per-container turn-taking: at most N writes in flight, starts at least M ms apart. */
class ContainerTurns {
  private inFlight = 0;
  private nextStartMs = 0;
  private readonly waiting: Array<() => void> = [];
  peak = 0;

  constructor(
    private readonly settings: StaggerSettings,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async take(): Promise<void> {
    if (this.inFlight >= this.settings.maxConcurrentPerContainer) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    // Reserve the start time before waiting for it, so concurrent takers line up one spacing apart.
    const now = this.now();
    const start = Math.max(now, this.nextStartMs);
    this.nextStartMs = start + this.settings.minSpacingMs;
    if (start > now) await this.sleep(start - now);
    this.peak = Math.max(this.peak, this.inFlight);
  }

  give(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }
}

export class ControlExecutor {
  private readonly stagger: StaggerSettings;
  private readonly limits: RateLimits;
  private readonly confirm: ConfirmSettings;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly backendFor: (id: string) => ControlBackend | undefined;
  private readonly sessions: Map<string, string>;
  private readonly turns = new Map<string, ContainerTurns>();
  /** Reads before and after writes, all containers together: bounded so 5,000 targets do not open 5,000 sockets. */
  private readonly reads: ContainerTurns;

  constructor(private readonly options: ExecutorOptions) {
    this.stagger = { ...DEFAULT_STAGGER, ...options.stagger };
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.confirm = { ...DEFAULT_CONFIRM, ...options.confirm };
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.backendFor = options.backendFor ?? controlBackendFor;
    this.sessions = options.scrape?.sessions ?? new Map();
    if (this.stagger.maxConcurrentPerContainer < 1) throw new Error('stagger: maxConcurrentPerContainer must be at least 1');
    this.reads = new ContainerTurns({ maxConcurrentPerContainer: options.maxConcurrentReads ?? 64, minSpacingMs: 0 }, this.now, this.sleep);
  }

  /** The most writes that were in flight at once in one container since this executor started. */
  peakConcurrency(container?: string): number {
    if (container !== undefined) return this.turns.get(container)?.peak ?? 0;
    return Math.max(0, ...[...this.turns.values()].map((t) => t.peak));
  }

  /** Runs the action on every target; resolves with one result per target, in the targets' order. */
  async run(request: ControlRequest): Promise<ActionResult[]> {
    const total = request.targets.length;
    let done = 0;
    return Promise.all(
      request.targets.map(async (target) => {
        const result = await this.runOne(target, request);
        await this.audit(result);
        request.onResult?.(result, ++done, total);
        return result;
      }),
    );
  }

  private turnsOf(container: string): ContainerTurns {
    let turns = this.turns.get(container);
    if (!turns) {
      turns = new ContainerTurns(this.stagger, this.now, this.sleep);
      this.turns.set(container, turns);
    }
    return turns;
  }

  private async audit(result: ActionResult): Promise<void> {
    for (const sink of this.options.audit) {
      try {
        await sink.record(result);
      } catch {
        // A sink reports its own failures (the file sink logs them); one failing sink must not stop the others.
      }
    }
  }

  private async runOne(target: ControlTarget, request: ControlRequest): Promise<ActionResult> {
    const { action, actor } = request;
    const base = { target, action, actor, reason: request.reason ?? '', reply: '' };
    const result = (outcome: ActionOutcome, detail: string, extra: Partial<ActionResult> = {}): ActionResult => ({
      ...base,
      time: this.now(),
      outcome,
      detail,
      durationMs: 0,
      ...extra,
    });

    const limited = request.dryRun ? undefined : this.rateLimit(target, action);
    if (limited) return result('rate-limited', limited);

    // Reading is harmless and bounded on its own; only the write waits for the container's turn, so the spacing is
    // between writes reaching miners, whatever each read took.
    // A read this fresh (the exporter's own sweep, for the policies) stands in for the read before acting.
    const known = request.knownReads?.get(target.id);
    const fresh = known && this.now() - known.sample.time <= KNOWN_READ_MAX_AGE_MS ? known : undefined;
    const before: ScrapeResult | undefined = fresh ? undefined : await this.read(target);
    if (before && !before.ok) return result('unreachable', `cannot read the miner before acting: ${before.failure.kind}: ${before.failure.message}`);
    const sample: MinerSample = fresh ? fresh.sample : (before as Extract<ScrapeResult, { ok: true }>).sample;
    const readId = fresh ? fresh.backendId : backendId((before as Extract<ScrapeResult, { ok: true }>).dialect);
    const readProtocol = sample.protocol ?? (fresh ? fresh.protocol : protocolOf((before as Extract<ScrapeResult, { ok: true }>).dialect));
    const backend = this.backendFor(readId);
    if (!backend) return result('refused', `no write path for firmware backend "${readId}"`);
    const refusal = refusalFor(action, backend.capabilities(sample));
    if (refusal) return result('refused', `${sample.model ?? readId}: ${refusal}`);
    if (request.dryRun) return result('dry-run', `would ${describeAction(action)} (${sample.model ?? readId}, now ${sample.mode})`);

    const turns = this.turnsOf(target.container);
    await turns.take();
    const t0 = this.now();
    let reply: string;
    let settleMs = 0;
    try {
      const protocol = backend.writeProtocol ?? readProtocol;
      const port = protocol === readProtocol ? target.port : (target.ports?.[protocol] ?? DEFAULT_PROTOCOL_PORTS[protocol]);
      const link = openControlLink(protocol, target.host, port, {
        credentials: credentialsFor(target.credentials, protocol),
        sessions: this.sessions,
        transport: CONTROL_TRANSPORT,
      });
      this.options.history.record({ time: this.now(), minerId: target.id, container: target.container, action: action.kind, actor: `${actor.kind}:${actor.name}` });
      const answer = await backend.execute(action, link, sample);
      reply = boundedText(answer.reply);
      settleMs = answer.settleMs ?? 0;
    } catch (err) {
      const durationMs = this.now() - t0;
      if (err instanceof ControlError) return result(err.kind === 'failed' ? 'failed' : 'refused', boundedText(err.message), { durationMs });
      if (err instanceof MinerConnectionError) {
        const outcome = err.kind === 'auth' ? 'refused' : 'failed';
        return result(outcome, boundedText(err.message), { durationMs, reply: boundedText(err.replyText ?? '') });
      }
      return result('failed', boundedText(err instanceof Error ? `${err.name}: ${err.message}` : String(err)), { durationMs });
    } finally {
      turns.give();
    }
    const durationMs = this.now() - t0;
    const sent = { durationMs, reply };
    if (!this.confirm.wait || !confirmable(action)) return result('sent', `${describeAction(action)} accepted`, sent);
    return this.confirmAction(target, action, sample, settleMs, result, sent);
  }

  /** Reads until the miner shows the action's effect, or the confirmation times out. */
  private async confirmAction(
    target: ControlTarget,
    action: MinerAction,
    before: MinerSample,
    settleMs: number,
    result: (outcome: ActionOutcome, detail: string, extra?: Partial<ActionResult>) => ActionResult,
    sent: { durationMs: number; reply: string },
  ): Promise<ActionResult> {
    const t1 = this.now();
    if (settleMs > 0) await this.sleep(Math.min(settleMs, this.confirm.timeoutMs));
    let last = 'no read yet';
    for (;;) {
      const read = await this.read(target);
      if (read.ok) {
        const verdict = judge(action, before, read.sample);
        if (verdict.unverifiable) return result('sent', `${describeAction(action)} accepted; ${verdict.detail}`, { ...sent, sample: read.sample });
        if (verdict.ok) return result('confirmed', verdict.detail, { ...sent, confirmMs: this.now() - t1, sample: read.sample });
        last = verdict.detail;
      } else {
        last = `no answer (${read.failure.kind})`;
      }
      if (this.now() - t1 + this.confirm.intervalMs > this.confirm.timeoutMs) break;
      await this.sleep(this.confirm.intervalMs);
    }
    return result('unconfirmed', `accepted, but after ${Math.round((this.now() - t1) / 1000)} s the miner shows ${last}`, sent);
  }

  /** One read of the miner, waiting for a free read slot. */
  private async read(target: ControlTarget): Promise<ScrapeResult> {
    await this.reads.take();
    try {
      return await scrapeMiner(
        { host: target.host, port: target.port, protocol: target.protocol, backend: target.backend, firmware: target.firmware, credentials: target.credentials, ports: target.ports },
        { ...this.options.scrape, sessions: this.sessions },
      );
    } finally {
      this.reads.give();
    }
  }

  /** Why the limits refuse this action now, or undefined. */
  private rateLimit(target: ControlTarget, action: MinerAction): string | undefined {
    const now = this.now();
    const h = this.options.history;
    const perMiner = h.count({ minerId: target.id, sinceMs: now - 3600_000 });
    if (perMiner >= this.limits.perMinerPerHour) return `${target.id} took ${perMiner} actions in the last hour (limit ${this.limits.perMinerPerHour})`;
    if (action.kind === 'reboot') {
      const last = h.last({ minerId: target.id, action: 'reboot' });
      if (last !== undefined && now - last.time < this.limits.rebootSpacingMs) {
        return `${target.id} was rebooted ${Math.round((now - last.time) / 1000)} s ago; the next reboot is allowed in ${Math.ceil((this.limits.rebootSpacingMs - (now - last.time)) / 1000)} s`;
      }
    }
    if (target.container) {
      const perContainer = h.count({ container: target.container, sinceMs: now - 600_000 });
      if (perContainer >= this.limits.perContainerPer10Min) return `container ${target.container} took ${perContainer} actions in 10 min (limit ${this.limits.perContainerPer10Min})`;
    }
    return undefined;
  }
}

/** A pool URL as reads compare: without the scheme (ePIC shows none) and in lower case. */
function poolKey(url: string): string {
  return url.replace(/^[a-z0-9+.-]+:\/\//i, '').toLowerCase();
}

/** Actions a read can show. Blink has no read-back on most firmware: it is `sent`. */
function confirmable(action: MinerAction): boolean {
  return action.kind !== 'blink';
}

/**
 * Whether a read shows the action's effect, in words either way. `unverifiable` when this API's read does not report
 * what the action changed (VNish and the Antminer web CGI read no pools; some firmware reports no work mode): the
 * outcome is then `sent`, never a confirmation the read could not give.
 */
export function judge(action: MinerAction, before: MinerSample, after: MinerSample): { ok: boolean; detail: string; unverifiable?: boolean } {
  const mode = expectedMode(action);
  if (mode !== undefined) {
    if (after.mode === mode) return { ok: true, detail: `now ${after.mode}` };
    return { ok: false, detail: after.mode === 'booting' && mode === 'hashing' ? 'booting (waking up)' : `mode ${after.mode}` };
  }
  switch (action.kind) {
    case 'reboot': {
      const restarted = after.uptimeS !== undefined && before.uptimeS !== undefined && after.uptimeS < before.uptimeS;
      return restarted ? { ok: true, detail: `restarted, up ${after.uptimeS} s, ${after.mode}` } : { ok: false, detail: `uptime ${after.uptimeS ?? '?'} s (not restarted yet)` };
    }
    case 'power': {
      const t = action.target;
      if (after.powerTargetW === undefined && after.workMode === undefined) return { ok: false, unverifiable: true, detail: 'its read reports no power target or work mode' };
      if ('watts' in t) {
        // Firmware with power profiles (LuxOS) lands on the nearest one: within 10 % of the asked target is it.
        const set = after.powerTargetW;
        if (set === undefined) {
          // Profile firmware (LuxOS) reports the profile it runs, not its watts: a changed profile is the evidence.
          if (after.workMode !== undefined && after.workMode !== before.workMode) return { ok: true, detail: `now on profile ${after.workMode}, drawing ${after.powerW ?? '?'} W` };
          return { ok: false, unverifiable: true, detail: `its read reports no power target (work mode ${after.workMode ?? 'not reported'})` };
        }
        if (set !== undefined && Math.abs(set - t.watts) <= t.watts * 0.1) {
          return { ok: true, detail: `power target ${set} W${set === t.watts ? '' : ` (the nearest the firmware has to ${t.watts} W)`}, drawing ${after.powerW ?? '?'} W` };
        }
        return { ok: false, detail: `power target ${set ?? 'not reported'}` };
      }
      if (after.workMode === t.mode) return { ok: true, detail: `work mode ${t.mode}, drawing ${after.powerW ?? '?'} W` };
      return { ok: false, detail: `work mode ${after.workMode ?? 'not reported'}` };
    }
    case 'pools': {
      if (after.unreported?.includes('pools')) return { ok: false, unverifiable: true, detail: 'its read reports no pools' };
      const urls = after.pools.map((p) => poolKey(p.url));
      const wanted = action.pools.map((p) => poolKey(p.url));
      // Some reads show only the pool in use (ePIC): then the first of the new list must be it.
      const shown = urls.length === 1 && wanted.length > 1 ? wanted.slice(0, 1) : wanted;
      const ok = shown.every((url, i) => urls[i] === url);
      return { ok, detail: ok ? `pools ${action.pools.map((p) => p.url).join(' ')}${shown.length < wanted.length ? ' (its read shows the first only)' : ''}` : `pools ${after.pools.map((p) => p.url).join(' ') || 'none'}` };
    }
    case 'switch-pool': {
      if (after.unreported?.includes('pools')) return { ok: false, unverifiable: true, detail: 'its read reports no pools' };
      const active = after.pools.findIndex((p) => p.active);
      return active === action.index ? { ok: true, detail: `mining on pool ${active} (${after.pools[active]?.url ?? '?'})` } : { ok: false, detail: `active pool ${active}` };
    }
    default:
      return { ok: true, detail: 'accepted' };
  }
}
