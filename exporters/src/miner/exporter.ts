/**
 * The miner exporter, the miner half of an edge: for each sweep, scrape every miner of the containers it serves,
 * then send what was learned one way through the store (batching, on-disk spool, the one uplink): samples, fault
 * transitions (`fault`, for history) and, per container, the level-based snapshot (`fault_state` rows + an
 * `edge_heartbeat`, see edge/reporter.ts). Its health state is saved after each sweep and restored at start, so a
 * restart re-asserts the same faults with the same `since`.
 */
import {
  changePoint,
  ContainerSweepTotals,
  encodePoints,
  faultKey,
  faultPoint,
  samplePoints,
  upPoint,
  type Fault,
  type FaultEvent,
  type InventoryHolder,
  type Logger,
  type MinerSpec,
  type SchemaPoint,
  type Severity,
} from '@flymining/shared';
import { z } from 'zod';
import { EdgeReporter, type ContainerSnapshot } from '../common/edge/reporter';
import { EdgeStateFile, faultSchema, minersPowerPath, minersPowerSchema, stateFilePath, type MinersPower } from '../common/edge/state-file';
import { HealthTracker, faultTransitions, type MinerChange, type MinerHealthState } from './health';
import { discover } from '../discovery';
import type { StoreCounters } from '../common/store-metrics';
import { ExporterMetrics } from './metrics';
import { AuthBackoff } from './auth-backoff';
import { CredentialStore, type CredentialSource } from './credentials';
import { scrapeMiner, type ScrapeResult } from './scrape';
import { JoinedCommandRefusals } from './joined';
import type { Dialect } from './backends/types';
import type { TransportOptions } from './transports/cgminer-tcp';
import { ScrapeScheduler, type SweepReport } from '../scheduler';
import type { ControlAgent } from '../control/agent';

/** What the exporter needs of the storage layer (InfluxStore satisfies it). */
export interface PointSink {
  write(lines: string[]): void;
  stats(): StoreCounters;
}

const minerStateSchema: z.ZodType<MinerHealthState> = z.object({
  lowHashrateScrapes: z.number().int().min(0),
  lastUptimeS: z.number().optional(),
  active: z.record(z.string(), faultSchema),
  // Issue 15: remembered so a restart neither re-raises a change nor forgets the identity to compare with.
  identity: z
    .object({ firmware: z.string().max(64), version: z.string().max(128).optional(), serial: z.string().max(100).optional(), mac: z.string().max(64).optional() })
    .optional(),
  poolSet: z.string().max(4096).optional(),
  devfee: z.object({ since: z.number() }).optional(),
});
/**
 * What the miner exporter saves across restarts: each miner's health state (active faults, rule counters, last
 * identity), and the UNKNOWN_DEVICE faults of the last scheduled discovery, per container.
 */
const savedStateSchema = z.object({
  miners: z.record(z.string(), minerStateSchema),
  unknownDevices: z.record(z.string(), z.record(z.string(), faultSchema)).optional(),
});
type SavedState = z.infer<typeof savedStateSchema>;

export interface MinerExporterOptions {
  /** The edge's name (--name), e.g. edge-C02: in heartbeats, fault_state rows and fault events. */
  name: string;
  intervalMs: number;
  jitterMs: number;
  concurrency: number;
  transport?: TransportOptions;
  /** The containers this edge serves (one edge per container); all of the inventory when empty. */
  containers?: string[];
  /** The edge's state folder; without it nothing is saved (a restart then re-raises active faults). */
  stateDir?: string;
  /** Clock offset to the center beyond which the edge reports its clock (default 10 min). */
  clockToleranceMs?: number;
  /** Scan each served container's inventory `subnet` this often for unlisted miner APIs (UNKNOWN_DEVICE); off when absent. */
  discoverEveryMs?: number;
  /** Probes per second of one scheduled scan (default 20). */
  discoverRatePerS?: number;
  /** Port probed by the scheduled scan (default 4028, the CGMiner-style API). */
  discoverPort?: number;
  /** The control policies (--control): run after each sweep; absent, the exporter only reads. */
  control?: ControlAgent;
}

/** Default pace of a scheduled subnet scan: a /24 takes about 13 s. */
export const DEFAULT_DISCOVER_RATE_PER_S = 20;

