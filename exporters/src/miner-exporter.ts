/**
 * The miner exporter: for each sweep, scrape every miner of the inventory, then send what was learned one way
 * through the sinks: samples → InfluxDB (through the store's batching and spool), health → fault transitions →
 * InfluxDB and Redis. One instance runs per container (or per farm): it keeps no state that a restart must keep,
 * except what Redis and the spool already hold.
 */
import {
  encodePoints,
  faultKey,
  faultPoint,
  samplePoints,
  upPoint,
  type FaultEvent,
  type InventoryHolder,
  type Logger,
  type MinerSpec,
  type SchemaPoint,
  type Severity,
} from '@flymining/shared';
import type { Redis } from 'ioredis';
import { HealthTracker } from './health';
import { ExporterMetrics, type StoreCounters } from './metrics';
import { scrapeMiner, type ScrapeResult } from './miner/scrape';
import type { Dialect } from './miner/dialects/types';
import type { TransportOptions } from './miner/tcp-client';
import { ScrapeScheduler, type SweepReport } from './scheduler';
import { RedisFaultPublisher } from './sinks/redis-faults';

/** What the exporter needs of the storage layer (InfluxStore satisfies it). */
export interface PointSink {
  write(lines: string[]): void;
  stats(): StoreCounters;
}

export interface MinerExporterOptions {
  /** Name of this exporter instance, e.g. the container it runs in. */
  name: string;
  intervalMs: number;
  jitterMs: number;
  concurrency: number;
  transport?: TransportOptions;
  /** Restrict to miners of these containers (one exporter per container); all when empty. */
  containers?: string[];
}

export class MinerExporter {
  readonly metrics: ExporterMetrics;
  readonly health: HealthTracker;
  private readonly scheduler: ScrapeScheduler<MinerSpec>;
  private readonly dialects = new Map<string, Dialect>();
  private readonly publisher: RedisFaultPublisher | undefined;
  private reconciled = false;
  private reachableThisSweep = 0;
  lastSweep: SweepReport | undefined;

  constructor(
    private readonly inventory: InventoryHolder,
    private readonly sink: PointSink,
    private readonly options: MinerExporterOptions,
    private readonly log: Logger,
    redis?: Redis,
  ) {
    this.metrics = new ExporterMetrics(() => sink.stats());
    this.health = new HealthTracker(options.name);
    this.publisher = redis ? new RedisFaultPublisher(redis, options.name) : undefined;
    this.scheduler = new ScrapeScheduler<MinerSpec>({
      intervalMs: options.intervalMs,
      jitterMs: options.jitterMs,
      concurrency: options.concurrency,
      targets: () => this.miners(),
      key: (m) => m.id,
      scrape: async (m) => {
        await this.scrapeOne(m);
      },
      onError: (m, err) => this.log.error({ miner: m.id, err }, 'scrape pipeline failed'),
      onSweep: (r) => this.afterSweep(r),
    });
  }

  miners(): MinerSpec[] {
    const wanted = this.options.containers?.length ? new Set(this.options.containers) : undefined;
    const all = [...this.inventory.current.miners.values()];
    return wanted ? all.filter((m) => wanted.has(m.location.container)) : all;
  }

  /** Scrape one miner and push everything it yields into the sinks. */
  async scrapeOne(spec: MinerSpec): Promise<ScrapeResult> {
    const result = await scrapeMiner(
      { host: spec.host, port: spec.port, firmware: spec.firmware },
      {
        transport: this.options.transport,
        dialectCache: this.dialects,
        onBadReply: (e) => {
          this.metrics.badReplies.inc();
          this.log.warn({ miner: spec.id, endpoint: e.endpoint, command: e.command }, `bad reply: ${e.problem}`);
        },
      },
    );
    const seconds = result.durationMs / 1000;
    let points: SchemaPoint[];
    let events: FaultEvent[];
    if (result.ok) {
      this.reachableThisSweep++;
      this.metrics.scrapeDuration.observe({ result: 'ok' }, seconds);
      points = samplePoints(result.sample, spec, result.durationMs);
      events = this.health.update(spec, result.sample, result.sample.time);
    } else {
      this.metrics.scrapeDuration.observe({ result: 'failed' }, seconds);
      this.metrics.scrapeErrors.inc({ kind: result.failure.kind });
      const now = Date.now();
      points = [upPoint(spec, now, result.durationMs, false, result.failure.kind)];
      events = this.health.update(spec, result.failure, now);
    }
    const announced = await this.announce(events);
    for (const e of announced) points.push(faultPoint(e.fault, e.type === 'raised', e.at));
    this.sink.write(encodePoints(points));
    return result;
  }

  /** Publishes transitions; returns those that are news (Redis de-duplicates across restarts and instances). */
  private async announce(events: FaultEvent[]): Promise<FaultEvent[]> {
    if (events.length === 0) return events;
    let announced = events;
    if (this.publisher) {
      try {
        announced = await this.publisher.publish(events);
      } catch (err) {
        // Redis down: InfluxDB still gets the transitions; alerting catches up from the hash later.
        this.log.error({ err }, 'cannot publish faults to Redis');
      }
    }
    for (const e of announced) this.metrics.faultEvents.inc({ type: e.type });
    return announced;
  }

  private afterSweep(report: SweepReport): void {
    this.lastSweep = report;
    this.forgetRemovedMiners();
    this.metrics.sweepDuration.set(report.durationMs / 1000);
    this.metrics.sweepOverruns.inc(report.overruns);
    const reachable = this.reachableThisSweep;
    this.metrics.minersUp.set(reachable);
    this.reachableThisSweep = 0;
    const bySeverity: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
    for (const f of this.health.activeFaults()) bySeverity[f.severity]++;
    for (const [severity, n] of Object.entries(bySeverity)) this.metrics.activeFaults.set({ severity }, n);
    const stats = this.sink.stats();
    this.sink.write(
      encodePoints([
        {
          measurement: 'exporter',
          tags: { site: this.inventory.current.site, exporter: this.options.name },
          fields: {
            miners: report.scraped,
            reachable,
            sweep_ms: report.durationMs,
            overrun: report.overruns,
            points_spooled: stats.spooled,
            points_dropped: stats.dropped,
          },
          time: report.startedAt,
        },
      ]),
    );
    if (!this.reconciled && this.publisher) {
      this.reconciled = true;
      const ids = new Set(this.miners().map((m) => m.id));
      const active = new Set(this.health.activeFaults().map(faultKey));
      this.publisher
        .reconcile(ids, active, Date.now())
        .then((cleared) => cleared.length && this.log.info({ cleared: cleared.length }, 'cleared stale faults left from before'))
        .catch((err) => this.log.error({ err }, 'fault reconciliation failed'));
    }
  }

  /** Miners taken out of the inventory: clear their faults once, so alerting does not page about them forever. */
  private forgetRemovedMiners(): void {
    const listed = new Set(this.miners().map((m) => m.id));
    const removed: FaultEvent[] = [];
    for (const id of [...this.health.minerIds()]) {
      if (!listed.has(id)) removed.push(...this.health.forget(id, Date.now()));
    }
    if (removed.length === 0) return;
    void this.announce(removed).then((announced) =>
      this.sink.write(encodePoints(announced.map((e) => faultPoint(e.fault, false, e.at)))),
    );
  }

  sweep(jitterMs?: number): Promise<SweepReport> {
    return this.scheduler.sweep(jitterMs);
  }

  start(): void {
    this.scheduler.start();
  }

  stop(): Promise<void> {
    return this.scheduler.stop();
  }
}
