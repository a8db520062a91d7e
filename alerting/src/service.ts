/**
 * The alerting service: one cycle every evaluation_interval (and soon after each fault event on Redis) runs the
 * pipeline relay → evaluate → group → inhibit → silence → dedup → notify. Only the instance holding the Redis lease
 * runs it; the others answer the API from the same Redis state and take over if the leader stops. The relay
 * (src/uplink) brings the edges' fault snapshots from InfluxDB into Redis and judges which edges went silent.
 * With a `maintenance:` section the leader also keeps repair tickets in step and escalates pages (src/tickets).
 */
import { REDIS_KEYS, InfluxStore, loadInventory, openRedis, type Fault, type Inventory, type Logger } from '@flymining/shared';
import Redis from 'ioredis';
import { isQueryRule, requireLinkSigner, type AlertingConfig, type QueryRule } from './config';
import { lowerExpectedDuringWork } from './expected-work';
import { edgeConditions, silenceEndNotes } from './uplink/conditions';
import { UplinkRelay, storedFault, type ActiveFaults, type FaultRelay, type StoredFault } from './uplink/relay';
import { Watchdog } from './watchdog';
import { matcherText } from './matchers';
import { createMetrics, type AlertingMetrics } from './metrics';
import { Dispatcher } from './notify/dispatch';
import type { Notifier } from './notify/notice';
import { createNotifiers } from './notify/registry';
import { decideNotices } from './pipeline/dedup';
import { advance, faultEntryConditions, queryConditions, type Condition } from './pipeline/evaluate';
import { groupAlerts, type AlertGroup } from './pipeline/group';
import { inhibitedFingerprints } from './pipeline/inhibit';
import { placeKey, rootCauseConditions, type PlaceSizes } from './pipeline/root-cause';
import { buildRoute, type Route } from './pipeline/route';
import { silencedFingerprints, type Silence } from './pipeline/silence';
import { AlertState, hashPairs, type Acknowledgement } from './state';
import { TicketLink } from './tickets';
import type { Alert } from './types';

export interface ServiceOptions {
  /** Base of the first retry delay (doubles per failure, at most 5 min). */
  retryBaseMs?: number;
  /** Replaces the notifiers built from the config (benchmarks count notices without sending mail). */
  notifiers?: ReadonlyMap<string, Notifier>;
  /** Replaces the uplink relay built from the config's influx section. */
  relay?: FaultRelay;
}

export interface AlertView extends Alert {
  silencedBy?: string;
  inhibited: boolean;
  /** Its fault is what a now silent edge last reported: shown, not paged. */
  stale: boolean;
}

export interface Health {
  ok: boolean;
  reason?: string;
  leader: boolean;
  lastCycleMs: number;
  /** When this instance last completed an evaluation as lease holder (0: never). */
  lastEvaluationMs: number;
}

export interface Snapshot {
  alerts: AlertView[];
  groups: AlertGroup[];
  acks: Map<string, Acknowledgement>;
}

export class AlertingService {
  readonly state: AlertState;
  readonly metrics: AlertingMetrics = createMetrics();
  readonly route: Route;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly dispatcher: Dispatcher;
  private readonly notifiers: ReadonlyMap<string, Notifier>;
  private readonly influx: InfluxStore | undefined;
  private readonly queryRows = new Map<string, { at: number; rows: Array<Record<string, unknown>> }>();
  private readonly sizes: PlaceSizes | undefined;
  /** Repair tickets and on-call routing (maintenance section); its work runs beside the cycle, one at a time. */
  private readonly tickets: TicketLink | undefined;
  private ticketWork: Promise<void> | undefined;
  /** The leader's copy of the alerts: valid only while it held the lease without a gap (nobody else wrote). */
  private ownAlerts: Map<string, Alert> | undefined;
  /** Parsed faults by their Redis key, reused while the stored JSON is unchanged (saves parsing 50,000 a cycle). */
  private parsedFaults: ActiveFaults = new Map();
  private readonly relay: FaultRelay | undefined;
  private readonly watchdog: Watchdog | undefined;
  /** The alerts of this leader's last evaluation, written back if Redis comes back without its data. */
  private lastAlerts: Map<string, Alert> | undefined;
  private readonly startedAt = Date.now();
  /** Last cycle that completed (any instance), and last evaluation completed as lease holder. */
  lastCycleAt = 0;
  lastEvaluationAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  lastCycleMs = 0;
  isLeader = false;