export class MinerExporter {
  readonly metrics: ExporterMetrics;
  readonly health: HealthTracker;
  private readonly scheduler: ScrapeScheduler<MinerSpec>;
  readonly edge: EdgeReporter;
  private readonly dialects = new Map<string, Dialect>();
  /** Web/REST session tokens and refused-login backoff, per miner endpoint. */
  private readonly sessions = new Map<string, string>();
  private readonly authBackoff = new AuthBackoff();
  /** Miners that refused joined commands (joined.ts): asked one command per connection for a while. */
  private readonly joined = new JoinedCommandRefusals();
  private readonly credentialStore = new CredentialStore();
  /** Credential entries that could not be read, logged once each (the miner then scrapes without them). */
  private readonly credentialProblems = new Set<string>();
  private readonly stateFile: EdgeStateFile<SavedState> | undefined;
  /** Last bad-reply problem logged per miner and command (bounded by the inventory). */
  private readonly badReplyLogged = new Map<string, string>();
  private readonly minersPowerFile: EdgeStateFile<MinersPower> | undefined;
  /** Miners that answered in the sweep under way. */
  private reachableThisSweep = new Set<string>();
  /** The sweep under way, per container: the `container_sweep` row the farm-wide panels read. */
  private containerTotals = new ContainerSweepTotals();
  /** UNKNOWN_DEVICE faults of the last completed scan, per container, by faultKey. */
  private unknownDevices = new Map<string, Record<string, Fault>>();
  private discoveryTimer: NodeJS.Timeout | undefined;
  private discovering: Promise<void> | undefined;
  lastSweep: SweepReport | undefined;

  constructor(
    private readonly inventory: InventoryHolder,
    private readonly sink: PointSink,
    private readonly options: MinerExporterOptions,
    private readonly log: Logger,
  ) {
    this.metrics = new ExporterMetrics(() => sink.stats());
    this.health = new HealthTracker(options.name);
    this.edge = new EdgeReporter(
      sink,
      { edge: options.name, source: 'miner', intervalMs: options.intervalMs, clockToleranceMs: options.clockToleranceMs ?? 600_000 },
      log,
      this.metrics.registry,
    );
    if (options.stateDir) {
      this.stateFile = new EdgeStateFile(stateFilePath(options.stateDir, 'miner'), savedStateSchema, log);
      this.minersPowerFile = new EdgeStateFile(minersPowerPath(options.stateDir), minersPowerSchema, log);
      this.restoreState(this.stateFile.load());
    }
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

  /** The containers this edge serves: the chosen ones (even without miners, or not yet in the inventory), else all. */
  containers(): Array<{ site: string; container: string }> {
    const inventory = this.inventory.current;
    const names = this.options.containers?.length ? this.options.containers : inventory.containers.map((c) => c.name);
    return [...new Set(names)].map((name) => ({ site: inventory.containers.find((c) => c.name === name)?.site ?? inventory.site, container: name }));
  }

  /** The miner's credentials from its inventory reference; a missing entry is logged once and the miner scraped without. */
  private credentialsOf(spec: MinerSpec): CredentialSource | undefined {
    try {
      return this.credentialStore.source(spec.credentials);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!this.credentialProblems.has(message)) {
        this.credentialProblems.add(message);
        this.log.error({ miner: spec.id }, `miner credentials: ${message}`);
      }
      return undefined;
    }
  }

  /** Scrape one miner and push everything it yields into the sinks. */
  async scrapeOne(spec: MinerSpec): Promise<ScrapeResult> {
    const credentials = this.credentialsOf(spec);
    const result = await scrapeMiner(
      { host: spec.host, port: spec.port, firmware: spec.firmware, protocol: spec.protocol, backend: spec.backend, credentials },
      {
        transport: this.options.transport,
        dialectCache: this.dialects,
        sessions: this.sessions,
        authBackoff: this.authBackoff,
        joined: this.joined,
        onDroppedValues: (e) => this.metrics.valuesDropped.inc(e.dropped.count),
        onBadReply: (e) => {
          this.metrics.badReplies.inc();
          // A firmware that always answers with the same flaw (e.g. S9's missing commas) is told once, not every sweep.
          const key = `${spec.id}\u0000${e.command}`;
          if (this.badReplyLogged.get(key) === e.problem) return;
          this.badReplyLogged.set(key, e.problem);
          this.log.warn({ miner: spec.id, endpoint: e.endpoint, command: e.command }, `bad reply: ${e.problem} (said again only when it changes; counted in flymining_bad_replies_total)`);
        },
      },
    );
    this.options.control?.observe(spec, credentials, result);
    const seconds = result.durationMs / 1000;
    let points: SchemaPoint[];
    let events: FaultEvent[];
    if (result.ok) {
      this.reachableThisSweep.add(spec.id);
      this.metrics.scrapeDuration.observe({ result: 'ok' }, seconds);
      points = samplePoints(result.sample, spec, result.durationMs);
      const minerPoint = points.find((p) => p.measurement === 'miner');
      if (minerPoint) this.containerTotals.addAnswered(spec.location.container, minerPoint.fields);
      const judged = this.health.judge(spec, result.sample, result.sample.time);
      events = judged.events;
      points.push(...this.changePoints(spec, judged.changes, result.sample.time));
    } else {
      this.metrics.scrapeDuration.observe({ result: 'failed' }, seconds);
      this.metrics.scrapeErrors.inc({ kind: result.failure.kind });
      const now = Date.now();
      points = [upPoint(spec, now, result.durationMs, false, result.failure.kind)];
      events = this.health.update(spec, result.failure, now);
    }
    points.push(...this.transitionPoints(events));
    this.sink.write(encodePoints(points));
    return result;
  }

