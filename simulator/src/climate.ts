/**
 * A simple container climate model and its Tasmota-style MQTT publisher.
 *
 * outside: a day/night sine plus seeded slow wobble, or weather set for a test or demo (a fixed temperature or a
 * named 24 h profile on the farm clock). intake: outside air mixed with recirculated exhaust by a damper (opened
 * automatically in cold weather to hold the intake near a target) plus a little exhaust that always finds its way
 * back. exhaust: intake plus the miners' heat. So intake and exhaust follow total miner power and the outside air,
 * and in cold weather the intake depends on the exhaust's heat. Humidity keeps the outside dew point (mixing and
 * heating add no water), so relative humidity falls as air warms.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { NO_CONDITIONS, SecurityPublisher, type SecurityConditions } from './climate-security';
import type { IntakeSource } from './miner';
import { clamp, round } from './miner';
import { Prng, deriveSeed } from './prng';

export interface ClimateOptions {
  /** Daily mean outside temperature. */
  meanOutsideC: number;
  /** Half the day/night difference. */
  dailySwingC: number;
  /** Mean outside relative humidity, %. */
  meanHumidity: number;
  /** The damper recirculates exhaust to keep intake at least this warm. */
  intakeTargetC: number;
  /** Hour of the simulated clock's UTC day at which outside air is warmest. */
  warmestHourUtc: number;
}

/** Named outside weather for tests and the demo: a day/night curve on the farm clock, warmest at 14:00 UTC. */
export const WEATHER_PROFILES = {
  /** A frosty night: −16 °C at 02:00, −4 °C in the afternoon; damp. */
  'cold-night': { meanOutsideC: -10, dailySwingC: 6, meanHumidity: 85 },
  /** A hot afternoon: 36 °C at 14:00, 18 °C at night; dry. */
  'hot-afternoon': { meanOutsideC: 27, dailySwingC: 9, meanHumidity: 40 },
  /** A continental day: −4 °C before dawn, 28 °C in the afternoon. */
  diurnal: { meanOutsideC: 12, dailySwingC: 16, meanHumidity: 65 },
} as const satisfies Record<string, Pick<ClimateOptions, 'meanOutsideC' | 'dailySwingC' | 'meanHumidity'>>;
export type WeatherProfile = keyof typeof WEATHER_PROFILES;
export const WEATHER_PROFILE_NAMES = Object.keys(WEATHER_PROFILES) as WeatherProfile[];

/** Weather set on a container: a fixed outside temperature, or a named profile; null = the farm's own climate. */
export type Weather = { outsideC: number; humidity?: number } | { profile: WeatherProfile };

export const DEFAULT_CLIMATE: ClimateOptions = {
  meanOutsideC: 8,
  dailySwingC: 6,
  meanHumidity: 70,
  intakeTargetC: 15,
  warmestHourUtc: 14,
};

/** Heat and airflow the container's miners produce right now. */
export interface ContainerLoad {
  /** Heat released into the air, W. */
  airHeatW: number;
  /** Air the miners' fans move, kg/s. */
  airflowKgS: number;
}

export interface AirReading {
  temperatureC: number;
  humidity: number;
  dewPointC: number;
}

export interface ClimateReading {
  container: string;
  outside: AirReading;
  intake: AirReading;
  exhaust: AirReading;
  /** 0 = all outside air, 100 = maximum recirculation. */
  damperPercent: number;
  /** Water temperature at hydro miners' inlets (dry cooler follows the outside air). */
  waterInletC: number;
  airHeatW: number;
}

const AIR_HEAT_CAPACITY = 1005; // J/(kg·K)
/** Container ventilation that moves air even with no miner fans running. */
const BASE_AIRFLOW_KG_S = 1.5;
const MAX_DAMPER = 0.8;
/** Exhaust air that reaches the intake even with the damper shut (leaks, short-circuit around the container). */
const SHORT_CIRCUIT = 0.05;
const MAGNUS_B = 17.62;
const MAGNUS_C = 243.12;
const CACHE_MS = 1000;

function dewPoint(tempC: number, humidity: number): number {
  const gamma = Math.log(Math.max(1, humidity) / 100) + (MAGNUS_B * tempC) / (MAGNUS_C + tempC);
  return (MAGNUS_C * gamma) / (MAGNUS_B - gamma);
}