  constructor(
    readonly config: AlertingConfig,
    private readonly logger: Logger,
    options: ServiceOptions = {},
  ) {
    const links = requireLinkSigner(config); // before any connection: a refused config leaves nothing open
    this.redis = openRedis(config.redis, { maxRetriesPerRequest: 2 });
    this.subscriber = openRedis(config.redis);
    this.watchConnection(this.redis, 'state');
    this.watchConnection(this.subscriber, 'subscriber');
    this.state = new AlertState(this.redis, config.key_prefix);
    this.route = buildRoute(config.route);
    this.notifiers = options.notifiers ?? createNotifiers(config.receivers);
    const ackLink = links && config.external_url ? { baseUrl: config.external_url, signer: links } : undefined;
    this.dispatcher = new Dispatcher(this.state, this.notifiers, this.metrics, logger, ackLink, options.retryBaseMs, (receiver, level, now) =>
      this.tickets ? this.tickets.onCall(receiver, level, now) : Promise.resolve(undefined),
    );
    this.influx = config.influx ? new InfluxStore(config.influx, { spool: false, logger }) : undefined;
    this.relay = options.relay ?? (this.influx ? new UplinkRelay(this.redis, this.influx, config.edges, this.metrics, logger) : undefined);
    this.watchdog = config.watchdog.url ? new Watchdog(config.watchdog, this, this.metrics, logger) : undefined;
    const inventory = config.inventory ? loadInventory(config.inventory) : undefined;
    this.sizes = inventory ? inventorySizes(inventory) : undefined;
    this.tickets = config.maintenance
      ? new TicketLink({
          config: config.maintenance,
          receivers: config.receivers,
          keyPrefix: config.key_prefix,
          redis: this.redis,
          dispatcher: this.dispatcher,
          metrics: this.metrics,
          logger,
          miners: inventory?.miners,
        })
      : undefined;
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(REDIS_KEYS.faultChannel);
    // A fault event wakes the cycle at once: the notice should not wait for the next evaluation tick.
    this.subscriber.on('message', () => this.wake());
    this.timer = setInterval(() => this.wake(), this.config.evaluation_interval);
    this.wake();
    this.watchdog?.start();
  }

  /** One log line when a connection to Redis is lost and one when it is back, not one per reconnect attempt. */
  private watchConnection(client: Redis, role: string): void {
    let down = false;
    client.on('error', (e: Error) => {
      if (role === 'state') this.metrics.redisUp.set(0);
      if (down || this.stopped) return;
      down = true;
      this.logger.error({ redis: role, err: e.message }, 'Redis unreachable: alerting pauses (API answers 503) until it is back');
    });
    client.on('close', () => {
      if (role === 'state') this.metrics.redisUp.set(0);
    });
    client.on('ready', () => {
      if (role === 'state') this.metrics.redisUp.set(1);
      if (!down) return;
      down = false;
      this.logger.warn({ redis: role }, 'Redis reachable again');
      if (role === 'state') this.wake();
    });
  }

  /** Can the API answer from Redis right now? */
  redisReady(): boolean {
    return this.redis.status === 'ready';
  }

