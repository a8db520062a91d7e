/**
 * The climate exporter, the climate half of an edge: sources → gate (plausible values, no floods) →
 * `climate_sensor` points; every interval each container is judged → `climate_container` points, fault transitions
 * (`fault`, history) and the container's level-based snapshot (`fault_state` rows + `edge_heartbeat`, see
 * edge/reporter.ts), all through the store and its one uplink. Its judgement state (active faults, last readings,
 * damper disagreement) is saved after each evaluation and restored at start, so a restart does not flap faults.
 */
import { encodePoints, faultPoint, ident, influxql, type FaultEvent, type Logger, type QuerySeries, type SchemaPoint } from '@flymining/shared';
import { z } from 'zod';
import { EdgeReporter, type ContainerSnapshot } from '../common/edge/reporter';
import {
  EdgeStateFile,
  containerClimatePath,
  containersClimateSchema,
  faultSchema,
  minersPowerPath,
  minersPowerSchema,
  stateFilePath,
  type ContainersClimate,
  type MinersPower,
} from '../common/edge/state-file';
import { ClimateFaultBook, evaluateContainer, newestReadings, type SensorState } from './evaluate';
import { FloodGuard, checkPlausible } from './gate';
import { ClimateMetrics } from './metrics';
import { dewPointC } from './psychrometrics';
import { isSecuritySensor, type AnySensor, type ConfiguredSensor } from './settings';
import type { SecurityMessage, SecuritySensor } from './security';
import { evaluateSecurity, isOffline, type SecuritySensorState } from './security/evaluate';
import { HttpSource } from './sources/http';
import { ModbusSource } from './sources/modbus';
import { MqttSource, type BrokerSettings } from './sources/mqtt';
import { PayloadRejected, QUANTITIES, type ClimateSource, type RejectReason, type SensorRef, type SensorValues } from './types';
import type { StoreCounters } from '../common/store-metrics';

const sensorStateSchema = z.object({
  values: z.partialRecord(z.enum(QUANTITIES as [keyof SensorValues, ...Array<keyof SensorValues>]), z.number()),
  lastSeen: z.number(),
  readingAt: z.number().optional(),
  disagreeSince: z.number().optional(),
});
const conditionsSchema = z.partialRecord(z.enum(['open', 'motion', 'tamper', 'smoke', 'leak']), z.boolean());
const securityStateSchema = z.object({ state: conditionsSchema, online: z.boolean(), lastSeen: z.number(), offlineSince: z.number().optional() });
/** What the climate exporter saves across restarts: its active faults, each sensor's last readings, security states. */
const savedStateSchema = z.object({
  faults: z.array(faultSchema),
  sensors: z.record(z.string(), sensorStateSchema),
  security: z.record(z.string(), securityStateSchema).default({}),
});
type SavedState = z.infer<typeof savedStateSchema>;

/** How long an evaluation waits for the miners' power from InfluxDB before judging with the last figures. */
const POWER_QUERY_WAIT_MS = 2000;
/** A miners' power figure left by the miner exporter of the same edge counts while it is this fresh (the query also looks 5 min back). */
const LOCAL_POWER_MAX_AGE_MS = 5 * 60_000;
/** Readings written per sensor, by time: enough to tell a re-delivered reading from a distinct one at the same ms. */
const RECENT_TIMES_KEPT = 64;

/** What the exporter needs of the storage layer (InfluxStore satisfies it). */
export interface ClimateStore {
  write(lines: string[]): void;
  query(q: string): Promise<QuerySeries[]>;
  stats(): StoreCounters;
}

export interface ClimateExporterOptions {
  /** The edge's name (--name), e.g. edge-C02: in heartbeats, fault_state rows and fault events. */
  name: string;
  /** The sensors' broker: a URL, or a URL with credentials kept apart (see BrokerSettings). */
  mqttUrl: string | BrokerSettings;
  /** Every container this edge serves, including those without sensors (they still get heartbeats). */
  containers?: ReadonlyArray<{ site: string; container: string }>;
  /** The edge's state folder; without it nothing is saved (a restart then re-raises active faults). */
  stateDir?: string;
  /** Clock offset to the center beyond which the edge reports its clock (default 10 min). */
  clockToleranceMs?: number;
  /** Seconds between container evaluations. */
  intervalS: number;
  /** Flood guard: messages a sensor may send at once, and per second after that. */
  floodBurst?: number;
  floodPerSecond?: number;
  /** Delay of the first evaluation after start (default: 2 s, or the interval if shorter). */
  firstEvaluationMs?: number;
}