function humidityAt(tempC: number, dewPointC: number): number {
  const rh = 100 * Math.exp((MAGNUS_B * dewPointC) / (MAGNUS_C + dewPointC) - (MAGNUS_B * tempC) / (MAGNUS_C + tempC));
  return clamp(rh, 1, 100);
}

export class ContainerClimate implements IntakeSource {
  private readonly wobble: Array<{ periodMs: number; phase: number; amplitude: number }> = [];
  private damperOverride: number | null = null;
  private weatherOverride: Weather | null = null;
  private cached: ClimateReading | undefined;
  private cachedAt = -Infinity;

  constructor(
    readonly name: string,
    seed: number,
    private readonly options: ClimateOptions,
    private readonly load: () => ContainerLoad,
  ) {
    const rng = new Prng(deriveSeed(seed, `climate/${name}`));
    for (const hours of [2.7, 7.3, 31]) {
      this.wobble.push({ periodMs: hours * 3600_000, phase: rng.range(0, 2 * Math.PI), amplitude: rng.range(0.3, 0.9) });
    }
  }

  /** Fix the damper (0..1) or give it back to the automatic control (null). */
  setDamper(position: number | null): void {
    this.damperOverride = position === null ? null : clamp(position, 0, MAX_DAMPER);
    this.cached = undefined;
  }

  /** Sets the outside weather (a test's or the demo's) or gives it back to the farm's climate (null). */
  setWeather(weather: Weather | null): void {
    this.weatherOverride = weather;
    this.cached = undefined;
  }

  weather(): Weather | null {
    return this.weatherOverride;
  }

  intakeC(nowMs: number): number {
    return this.read(nowMs).intake.temperatureC;
  }

  /** IntakeSource for water-cooled miners in this container. */
  readonly water: IntakeSource = { intakeC: (nowMs) => this.read(nowMs).waterInletC };

  read(nowMs: number): ClimateReading {
    if (this.cached && Math.abs(nowMs - this.cachedAt) < CACHE_MS) return this.cached;
    const weather = this.weatherOverride;
    const o = weather && 'profile' in weather ? { ...this.options, ...WEATHER_PROFILES[weather.profile] } : this.options;
    const hour = (nowMs / 3600_000) % 24;
    const dayPhase = Math.cos((2 * Math.PI * (hour - o.warmestHourUtc)) / 24);
    let outsideC: number;
    let outsideRh: number;
    if (weather && 'outsideC' in weather) {
      outsideC = weather.outsideC;
      outsideRh = clamp(weather.humidity ?? o.meanHumidity, 15, 98);
    } else {
      outsideC = o.meanOutsideC + o.dailySwingC * dayPhase;
      for (const w of this.wobble) outsideC += w.amplitude * Math.sin((2 * Math.PI * nowMs) / w.periodMs + w.phase);
      // Air is dampest in the cool of the night.
      outsideRh = clamp(o.meanHumidity - 15 * dayPhase, 15, 98);
    }
    const dew = dewPoint(outsideC, outsideRh);

    const { airHeatW, airflowKgS } = this.load();
    const riseC = airHeatW / ((airflowKgS + BASE_AIRFLOW_KG_S) * AIR_HEAT_CAPACITY);
    let damper = this.damperOverride;
    if (damper === null) {
      // The controller opens the damper as far as the intake target needs, counting the leak it cannot close.
      const deficit = o.intakeTargetC - outsideC;
      damper = deficit > 0 && riseC > 0 ? clamp(deficit / (deficit + riseC) - SHORT_CIRCUIT, 0, MAX_DAMPER) : 0;
    }
    // With r of the intake air recirculated exhaust: intake = (1-r)·outside + r·(intake + rise)  =>  intake = outside + r·rise/(1-r)
    const recirculated = damper + SHORT_CIRCUIT;
    const intakeC = outsideC + (recirculated * riseC) / (1 - recirculated);
    const exhaustC = intakeC + riseC;
    const air = (t: number): AirReading => ({ temperatureC: round(t, 1), humidity: round(humidityAt(t, dew), 1), dewPointC: round(dew, 1) });
    this.cached = {
      container: this.name,
      outside: { temperatureC: round(outsideC, 1), humidity: round(outsideRh, 1), dewPointC: round(dew, 1) },
      intake: air(intakeC),
      exhaust: air(exhaustC),
      damperPercent: round(damper * 100, 0),
      waterInletC: round(Math.max(outsideC + 6, 25), 1),
      airHeatW: Math.round(airHeatW),
    };
    this.cachedAt = nowMs;
    return this.cached;
  }
}

