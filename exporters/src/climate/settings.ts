/**
 * Protocol settings of each inventory sensor (the `settings` of a SensorSpec), validated once at start with
 * messages that name the inventory file, the container and the sensor id: staff write these by hand.
 */
import { formatIssues, isSecurityPosition, type ContainerSpec, type Inventory, type SensorSpec } from '@flymining/shared';
import { isIP } from 'node:net';
import { z } from 'zod';
import { isTimeZone, parseUtcOffset } from './payloads';
import { securitySettings, type SecuritySensor } from './security';
import type { SensorRef } from './types';

const quantity = z.enum(['temperatureC', 'humidityPct', 'damperPct', 'damperCommandPct', 'powerW', 'energyKwh']);
const unit = z.enum(['C', 'F']).default('C');
const seconds = (min: number, max: number) => z.number().min(min).max(max);
/** One exact topic per sensor: a wildcard would mix several devices' readings under one sensor id. */
const topic = z.string().min(1).max(256).regex(/^[^+#\u0000]+$/, 'one exact topic, without the MQTT wildcards + and #');

/** Limits that make a reading a fault rather than a rejection; per sensor, defaults in DEFAULT_LIMITS. */
const limits = {
  /** Intake band (intake sensors): the damper advice aims inside it, faults fire outside it. */
  minC: z.number().min(-30).max(60).optional(),
  maxC: z.number().min(-30).max(90).optional(),
  /** Intake sensors: CONDENSATION_RISK below this many °C above the dew point. */
  condensationMarginC: z.number().min(0).max(20).optional(),
  /** Damper sensors: DAMPER_STUCK when |command - measured| exceeds this for stuckAfterS. */
  tolerancePct: z.number().min(1).max(100).optional(),
  stuckAfterS: seconds(1, 86_400).optional(),
  /** CLIMATE_SENSOR_STALE after this long without a valid reading. */
  staleAfterS: seconds(1, 86_400).optional(),
};

/**
 * Readings stamped by the device (Tasmota Time, Shelly ts) are stored at that time, within these bounds of their
 * arrival; outside them the device clock is wrong and the reading is refused (counted as too-old / in-future).
 */
const readingTime = {
  maxAgeS: seconds(1, 7 * 86_400).default(3600),
  maxAheadS: seconds(1, 86_400).default(300),
};

/** Tasmota's Time is local wall-clock time without a zone: say which (else the payload's TimeZone, else UTC). */
const deviceZone = {
  utcOffset: z.string().refine((v) => parseUtcOffset(v) !== undefined, 'use +HH:MM or -HH:MM, e.g. +03:00').optional(),
  timezone: z.string().refine(isTimeZone, 'not a time zone this system knows, e.g. Europe/Berlin').optional(),
};

const mqttSettings = z.discriminatedUnion('format', [
  z
    .strictObject({ format: z.literal('tasmota'), topic, sensorKey: z.string().max(64).optional(), ...deviceZone, ...readingTime, ...limits })
    .refine((s) => s.utcOffset === undefined || s.timezone === undefined, 'give utcOffset or timezone, not both'),
  z.strictObject({ format: z.literal('shelly'), topic, component: z.number().int().min(0).max(99).default(0), ...readingTime, ...limits }),
  z.strictObject({
    format: z.literal('esphome'),
    topics: z.partialRecord(quantity, topic).refine((t) => Object.keys(t).length > 0, 'name at least one state topic'),
    unit,
    ...readingTime,
    ...limits,
  }),
  z.strictObject({
    format: z.literal('json'),
    topic,
    paths: z.partialRecord(quantity, z.string().min(1).max(200)).refine((t) => Object.keys(t).length > 0, 'name at least one path'),
    unit,
    ...readingTime,
    ...limits,
  }),
]);

const httpSettings = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  format: z.enum(['tasmota', 'shelly', 'json']).default('json'),
  paths: z.partialRecord(quantity, z.string().min(1).max(200)).optional(),
  component: z.number().int().min(0).max(99).default(0),
  unit,
  intervalS: seconds(1, 3600).default(10),
  timeoutMs: z.number().int().min(100).max(60_000).default(3000),
  ...limits,
});

const register = z.strictObject({
  address: z.number().int().min(0).max(65535),
  type: z.enum(['int16', 'uint16', 'int32', 'uint32', 'float32']).default('int16'),
  /** value = raw × scale + offset, e.g. 0.1 for tenths of a degree. */
  scale: z.number().default(1),
  offset: z.number().default(0),
  /** Word order of 32-bit values: big (high word first, the Modbus norm) or little. */
  words: z.enum(['big', 'little']).default('big'),
});