  /** A miner's changes (pools, firmware, serial/MAC, devfee) as `miner_change` rows: its audit history. */
  private changePoints(spec: MinerSpec, changes: readonly MinerChange[], time: number): SchemaPoint[] {
    for (const c of changes) this.log.warn({ miner: spec.id, kind: c.kind }, `miner ${spec.id} changed ${c.kind}: ${JSON.stringify(c.before.slice(0, 200))} -> ${JSON.stringify(c.after.slice(0, 200))}`);
    return changes.map((c) => changePoint(spec.location, spec.id, c.kind, c.before, c.after, time));
  }

  /** Fault transitions as `fault` points (the history; the center's active state comes from the snapshots). */
  private transitionPoints(events: readonly FaultEvent[]): SchemaPoint[] {
    for (const e of events) this.metrics.faultEvents.inc({ type: e.type });
    return events.map((e) => faultPoint(e.fault, e.type === 'raised', e.at));
  }

  private afterSweep(report: SweepReport): void {
    this.lastSweep = report;
    this.forgetRemovedMiners();
    this.metrics.sweepDuration.set(report.durationMs / 1000);
    this.metrics.sweepOverruns.inc(report.overruns);
    const answered = this.reachableThisSweep;
    this.reachableThisSweep = new Set();
    const reachable = answered.size;
    this.metrics.minersUp.set(reachable);
    this.runControl();
    const bySeverity: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
    for (const f of this.allActiveFaults()) bySeverity[f.severity]++;
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
    const totals = this.containerTotals;
    this.containerTotals = new ContainerSweepTotals();
    const snapshots = this.containerSnapshots(answered);
    this.sink.write(encodePoints(totals.points(snapshots.values(), report.startedAt)));
    this.reportSnapshots(report.startedAt, snapshots);
    this.stateFile?.save(this.savedState());
    // The watts of the miners that answered, per container, for the climate exporter of the same edge.
    this.minersPowerFile?.save({ containers: totals.powerByContainer() }, report.startedAt);
  }

  /**
   * The control policies' turn (issue 14): decisions and faults now, so this sweep's snapshot carries the faults;
   * their actions are carried out in the background (a container with actions under way is judged again after).
   */
  private runControl(): void {
    const control = this.options.control;
    if (!control) return;
    try {
      const outcome = control.afterSweep(this.containers(), this.miners(), (id) => this.health.activeFaults(id));
      if (outcome.events.length > 0) this.sink.write(encodePoints(this.transitionPoints(outcome.events)));
    } catch (err) {
      this.log.error({ err }, 'control policies failed after the sweep');
    }
  }

  /** Each served container with its miners in the inventory (watched) and those that answered this sweep. */
  private containerSnapshots(answered: ReadonlySet<string>): Map<string, ContainerSnapshot> {
    const byContainer = new Map<string, ContainerSnapshot>();
    for (const c of this.containers()) byContainer.set(c.container, { ...c, watched: 0, reachable: 0, faults: [] });
    for (const m of this.miners()) {
      const snapshot = byContainer.get(m.location.container);
      if (!snapshot) continue;
      snapshot.watched++;
      if (answered.has(m.id)) snapshot.reachable++;
    }
    return byContainer;
  }

  /** One fault_state + heartbeat snapshot per served container, at the sweep's start time. */
  private reportSnapshots(time: number, byContainer: ReadonlyMap<string, ContainerSnapshot>): void {
    const faults = new Map<string, Fault[]>();
    for (const f of this.allActiveFaults()) {
      const list = faults.get(f.location.container);
      if (list) list.push(f);
      else faults.set(f.location.container, [f]);
    }
    this.edge.report(
      time,
      [...byContainer.values()].map((s) => ({ ...s, faults: faults.get(s.container) ?? [] })),
    );
  }

  /** Miner faults, the container-level UNKNOWN_DEVICE faults of scheduled discovery and the control policies' faults. */
  allActiveFaults(): Fault[] {
    const all = this.health.activeFaults();
    for (const byKey of this.unknownDevices.values()) all.push(...Object.values(byKey));
    if (this.options.control) all.push(...this.options.control.activeFaults());
    return all;
  }