export type SensorPlacement = 'intake' | 'exhaust' | 'outside';
export const SENSOR_PLACEMENTS: readonly SensorPlacement[] = ['intake', 'exhaust', 'outside'];

/** Tasmota telemetry topic of one simulated sensor. */
export function sensorTopic(container: string, placement: SensorPlacement): string {
  return `tele/${container}-${placement}/SENSOR`;
}

/** Tasmota's SENSOR payload for an SHT3X; Time is the device's local clock without zone (we use UTC). */
export function tasmotaPayload(nowMs: number, air: AirReading): string {
  const time = new Date(nowMs).toISOString().slice(0, 19);
  return JSON.stringify({
    Time: time,
    SHT3X: { Temperature: air.temperatureC, Humidity: air.humidity, DewPoint: air.dewPointC },
    TempUnit: 'C',
  });
}

export interface ClimatePublisherOptions {
  url: string;
  intervalMs: number;
  climates: readonly ContainerClimate[];
  clock: () => number;
  /**
   * Injected sensor faults per container: silent sensors publish nothing, absurd ones publish -273 °C; with
   * `security` the container's door, motion, tamper, smoke and leak sensors publish too (climate-security.ts).
   */
  faults?: (container: string) => { stale: ReadonlySet<string>; absurd: ReadonlySet<string>; security?: SecurityConditions; onChange?: (() => void) | undefined } | undefined;
}

/** Publishes every container's sensors over MQTT on an interval, the way Tasmota devices do. */
export class ClimatePublisher {
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private security: SecurityPublisher | undefined;

  constructor(private readonly options: ClimatePublisherOptions) {}

  async start(): Promise<void> {
    const { url, climates } = this.options;
    try {
      this.client = await mqtt.connectAsync(url, { clientId: `flymining-sim-${process.pid}-${Date.now()}`, reconnectPeriod: 2000, connectTimeout: 5000 });
    } catch (err) {
      throw new Error(`climate sensors: cannot connect to MQTT broker ${url}: ${(err as Error).message}`);
    }
    // Tasmota announces itself on a retained LWT topic.
    await Promise.all(
      climates.flatMap((c) =>
        SENSOR_PLACEMENTS.map((p) => this.client?.publishAsync(`tele/${c.name}-${p}/LWT`, 'Online', { retain: true, qos: 0 })),
      ),
    );
    await this.startSecurity();
    await this.publishOnce();
    this.timer = setInterval(() => void this.publishOnce().catch(() => undefined), this.options.intervalMs);
  }

  /** The security sensors of containers whose faults carry security conditions; a change is published at once. */
  private async startSecurity(): Promise<void> {
    const { faults, climates, url } = this.options;
    const containers = climates.map((c) => c.name).filter((name) => faults?.(name)?.security);
    if (!faults || containers.length === 0) return;
    const security = new SecurityPublisher({ url, containers, conditions: (c) => faults(c)?.security ?? NO_CONDITIONS });
    await security.start();
    this.security = security;
    for (const c of containers) {
      const f = faults(c);
      if (f) f.onChange = () => void security.publish(c).catch(() => undefined);
    }
  }

  async publishOnce(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const now = this.options.clock();
    const sends: Array<Promise<unknown>> = [];
    for (const climate of this.options.climates) {
      const r = climate.read(now);
      const faults = this.options.faults?.(climate.name);
      for (const placement of SENSOR_PLACEMENTS) {
        if (faults?.stale.has(placement)) continue;
        const air = faults?.absurd.has(placement) ? { ...r[placement], temperatureC: -273 } : r[placement];
        sends.push(client.publishAsync(sensorTopic(climate.name, placement), tasmotaPayload(now, air)));
      }
    }
    await Promise.all(sends);
    await this.security?.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const security = this.security;
    this.security = undefined;
    await security?.stop();
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
  }
}