export class ClimateExporter {
  readonly metrics: ClimateMetrics;
  readonly faults = new ClimateFaultBook();
  private readonly states = new Map<string, SensorState>();
  /** Door, motion, tamper, smoke and leak sensors (security/), by id. */
  private readonly securityStates = new Map<string, SecuritySensorState>();
  /** An evaluation in progress, and whether a security change asked for another right after it. */
  private evaluating: Promise<unknown> | undefined;
  private evaluateAgain = false;
  private stopped = false;
  readonly edge: EdgeReporter;
  readonly mqtt: MqttSource;
  private readonly sources: ClimateSource[];
  private readonly flood: FloodGuard;
  private readonly stateFile: EdgeStateFile<SavedState> | undefined;
  /** The miner exporter of the same edge leaves the miners' power here (shared --state-dir). */
  private readonly minersPowerFile: EdgeStateFile<MinersPower> | undefined;
  /** Each container's newest readings, for the temperature loop of the miner exporter beside us (issue 14). */
  private readonly climateFile: EdgeStateFile<ContainersClimate> | undefined;
  /** Per sensor: time → fingerprint of the values written at that time. */
  private readonly written = new Map<string, Map<number, string>>();
  private timer: NodeJS.Timeout | undefined;
  private firstTimer: NodeJS.Timeout | undefined;
  private minersPower = new Map<string, number>();
  private powerQuery: Promise<void> | undefined;
  private powerQueryError: string | undefined;
  lastEvaluation: number | undefined;
  /** Readings accepted since start (cheap to read, unlike summing the per-sensor counter's 10,000 series). */
  readingsAccepted = 0;

  constructor(
    readonly sensors: readonly AnySensor[],
    private readonly store: ClimateStore,
    private readonly options: ClimateExporterOptions,
    private readonly log: Logger,
  ) {
    this.metrics = new ClimateMetrics(() => store.stats());
    this.flood = new FloodGuard(options.floodBurst ?? 10, options.floodPerSecond ?? 1);
    this.edge = new EdgeReporter(
      store,
      { edge: options.name, source: 'climate', intervalMs: options.intervalS * 1000, clockToleranceMs: options.clockToleranceMs ?? 600_000 },
      log,
      this.metrics.registry,
    );
    const started = Date.now();
    const climate: ConfiguredSensor[] = [];
    for (const s of sensors) {
      if (isSecuritySensor(s)) this.securityStates.set(s.id, { sensor: s, state: {}, online: true, lastSeen: started });
      else {
        climate.push(s);
        this.states.set(s.id, { sensor: s, values: {}, lastSeen: started });
      }
    }
    if (options.stateDir) {
      this.stateFile = new EdgeStateFile(stateFilePath(options.stateDir, 'climate'), savedStateSchema, log);
      this.minersPowerFile = new EdgeStateFile(minersPowerPath(options.stateDir), minersPowerSchema, log);
      this.climateFile = new EdgeStateFile(containerClimatePath(options.stateDir), containersClimateSchema, log);
      this.restoreState(this.stateFile.load());
    }
    const events = { reading: this.onReading.bind(this), rejected: this.onRejected.bind(this), security: this.onSecurity.bind(this) };
    this.mqtt = new MqttSource(options.mqttUrl, sensors, events, {
      lost: (url, reason) => {
        this.metrics.brokerConnected.set(0);
        this.metrics.brokerDisconnects.inc();
        this.log.error({ broker: url, reason }, `MQTT broker ${url} lost (${reason}): MQTT sensors are not read until it is back; reconnecting`);
      },
      restored: (url, downMs) => {
        this.metrics.brokerConnected.set(1);
        this.log.info({ broker: url, downMs }, `MQTT broker ${url} back after ${Math.round(downMs / 1000)} s`);
      },
    });
    this.sources = [this.mqtt, new HttpSource(climate, events), new ModbusSource(climate, events)];
  }