const modbusSettings = z.strictObject({
  host: z.string().refine((h) => isIP(h) !== 0 || /^[A-Za-z0-9.-]{1,253}$/.test(h), 'must be an IP address or host name'),
  port: z.number().int().min(1).max(65535).default(502),
  unitId: z.number().int().min(0).max(255).default(1),
  registers: z.partialRecord(quantity, register).refine((r) => Object.keys(r).length > 0, 'map at least one quantity to a register'),
  unit,
  intervalS: seconds(1, 3600).default(10),
  timeoutMs: z.number().int().min(100).max(60_000).default(3000),
  ...limits,
});

export type MqttSensorSettings = z.infer<typeof mqttSettings>;
export type HttpSensorSettings = z.infer<typeof httpSettings>;
export type ModbusSensorSettings = z.infer<typeof modbusSettings>;
export type RegisterSpec = z.infer<typeof register>;
export type SensorLimits = { [K in keyof typeof limits]?: number };

export type ConfiguredSensor =
  | (SensorRef & { protocol: 'mqtt'; settings: MqttSensorSettings })
  | (SensorRef & { protocol: 'http'; settings: HttpSensorSettings })
  | (SensorRef & { protocol: 'modbus'; settings: ModbusSensorSettings });

/** Every sensor of the inventory: climate ones, and the security sensors of issue 15 (security/). */
export type AnySensor = ConfiguredSensor | SecuritySensor;

export function isSecuritySensor(s: AnySensor): s is SecuritySensor {
  return 'security' in s;
}

export const DEFAULT_LIMITS = {
  minC: 5,
  maxC: 38,
  condensationMarginC: 3,
  tolerancePct: 10,
  stuckAfterS: 60,
  staleAfterS: 120,
  /** Exhaust sensors: EXHAUST_TOO_HOT over this. */
  exhaustMaxC: 60,
} as const;

export class SensorSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid climate sensor settings:\n  ${problems.join('\n  ')}`);
    this.name = 'SensorSettingsError';
  }
}

function parseOne(spec: SensorSpec, container: ContainerSpec): AnySensor {
  const ref: SensorRef = { id: spec.id, site: container.site, container: container.name, position: spec.position };
  if (isSecurityPosition(spec.position)) {
    // Door, motion, tamper, smoke and leak sensors speak MQTT (Shelly, Zigbee2MQTT, Tasmota); Tasmota by default.
    if (spec.protocol !== 'mqtt') throw new Error(`protocol: a ${spec.position} sensor is read over mqtt, not ${spec.protocol}`);
    const parsed = securitySettings.safeParse({ format: 'tasmota', ...spec.settings });
    if (!parsed.success) throw new Error(formatIssues(parsed.error, { whole: '(settings)' }).join('; '));
    return { ...ref, position: spec.position, protocol: 'mqtt', security: true, settings: parsed.data };
  }
  const raw = spec.protocol === 'mqtt' ? { format: 'tasmota', ...spec.settings } : spec.settings;
  const schema = spec.protocol === 'mqtt' ? mqttSettings : spec.protocol === 'http' ? httpSettings : modbusSettings;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(formatIssues(parsed.error, { whole: '(settings)' }).join('; '));
  }
  return { ...ref, protocol: spec.protocol, settings: parsed.data } as ConfiguredSensor;
}

/** Every sensor of the chosen containers, validated; all problems at once, each naming file, container and sensor. */
export function configureSensors(inventory: Inventory, containers?: readonly string[]): AnySensor[] {
  const wanted = containers?.length ? new Set(containers) : undefined;
  const problems: string[] = [];
  const out: AnySensor[] = [];
  for (const c of inventory.containers) {
    if (wanted && !wanted.has(c.name)) continue;
    for (const s of c.sensors) {
      try {
        out.push(parseOne(s, c));
      } catch (err) {
        problems.push(`${inventory.source}: container ${c.name}, sensor ${s.id} (${s.protocol}): ${(err as Error).message}`);
      }
    }
  }
  if (problems.length > 0) throw new SensorSettingsError(problems);
  return out;
}

export function limitsOf(sensor: ConfiguredSensor): SensorLimits {
  return sensor.settings;
}