  /** Healthy when Redis answers and cycles complete (a leader whose evaluations stall is not healthy). */
  async health(now = Date.now()): Promise<Health> {
    const base = { leader: this.isLeader, lastCycleMs: Math.round(this.lastCycleMs), lastEvaluationMs: this.lastEvaluationAt };
    const unreachable = (why: string): Health => ({ ok: false, reason: `Redis unreachable: ${why}`, ...base });
    if (!this.redisReady()) return unreachable(`connection ${this.redis.status}`);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.redis.ping(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer to PING within 1 s')), 1000)))]);
    } catch (e) {
      return unreachable((e as Error).message);
    } finally {
      clearTimeout(timer);
    }
    const limit = 3 * this.config.evaluation_interval;
    const last = Math.max(this.lastCycleAt, this.startedAt);
    if (now - last > limit) return { ok: false, reason: `no evaluation cycle completed for ${Math.round((now - last) / 1000)} s (limit ${limit / 1000} s)`, ...base };
    if (this.isLeader && now - Math.max(this.lastEvaluationAt, this.startedAt) > limit)
      return { ok: false, reason: `lease holder: last evaluation ${Math.round((now - this.lastEvaluationAt) / 1000)} s ago (limit ${limit / 1000} s)`, ...base };
    return { ok: true, ...base };
  }