  /** Containers with sensors, then the other served ones (they get heartbeats with no sensors). */
  containers(): string[] {
    return [...new Set([...this.sensors.map((s) => s.container), ...(this.options.containers ?? []).map((c) => c.container)])];
  }

  /** Why /healthz should say degraded (beyond InfluxDB): a source that cannot read, the edge clock. */
  problems(): string[] {
    const fromSources = this.sources.map((s) => s.problem?.()).filter((p): p is string => p !== undefined);
    return [...fromSources, ...this.edge.problems()];
  }

  onReading(sensor: SensorRef, values: SensorValues, measuredAt: number, receivedAt = measuredAt): void {
    if (!this.flood.allow(sensor.id, receivedAt)) return this.onRejected(sensor, 'flood', 'more messages than the flood guard allows');
    try {
      checkPlausible(values);
    } catch (err) {
      if (err instanceof PayloadRejected) return this.onRejected(sensor, err.reason, err.message);
      throw err;
    }
    const state = this.states.get(sensor.id);
    if (!state) return;
    const time = this.distinctTime(sensor.id, measuredAt, values);
    if (time === undefined) return; // the same reading delivered again (retained message, QoS 1 redelivery)
    // Readings held back by an outage may arrive after newer ones: only the newest sets the values judged.
    if (state.readingAt === undefined || time >= state.readingAt) {
      Object.assign(state.values, Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)));
      state.readingAt = time;
    }
    state.lastSeen = Math.max(state.lastSeen, receivedAt); // freshness goes by arrival, not by the device clock
    this.metrics.readings.inc({ sensor: sensor.id });
    this.readingsAccepted++;
    const dew = values.temperatureC !== undefined && values.humidityPct !== undefined ? dewPointC(values.temperatureC, values.humidityPct) : undefined;
    const point: SchemaPoint<'climate_sensor'> = {
      measurement: 'climate_sensor',
      tags: { site: sensor.site, container: sensor.container, position: sensor.position, sensor: sensor.id },
      fields: {
        temperature_c: values.temperatureC,
        humidity_pct: values.humidityPct,
        dew_point_c: dew === undefined ? undefined : Math.round(dew * 100) / 100,
        damper_pct: values.damperPct,
        damper_command_pct: values.damperCommandPct,
        power_w: values.powerW,
        energy_kwh: values.energyKwh,
      },
      time,
    };
    this.store.write(encodePoints([point]));
  }

  /**
   * The time to store a reading at: its own, or 1 ms later per distinct reading already stored at that time (two
   * readings stamped in the same second must stay two points: InfluxDB keeps one point per series and time).
   * Undefined when this very reading was stored already.
   */
  private distinctTime(sensorId: string, time: number, values: SensorValues): number | undefined {
    let times = this.written.get(sensorId);
    if (!times) this.written.set(sensorId, (times = new Map()));
    const fingerprint = JSON.stringify(values);
    let t = time;
    for (let seen = times.get(t); seen !== undefined; seen = times.get(++t)) {
      if (seen === fingerprint) return undefined;
    }
    times.set(t, fingerprint);
    if (times.size > RECENT_TIMES_KEPT) times.delete(times.keys().next().value as number);
    return t;
  }

  /**
   * A security sensor's message: any message is a sign of life; a changed condition or online state is judged at
   * once (not at the next interval), so a door opened reaches the uplink within moments.
   */
  onSecurity(sensor: SecuritySensor, message: SecurityMessage, receivedAt: number): void {
    const s = this.securityStates.get(sensor.id);
    if (!s) return;
    if (!this.flood.allow(sensor.id, receivedAt)) {
      // Fail safe: a flood of harmless messages must not let an attacker push a real alarm (door opened, sensor
      // gone) out of the bucket. An alarm is applied anyway; everything else of the flood is refused.
      const alarm = message.online === false || Object.entries(message.state ?? {}).some(([c, holds]) => holds && s.state[c as keyof typeof s.state] !== true);
      this.onRejected(sensor, 'flood', alarm ? 'more messages than the flood guard allows (an alarm among them: applied)' : 'more messages than the flood guard allows');
      if (!alarm) return;
    }
    const wasOffline = isOffline(s, receivedAt);
    let changed = false;
    for (const [condition, holds] of Object.entries(message.state ?? {}) as Array<[keyof SecuritySensorState['state'], boolean]>) {
      if (s.state[condition] !== holds) changed = true;
      s.state[condition] = holds;
    }
    if (message.online === false) {
      if (s.online) s.offlineSince = receivedAt;
      s.online = false;
    } else {
      // "online", or any other message: the device is talking again.
      s.online = true;
      s.offlineSince = undefined;
      s.lastSeen = Math.max(s.lastSeen, receivedAt);
    }
    if (wasOffline !== isOffline(s, receivedAt)) changed = true;
    this.metrics.readings.inc({ sensor: sensor.id });
    this.readingsAccepted++;
    if (changed) this.evaluateSoon();
  }

  /** Runs an evaluation now, or right after the one in progress. */
  evaluateSoon(): void {
    if (this.stopped) return;
    if (this.evaluating) {
      this.evaluateAgain = true;
      return;
    }
    this.evaluating = this.evaluate()
      .catch((err: Error) => this.log.error({ err }, 'climate evaluation failed'))
      .finally(() => {
        this.evaluating = undefined;
        if (this.evaluateAgain) {
          this.evaluateAgain = false;
          this.evaluateSoon();
        }
      });
  }

  onRejected(sensor: SensorRef, reason: RejectReason, detail: string): void {
    this.metrics.rejected.inc({ sensor: sensor.id, reason });
    this.log.warn({ sensor: sensor.id, container: sensor.container, reason }, `climate sensor ${sensor.id} (container ${sensor.container}): rejected, ${reason}: ${detail}`);
  }

  /**
   * Sum of the last `power_w` of each miner per container over the last 5 minutes, read back over the uplink. The
   * evaluation waits for it at most POWER_QUERY_WAIT_MS: a slow or dead uplink (or an edge account that may only
   * write) must not delay the snapshot and heartbeat; a late answer is used by the next evaluation.
   */
  private async refreshMinersPower(): Promise<void> {
    // At an edge the miner exporter beside us measured it moments ago: no round trip over the uplink needed.
    const local = this.minersPowerFile?.loadWithTime();
    if (local && Date.now() - local.savedAtMs < LOCAL_POWER_MAX_AGE_MS) {
      this.minersPower = new Map(Object.entries(local.state.containers));
      return;
    }
    this.powerQuery ??= this.queryMinersPower().finally(() => (this.powerQuery = undefined));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.powerQuery, new Promise((r) => (timer = setTimeout(r, POWER_QUERY_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private async queryMinersPower(): Promise<void> {
    const q = influxql`SELECT sum(${ident('power_w')}) AS ${ident('power_w')} FROM (SELECT last(${ident('power_w')}) AS ${ident('power_w')} FROM ${ident('miner')} WHERE time > now() - 5m GROUP BY ${ident('miner')}, ${ident('container')}) GROUP BY ${ident('container')}`;
    try {
      const series = await this.store.query(q);
      const next = new Map<string, number>();
      for (const s of series) {
        const v = s.rows[0]?.power_w;
        if (s.tags.container && typeof v === 'number') next.set(s.tags.container, v);
      }
      this.minersPower = next;
      if (this.powerQueryError) this.log.info('miners power readable again from InfluxDB');
      this.powerQueryError = undefined;
    } catch (err) {
      // Once per reason, not every evaluation: an uplink outage is reported by the store itself.
      const reason = (err as Error).message;
      if (reason !== this.powerQueryError) this.log.warn({ err: reason }, 'cannot read the miners power from InfluxDB; heat figures wait');
      this.powerQueryError = reason;
    }
  }

  /** Judges every container now; returns the transitions announced. */
  async evaluate(now = Date.now()): Promise<FaultEvent[]> {
    await this.refreshMinersPower();
    const points: SchemaPoint[] = [];
    const events: FaultEvent[] = [];
    const snapshots: Array<Omit<ContainerSnapshot, 'faults'>> = [];
    const readings: ContainersClimate['containers'] = {};
    let stale = 0;
    for (const container of this.containers()) {
      const states = [...this.states.values()].filter((s) => s.sensor.container === container);
      if (states.length > 0) readings[container] = newestReadings(container, states, now);
      const site = states[0]?.sensor.site ?? this.options.containers?.find((c) => c.container === container)?.site ?? '';
      const security = [...this.securityStates.values()].filter((s) => s.sensor.container === container);
      const siteOf = site || (security[0]?.sensor.site ?? '');
      const { figures, faults } = evaluateContainer(container, states, this.minersPower.get(container), now);
      const securityFaults = evaluateSecurity(container, security, now);
      const offline = security.filter((s) => isOffline(s, now)).length;
      stale += figures.sensors_stale;
      if (states.length > 0) points.push({ measurement: 'climate_container', tags: { site: siteOf, container }, fields: { ...figures }, time: now });
      for (const t of this.faults.update(siteOf, container, [...faults, ...securityFaults], now)) events.push({ ...t, at: now, source: this.options.name });
      const watched = states.length + security.length;
      snapshots.push({ site: siteOf, container, watched, reachable: watched - figures.sensors_stale - offline });
    }
    for (const e of events) {
      this.metrics.faultEvents.inc({ type: e.type });
      points.push(faultPoint(e.fault, e.type === 'raised', e.at));
    }
    this.store.write(encodePoints(points));
    const active = this.faults.all();
    this.edge.report(
      now,
      snapshots.map((s) => ({ ...s, faults: active.filter((f) => f.location.container === s.container) })),
    );
    this.stateFile?.save(this.savedState());
    this.climateFile?.save({ containers: readings }, now);
    this.metrics.stale.set(stale);
    this.metrics.activeFaults.reset();
    for (const f of active) this.metrics.activeFaults.inc({ code: f.code });
    this.lastEvaluation = now;
    return events;
  }

  private savedState(): SavedState {
    const sensors: SavedState['sensors'] = {};
    for (const [id, s] of this.states) {
      sensors[id] = { values: s.values, lastSeen: s.lastSeen, readingAt: s.readingAt, disagreeSince: s.disagreeSince };
    }
    const security: SavedState['security'] = {};
    for (const [id, s] of this.securityStates) security[id] = { state: s.state, online: s.online, lastSeen: s.lastSeen, offlineSince: s.offlineSince };
    return { faults: this.faults.all(), sensors, security };
  }

  /** Puts back faults and readings of sensors still configured; faults of others are dropped with them. */
  private restoreState(saved: SavedState | undefined): void {
    if (!saved) return;
    for (const [id, s] of Object.entries(saved.sensors)) {
      const state = this.states.get(id);
      if (!state) continue;
      state.values = { ...s.values };
      state.lastSeen = s.lastSeen;
      state.readingAt = s.readingAt;
      state.disagreeSince = s.disagreeSince;
    }
    for (const [id, s] of Object.entries(saved.security)) {
      const state = this.securityStates.get(id);
      if (!state) continue;
      Object.assign(state, { state: { ...s.state }, online: s.online, lastSeen: s.lastSeen, offlineSince: s.offlineSince });
    }
    const served = new Set(this.containers());
    this.faults.restore(saved.faults.filter((f) => served.has(f.location.container)));
    this.log.info({ faults: this.faults.all().length }, `restored edge health state from ${this.stateFile?.file}`);
  }

  async start(): Promise<void> {
    for (const s of this.sources) await s.start();
    if (this.mqtt.topics().length > 0) this.metrics.brokerConnected.set(this.mqtt.link().connected ? 1 : 0);
    const evaluate = (): void => this.evaluateSoon();
    // A first look soon after start (sources have had a moment to deliver), so /healthz turns ok quickly.
    this.firstTimer = setTimeout(evaluate, this.options.firstEvaluationMs ?? Math.min(2000, this.options.intervalS * 1000));
    this.timer = setInterval(evaluate, this.options.intervalS * 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.firstTimer) clearTimeout(this.firstTimer);
    this.timer = undefined;
    await Promise.all(this.sources.map((s) => s.stop()));
    await this.evaluating;
  }
}
