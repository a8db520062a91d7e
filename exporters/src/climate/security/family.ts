/**
 * What every security payload family (one module each: shelly.ts, zigbee2mqtt.ts, tasmota.ts) produces from a
 * message on one of its topics: the conditions it reports, whether the device says it is online, or neither (a
 * sign of life such as a battery report or Tasmota's periodic STATE).
 */
import type { SecurityPosition } from '@flymining/shared';
import { z } from 'zod';

export type SecurityCondition = 'open' | 'motion' | 'tamper' | 'smoke' | 'leak';
export type ConditionState = Partial<Record<SecurityCondition, boolean>>;

export interface SecurityMessage {
  state?: ConditionState;
  /** The device's own last will / availability: false = offline. */
  online?: boolean;
}

/** The condition a sensor's single state means (a Tasmota switch, a BTHome binary value) by its position. */
export const CONDITION_OF: Record<SecurityPosition, SecurityCondition> = {
  door: 'open',
  motion: 'motion',
  tamper: 'tamper',
  smoke: 'smoke',
  leak: 'leak',
};

export interface SecurityRoute {
  topic: string;
  /** undefined: a valid message that says nothing about this sensor (e.g. its Zigbee2MQTT bridge came back). */
  decode(text: string): SecurityMessage | undefined;
}

/** One exact topic: a wildcard would mix several devices under one sensor id. */
export const exactTopic = z.string().min(1).max(256).regex(/^[^+#\u0000]+$/, 'one exact topic, without the MQTT wildcards + and #');
/** One topic level (a device id, a Tasmota topic): no '/', no wildcards. */
export const topicLevel = z.string().min(1).max(128).regex(/^[^/+#\u0000\s]+$/, 'one topic level: no "/", "+", "#" or spaces');
/**
 * Seconds without any message (state, battery report, periodic telemetry) after which the sensor counts as offline:
 * a cut cable or a flat battery. Battery devices sleep and report rarely, so their default is long: lower it to
 * just above the device's own report interval for security sensors.
 */
export const offlineAfterS = (defaultS: number) => z.number().min(10).max(7 * 86_400).default(defaultS);