  /** Runs a cycle now, or right after the one in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.cycle()
      .catch((e: unknown) => this.logger.error({ err: (e as Error).message }, 'alerting cycle failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.watchdog?.stop();
    await this.running;
    await this.ticketWork;
    await this.dispatcher.idle();
    await this.tickets?.close();
    await this.state.resign().catch(() => undefined);
    this.state.close();
    this.subscriber.disconnect();
    this.redis.disconnect();
    for (const n of this.notifiers.values()) n.close?.();
    await this.influx?.close();
  }

  /** One pass of the pipeline. Returns once notices are handed over (not delivered: see dispatcher.idle). */
  async cycle(now = Date.now()): Promise<void> {
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const wasLeader = this.isLeader;
    this.isLeader = await this.state.lead(Math.max(3 * this.config.evaluation_interval, 10_000));
    this.metrics.leader.set(this.isLeader ? 1 : 0);
    if (!this.isLeader || !wasLeader) this.ownAlerts = undefined;
    if (!this.isLeader) {
      this.lastAlerts = undefined;
      this.lastCycleAt = Date.now();
      return;
    }
    if (!(await this.state.intact()) && this.lastAlerts) {
      // Redis came back empty (no persistence): what this leader knew goes back, so nothing is paged twice.
      const restored = await this.state.restore(this.lastAlerts);
      this.metrics.stateRestored.inc();
      this.logger.warn(restored, 'Redis lost the alerting state (restarted empty?): alerts and notification log written back from memory');
    }
    if (!wasLeader) this.relay?.forget();
    this.state.openWriter();
    // Every read at once: ioredis pipelines them on the one connection (one round trip, not six in a row).
    const [active, previous, silences, log, retries, acks] = await Promise.all([
      this.activeFaults(),
      this.ownAlerts ?? this.state.alerts(),
      this.state.silences(),
      this.state.notifyLog(),
      this.state.retries(),
      this.state.acks(),
    ]);
    const edges = this.relay ? await this.relay.run(now, active) : undefined;
    const faults: Fault[] = [];
    for (const f of active.values()) faults.push(f.fault);
    await this.runDueQueries(now);

    // evaluate
    const conditions = faultEntryConditions(active.values(), this.config.rules);
    rootCauseConditions(faults, this.config.root_causes, this.sizes, conditions);
    if (edges) edgeConditions(edges.statuses, this.config.edges, conditions);
    this.addQueryConditions(previous, now, conditions);
    await lowerExpectedDuringWork(conditions, previous, { windows: [...silences, ...this.configuredWindows()], tickets: this.tickets?.tickets, logger: this.logger }, now);
    const keepFor = new Map(this.config.rules.map((r) => [r.name, r.keep_firing_for]));
    const notes = edges ? silenceEndNotes(edges.statuses) : undefined;
    const result = advance(previous, conditions, now, this.config.resolved_retention, (a) => keepFor.get(a.labels.alertname ?? '') ?? 0, notes);
    this.ownAlerts = undefined; // if the write fails, the next cycle reads Redis again
    this.lastAlerts = result.alerts;
    // Redis stores the alerts while this process arranges them; nothing is sent before the write has succeeded.
    // When every alert is rewritten (a new lease holder's first cycle) the write replaces the hash as a whole.
    const saving = this.state.saveAlerts(result.changed, result.deleted, result.changed.length === result.alerts.size);
    saving.catch(() => undefined); // awaited below; this only keeps a failure while arranging from going unhandled

    // inhibit, silence, group, dedup, notify
    const { groups, held, muted } = this.arrange(result.alerts.values(), silences, now);
    const { notices, forget } = decideNotices({ groups, held, receivers: new Map(this.config.receivers.map((r) => [r.name, r])), log, retries, acks, now });
    await saving;
    this.ownAlerts = result.alerts;
    for (const key of forget) await this.state.recordSent(key, undefined);
    // An acknowledgement lasts while its group exists, silenced or not.
    const groupIds = new Set([...groups.values(), ...held.values()].map((g) => g.id));
    await this.state.forgetAcks([...acks.keys()].filter((id) => !groupIds.has(id)));
    void this.dispatcher.dispatch(notices, now);
    // Tickets follow every firing alert; PostgreSQL's pace (or absence) must not hold up the next cycle.
    if (this.tickets && !this.ticketWork) {
      this.ticketWork = this.tickets.afterCycle({ alerts: result.alerts.values(), groups, held, log, acks, now }).finally(() => (this.ticketWork = undefined));
    }

    let firing = 0;
    for (const a of result.alerts.values()) if (a.state === 'firing') firing += 1;
    this.metrics.alerts.set({ state: 'firing' }, firing);
    this.metrics.alerts.set({ state: 'muted' }, muted);
    this.metrics.alerts.set({ state: 'total' }, result.alerts.size);
    this.metrics.retriesPending.set(retries.size);
    this.lastCycleMs = performance.now() - started;
    this.metrics.cycleSeconds.observe(this.lastCycleMs / 1000);
    // The first evaluation of a new lease holder reads and writes every alert: its cost shows at scale and takeover.
    const cpu = process.cpuUsage(cpuAtStart);
    const timing = { alerts: result.alerts.size, written: result.changed.length, ms: Math.round(this.lastCycleMs), cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
    if (wasLeader) this.logger.debug(timing, 'evaluation');
    else this.logger.info(timing, 'first evaluation as lease holder');
    this.lastCycleAt = this.lastEvaluationAt = Date.now();
    this.metrics.lastEvaluation.set(this.lastEvaluationAt / 1000);
  }

  /** Waits until every notice started so far has been delivered or has failed. */
  async idle(): Promise<void> {
    await this.running;
    await this.ticketWork;
    await this.dispatcher.idle();
  }

  /**
   * An acknowledgement's part in the maintenance database: the group's live tickets acknowledged by `by`, its
   * escalation ended. The ticket ids; undefined without a maintenance section or while PostgreSQL fails.
   */
  async acknowledgeTickets(groupKey: string, by: string): Promise<number[] | undefined> {
    return this.tickets?.acknowledgeGroup(groupKey, by);
  }

  /** Every alert with why it is muted, and the groups notices are made of: what the API shows. */
  async snapshot(now = Date.now()): Promise<Snapshot> {
    const [alerts, silences, acks] = await Promise.all([this.state.alerts(), this.state.silences(), this.state.acks()]);
    const { groups, silenced, inhibited } = this.arrange(alerts.values(), silences, now);
    const views: AlertView[] = [...alerts.values()].map((a) => ({
      ...a,
      silencedBy: silenced.get(a.fingerprint),
      inhibited: inhibited.has(a.fingerprint),
      stale: isStale(a),
    }));
    return { alerts: views, groups: [...groups.values()], acks };
  }

  private arrange(alerts: Iterable<Alert>, stored: readonly Silence[], now: number) {
    const all = [...alerts];
    const inhibited = inhibitedFingerprints(all, this.config.inhibit_rules);
    const silenced = silencedFingerprints(all, [...stored, ...this.configuredWindows()], now);
    // Stale and silenced alerts are not paged; their groups are held so what was told stays told (the notification
    // log keeps them): a silence that ends over an unchanged group re-sends nothing, as in Alertmanager.
    const held: Alert[] = [];
    const visible: Alert[] = [];
    for (const a of all) {
      const muted = isStale(a) || silenced.has(a.fingerprint);
      if (muted) held.push(a);
      else if (!inhibited.has(a.fingerprint)) visible.push(a);
    }
    return { groups: groupAlerts(visible, this.route), held: groupAlerts(held, this.route), silenced, inhibited, muted: all.length - visible.length };
  }

  private configuredWindows(): Silence[] {
    return this.config.maintenance_windows.map((w) => ({
      id: `config:${w.name}`,
      matchers: w.matchers.map(matcherText),
      comment: w.name,
      createdBy: 'alerting.yaml',
      createdAt: 0,
      startsAt: 0,
      endsAt: Number.MAX_SAFE_INTEGER,
      schedule: w.schedule,
    }));
  }

  /** The active-fault hash, parsed (unchanged entries reuse last cycle's objects). The relay updates this copy. */
  private async activeFaults(): Promise<ActiveFaults> {
    const raw = await hashPairs(this.redis, REDIS_KEYS.activeFaults);
    const parsed: ActiveFaults = new Map<string, StoredFault>();
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i]!;
      const value = raw[i + 1]!;
      const known = this.parsedFaults.get(key);
      if (known && known.raw === value) {
        parsed.set(key, known);
        continue;
      }
      try {
        const f = JSON.parse(value) as Fault;
        if (f && typeof f.code === 'string' && f.location && typeof f.minerId === 'string') parsed.set(key, storedFault(value, f));
      } catch {
        /* a corrupt entry: skipped, the relay (or the exporter) rewrites it */
      }
    }
    this.parsedFaults = parsed;
    return parsed;
  }

  private async runDueQueries(now: number): Promise<void> {
    if (!this.influx) return;
    const due = this.config.rules.filter(isQueryRule).filter((r) => now - (this.queryRows.get(r.name)?.at ?? -Infinity) >= r.interval);
    await Promise.all(
      due.map(async (rule: QueryRule) => {
        try {
          this.queryRows.set(rule.name, { at: now, rows: await this.influx!.queryRows(rule.query) });
        } catch (e) {
          // A failed query is not "all clear": the rule's alerts keep their state until a query answers again.
          this.metrics.queryErrors.inc({ rule: rule.name });
          this.logger.warn({ rule: rule.name, err: (e as Error).message }, 'query rule failed; its alerts keep their state');
          const last = this.queryRows.get(rule.name);
          this.queryRows.set(rule.name, { at: now, rows: last?.rows ?? [] });
        }
      }),
    );
  }

  private addQueryConditions(previous: ReadonlyMap<string, Alert>, now: number, into: Map<string, Condition>): void {
    for (const rule of this.config.rules.filter(isQueryRule)) {
      const result = this.queryRows.get(rule.name);
      if (result) queryConditions(rule, result.rows, previous, now, into);
    }
  }
}

function isStale(a: Alert): boolean {
  return a.state === 'firing' && a.annotations.stale !== undefined;
}

function inventorySizes(inventory: Inventory): PlaceSizes {
  const sizes = new Map<string, number>();
  for (const m of inventory.miners.values()) {
    const { site, container, rack } = m.location;
    for (const key of [placeKey(site, container), placeKey(site, container, rack)]) sizes.set(key, (sizes.get(key) ?? 0) + 1);
  }
  return sizes;
}
