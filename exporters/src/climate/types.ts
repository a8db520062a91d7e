/** What every climate source produces: readings in SI units, or a rejection with its reason. */
import type { SensorPosition } from '@flymining/shared';
import type { SecurityMessage, SecuritySensor } from './security';

/** Quantities a container sensor can report, already normalized (°C, %, W, kWh). */
export interface SensorValues {
  temperatureC?: number;
  humidityPct?: number;
  /** Measured damper opening, 0 = all outside air, 100 = full recirculation. */
  damperPct?: number;
  /** What the damper controller was told. */
  damperCommandPct?: number;
  powerW?: number;
  energyKwh?: number;
}

export type Quantity = keyof SensorValues;
export const QUANTITIES: readonly Quantity[] = ['temperatureC', 'humidityPct', 'damperPct', 'damperCommandPct', 'powerW', 'energyKwh'];

/** A sensor as the climate exporter knows it: inventory identity plus validated protocol settings. */
export interface SensorRef {
  id: string;
  site: string;
  container: string;
  position: SensorPosition;
}

export type RejectReason =
  | 'not-json'
  | 'wrong-type'
  | 'absurd-value'
  | 'no-values'
  | 'flood'
  | 'too-large'
  | 'unreachable'
  /** Stamped by the device further in the past / future than its maxAgeS / maxAheadS: the device clock is wrong. */
  | 'too-old'
  | 'in-future';

/** Why a payload was refused, for the counter and the log line (which names the sensor). */
export class PayloadRejected extends Error {
  constructor(
    readonly reason: RejectReason,
    detail: string,
  ) {
    super(detail);
    this.name = 'PayloadRejected';
  }
}

export interface SourceEvents {
  /**
   * A decoded payload (not yet checked for plausibility or floods). `time` is when it was measured (the device's
   * own stamp where the payload has one), `receivedAt` when it arrived (freshness and floods go by arrival).
   */
  reading(sensor: SensorRef, values: SensorValues, time: number, receivedAt?: number): void;
  rejected(sensor: SensorRef, reason: RejectReason, detail: string): void;
  /** A security sensor's message (conditions, online/offline, or a bare sign of life), at its arrival time. */
  security?(sensor: SecuritySensor, message: SecurityMessage, receivedAt: number): void;
}

/** One protocol = one source module: it reads its sensors and reports through SourceEvents. */
export interface ClimateSource {
  readonly protocol: 'mqtt' | 'http' | 'modbus';
  /** Why this source cannot read its sensors right now (e.g. the MQTT broker is gone); undefined while fine. */
  problem?(): string | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}
