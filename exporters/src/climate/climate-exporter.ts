/**
 * The climate exporter: sources → gate (plausible values, no floods) → `climate_sensor` points; every interval
 * each container is judged → `climate_container` points and fault transitions → InfluxDB and Redis, through the
 * same publisher and keys as the miner exporter.
 */
import { encodePoints, faultKey, faultPoint, ident, influxql, type FaultEvent, type Logger, type QuerySeries, type SchemaPoint } from '@flymining/shared';
import type { Redis } from 'ioredis';
import { RedisFaultPublisher } from '../sinks/redis-faults';
import { ClimateFaultBook, evaluateContainer, type SensorState } from './evaluate';
import { FloodGuard, checkPlausible } from './gate';
import { ClimateMetrics } from './metrics';
import { dewPointC } from './psychrometrics';
import type { ConfiguredSensor } from './settings';
import { HttpSource } from './sources/http';
import { ModbusSource } from './sources/modbus';
import { MqttSource } from './sources/mqtt';
import { PayloadRejected, type ClimateSource, type RejectReason, type SensorRef, type SensorValues } from './types';
import type { StoreCounters } from '../metrics';

/** What the exporter needs of the storage layer (InfluxStore satisfies it). */
export interface ClimateStore {
  write(lines: string[]): void;
  query(q: string): Promise<QuerySeries[]>;
  stats(): StoreCounters;
}

export interface ClimateExporterOptions {
  name: string;
  mqttUrl: string;
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
  private readonly sources: ClimateSource[];
  private readonly flood: FloodGuard;
  private readonly publisher: RedisFaultPublisher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private firstTimer: NodeJS.Timeout | undefined;
  private minersPower = new Map<string, number>();
  private reconciled = false;
  lastEvaluation: number | undefined;
  /** Readings accepted since start (cheap to read, unlike summing the per-sensor counter's 10,000 series). */
  readingsAccepted = 0;

  constructor(
    readonly sensors: readonly ConfiguredSensor[],
    private readonly store: ClimateStore,
    private readonly options: ClimateExporterOptions,
    private readonly log: Logger,
    redis?: Redis,
  ) {
    this.metrics = new ClimateMetrics(() => store.stats());
    this.flood = new FloodGuard(options.floodBurst ?? 10, options.floodPerSecond ?? 1);
    this.publisher = redis ? new RedisFaultPublisher(redis, options.name) : undefined;
    const started = Date.now();
    for (const s of sensors) this.states.set(s.id, { sensor: s, values: {}, lastSeen: started });
    const events = { reading: this.onReading.bind(this), rejected: this.onRejected.bind(this) };
    this.sources = [new MqttSource(options.mqttUrl, sensors, events), new HttpSource(sensors, events), new ModbusSource(sensors, events)];
  }

  containers(): string[] {
    return [...new Set(this.sensors.map((s) => s.container))];
  }

  onReading(sensor: SensorRef, values: SensorValues, time: number): void {
    if (!this.flood.allow(sensor.id, time)) return this.onRejected(sensor, 'flood', 'more messages than the flood guard allows');
    try {
      checkPlausible(values);
    } catch (err) {
      if (err instanceof PayloadRejected) return this.onRejected(sensor, err.reason, err.message);
      throw err;
    }
    const state = this.states.get(sensor.id);
    if (!state) return;
    Object.assign(state.values, Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)));
    state.lastSeen = time;
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

  onRejected(sensor: SensorRef, reason: RejectReason, detail: string): void {
    this.metrics.rejected.inc({ sensor: sensor.id, reason });
    this.log.warn({ sensor: sensor.id, container: sensor.container, reason }, `climate sensor ${sensor.id} (container ${sensor.container}): rejected, ${reason}: ${detail}`);
  }

  /** Sum of the last `power_w` of each miner per container over the last 5 minutes. */
  private async refreshMinersPower(): Promise<void> {
    const q = influxql`SELECT sum(${ident('power_w')}) AS ${ident('power_w')} FROM (SELECT last(${ident('power_w')}) AS ${ident('power_w')} FROM ${ident('miner')} WHERE time > now() - 5m GROUP BY ${ident('miner')}, ${ident('container')}) GROUP BY ${ident('container')}`;
    try {
      const series = await this.store.query(q);
      const next = new Map<string, number>();
      for (const s of series) {
        const v = s.rows[0]?.power_w;
        if (s.tags.container && typeof v === 'number') next.set(s.tags.container, v);
      }
      this.minersPower = next;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot read the miners power from InfluxDB; heat figures wait');
    }
  }

  /** Judges every container now; returns the transitions announced. */
  async evaluate(now = Date.now()): Promise<FaultEvent[]> {
    await this.refreshMinersPower();
    const points: SchemaPoint[] = [];
    const events: FaultEvent[] = [];
    let stale = 0;
    for (const container of this.containers()) {
      const states = [...this.states.values()].filter((s) => s.sensor.container === container);
      const site = states[0]?.sensor.site ?? '';
      const { figures, faults } = evaluateContainer(container, states, this.minersPower.get(container), now);
      stale += figures.sensors_stale;
      points.push({ measurement: 'climate_container', tags: { site, container }, fields: { ...figures }, time: now });
      for (const t of this.faults.update(site, container, faults, now)) events.push({ ...t, at: now, source: this.options.name });
    }
    const announced = await this.announce(events);
    for (const e of announced) points.push(faultPoint(e.fault, e.type === 'raised', e.at));
    this.store.write(encodePoints(points));
    this.metrics.stale.set(stale);
    this.metrics.activeFaults.reset();
    for (const f of this.faults.all()) this.metrics.activeFaults.inc({ code: f.code });
    this.lastEvaluation = now;
    if (!this.reconciled) await this.reconcile(now);
    return announced;
  }

  /** Once: clear faults Redis still holds for our containers and sensors that ended while we were not running. */
  private async reconcile(now: number): Promise<void> {
    this.reconciled = true;
    if (!this.publisher) return;
    const ids = new Set([...this.containers(), ...this.sensors.map((s) => s.id)]);
    try {
      const cleared = await this.publisher.reconcile(ids, new Set(this.faults.all().map(faultKey)), now);
      if (cleared.length > 0) {
        this.store.write(encodePoints(cleared.map((e) => faultPoint(e.fault, false, e.at))));
        this.log.info({ cleared: cleared.length }, 'cleared climate faults left from before');
      }
    } catch (err) {
      this.log.error({ err }, 'climate fault reconciliation failed');
    }
  }

  private async announce(events: FaultEvent[]): Promise<FaultEvent[]> {
    let announced = events;
    if (this.publisher && events.length > 0) {
      try {
        announced = await this.publisher.publish(events);
      } catch (err) {
        this.log.error({ err }, 'cannot publish climate faults to Redis');
      }
    }
    for (const e of announced) this.metrics.faultEvents.inc({ type: e.type });
    return announced;
  }

  async start(): Promise<void> {
    for (const s of this.sources) await s.start();
    const evaluate = (): void => void this.evaluate().catch((err: Error) => this.log.error({ err }, 'climate evaluation failed'));
    // A first look soon after start (sources have had a moment to deliver), so /healthz turns ok quickly.
    this.firstTimer = setTimeout(evaluate, this.options.firstEvaluationMs ?? Math.min(2000, this.options.intervalS * 1000));
    this.timer = setInterval(evaluate, this.options.intervalS * 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.firstTimer) clearTimeout(this.firstTimer);
    this.timer = undefined;
    await Promise.all(this.sources.map((s) => s.stop()));
  }
}