  private savedState(): SavedState {
    const miners: SavedState['miners'] = {};
    for (const id of this.health.minerIds()) {
      const state = this.health.stateOf(id);
      if (state) miners[id] = state;
    }
    return { miners, unknownDevices: Object.fromEntries(this.unknownDevices) };
  }

  private restoreState(saved: SavedState | undefined): void {
    if (!saved) return;
    for (const [id, state] of Object.entries(saved.miners)) this.health.restore(id, state);
    for (const [container, faults] of Object.entries(saved.unknownDevices ?? {})) this.unknownDevices.set(container, faults);
    const faults = this.health.activeFaults().length;
    this.log.info({ miners: Object.keys(saved.miners).length, faults }, `restored edge health state from ${this.stateFile?.file}`);
  }

  /** Miners taken out of the inventory: clear their faults once, so alerting does not page about them forever. */
  private forgetRemovedMiners(): void {
    const listed = new Set(this.miners().map((m) => m.id));
    this.options.control?.forget(listed);
    const removed: FaultEvent[] = [];
    for (const id of [...this.health.minerIds()]) {
      if (!listed.has(id)) removed.push(...this.health.forget(id, Date.now()));
    }
    if (removed.length > 0) this.sink.write(encodePoints(this.transitionPoints(removed)));
  }

  sweep(jitterMs?: number): Promise<SweepReport> {
    return this.scheduler.sweep(jitterMs);
  }

  /**
   * One scheduled discovery: scans the `subnet` of each served container (rate-limited) and raises UNKNOWN_DEVICE per
   * miner API answering there at an address no inventory miner has; clears those that no longer answer. A container's
   * set is replaced only by a completed scan. Returns the faults raised and cleared.
   */
  async discoverUnknown(now = Date.now()): Promise<FaultEvent[]> {
    const inventory = this.inventory.current;
    const knownHosts = new Set([...inventory.miners.values()].map((m) => m.host));
    const served = new Set(this.containers().map((c) => c.container));
    const events: FaultEvent[] = [];
    const points: SchemaPoint[] = [];
    for (const container of inventory.containers) {
      if (!served.has(container.name) || !container.subnet) continue;
      let report;
      try {
        report = await discover(container.subnet, {
          port: this.options.discoverPort ?? 4028,
          ratePerS: this.options.discoverRatePerS ?? DEFAULT_DISCOVER_RATE_PER_S,
          concurrency: 32,
          transport: this.options.transport,
        });
      } catch (err) {
        this.log.error({ container: container.name, err }, `scheduled discovery of ${container.subnet} failed`);
        continue;
      }
      const location = { site: container.site, container: container.name, rack: '-', shelf: '-', slot: '-' };
      const previous = this.unknownDevices.get(container.name) ?? {};
      const next: Record<string, Fault> = {};
      for (const found of report.found) {
        if (knownHosts.has(found.host)) continue;
        const part = `${found.host}:${found.port}`;
        const key = faultKey({ minerId: container.name, code: 'UNKNOWN_DEVICE', part });
        const what = found.family ? `a ${found.family} miner API${found.model ? ` (${found.model.slice(0, 64)})` : ''}` : 'a miner-like API';
        next[key] = previous[key] ?? {
          code: 'UNKNOWN_DEVICE',
          severity: 'warning',
          minerId: container.name,
          location,
          part,
          message: `container ${container.name}: ${what} answers at ${part} on ${container.subnet}, which the inventory does not list; find the device and list it or remove it`,
          since: now,
          details: { address: part, ...(found.family ? { family: found.family } : {}) },
        };
        if (!previous[key]) points.push(changePoint(location, part, 'unknown_device', '', `${what} at ${part}`, now));
      }
      events.push(...faultTransitions(previous, next, now, this.options.name));
      if (Object.keys(next).length > 0) this.unknownDevices.set(container.name, next);
      else this.unknownDevices.delete(container.name);
    }
    points.push(...this.transitionPoints(events));
    if (points.length > 0) this.sink.write(encodePoints(points));
    this.stateFile?.save(this.savedState());
    return events;
  }

  start(): void {
    this.scheduler.start();
    const every = this.options.discoverEveryMs;
    if (every && every > 0) {
      const run = (): void => {
        if (this.discovering) return; // a slow scan is never run twice at once
        this.discovering = this.discoverUnknown()
          .then(() => undefined, (err: unknown) => this.log.error({ err }, 'scheduled discovery failed'))
          .finally(() => {
            this.discovering = undefined;
          });
      };
      run();
      this.discoveryTimer = setInterval(run, every);
      this.discoveryTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.discoveryTimer) clearInterval(this.discoveryTimer);
    this.discoveryTimer = undefined;
    await this.scheduler.stop();
    await this.discovering;
    await this.options.control?.idle();
  }
}
