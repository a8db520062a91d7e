/**
 * Shelly security sensors, three ways onto MQTT:
 *  - Gen1 (Door/Window 2, Flood, Smoke): `shellies/<device>/sensor/state` open|close, `sensor/vibration` 0|1,
 *    `sensor/flood` and `sensor/smoke` true|false, `sensor/battery` (a sign of life when it wakes), and its last
 *    will `shellies/<device>/online` true|false.
 *  - BLU sensors through a Gen2/Gen3 gateway's BTHome components: `<prefix>/status/bthomesensor:<N>` =
 *    {id, value, last_updated_ts}, value 1/true = the position's condition (window open, motion, ...); the
 *    gateway's `<prefix>/online` true|false (BLE sensors have no will of their own).
 *  - BLU sensors through the official universal-blu-to-mqtt script: topic = the sensor, payload
 *    {addr, rssi, service_data: {pid, battery, window?, motion?}}.
 */
import { z } from 'zod';
import { isRecord, parseJson } from '../payloads';
import { PayloadRejected } from '../types';
import { CONDITION_OF, exactTopic, offlineAfterS, topicLevel, type SecurityMessage, type SecurityRoute } from './family';
import type { SecurityPosition } from '@flymining/shared';

/** Battery sensors wake on events and about daily: 25 h of silence by default (as Zigbee2MQTT's passive timeout). */
const BATTERY_OFFLINE_S = 25 * 3600;

export const shellyGen1Settings = z.strictObject({ format: z.literal('shelly-gen1'), device: topicLevel, offlineAfterS: offlineAfterS(BATTERY_OFFLINE_S) });
export const shellyBthomeSettings = z.strictObject({
  format: z.literal('shelly-bthome'),
  /** The gateway's MQTT topic_prefix (default: its device id). */
  prefix: exactTopic,
  /** The N of bthomesensor:N (BTHome sensor components start at 200). */
  component: z.number().int().min(0).max(65535),
  offlineAfterS: offlineAfterS(BATTERY_OFFLINE_S),
});
export const shellyBluSettings = z.strictObject({ format: z.literal('shelly-blu'), topic: exactTopic, offlineAfterS: offlineAfterS(BATTERY_OFFLINE_S) });

type Gen1 = z.infer<typeof shellyGen1Settings>;
type Bthome = z.infer<typeof shellyBthomeSettings>;
type Blu = z.infer<typeof shellyBluSettings>;

function word<T>(text: string, field: string, meanings: Record<string, T>): T {
  const v = meanings[text.trim()];
  if (v === undefined) throw new PayloadRejected('wrong-type', `${field} is ${JSON.stringify(text.slice(0, 20))}, not one of ${Object.keys(meanings).join('|')}`);
  return v;
}

const trueFalse = { true: true, false: false };

export function shellyGen1Routes(s: Gen1): SecurityRoute[] {
  const base = `shellies/${s.device}`;
  return [
    { topic: `${base}/sensor/state`, decode: (t) => ({ state: { open: word(t, 'sensor/state', { open: true, close: false, closed: false }) } }) },
    { topic: `${base}/sensor/vibration`, decode: (t) => ({ state: { tamper: word(t, 'sensor/vibration', { '1': true, '0': false }) } }) },
    { topic: `${base}/sensor/flood`, decode: (t) => ({ state: { leak: word(t, 'sensor/flood', trueFalse) } }) },
    { topic: `${base}/sensor/smoke`, decode: (t) => ({ state: { smoke: word(t, 'sensor/smoke', trueFalse) } }) },
    {
      topic: `${base}/sensor/battery`,
      decode: (t) => {
        if (!/^\s*\d{1,3}(\.\d+)?\s*$/.test(t)) throw new PayloadRejected('wrong-type', `sensor/battery is ${JSON.stringify(t.slice(0, 20))}, not a percentage`);
        return {};
      },
    },
    { topic: `${base}/online`, decode: (t) => ({ online: word(t, 'online', trueFalse) }) },
  ];
}

/** A BTHome binary value: 0/1 or false/true. */
function binary(v: unknown, field: string): boolean {
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'boolean') return v;
  throw new PayloadRejected('wrong-type', `${field} is ${JSON.stringify(v)?.slice(0, 20) ?? typeof v}, not 0/1`);
}

export function shellyBthomeRoutes(s: Bthome, position: SecurityPosition): SecurityRoute[] {
  const condition = CONDITION_OF[position];
  return [
    {
      topic: `${s.prefix}/status/bthomesensor:${s.component}`,
      decode: (t) => {
        const doc = parseJson(t);
        if (!isRecord(doc)) throw new PayloadRejected('wrong-type', `bthomesensor:${s.component} status is not a JSON object`);
        if (doc.value === undefined || doc.value === null) return {}; // not measured yet: the component exists
        return { state: { [condition]: binary(doc.value, `bthomesensor:${s.component}.value`) } };
      },
    },
    { topic: `${s.prefix}/online`, decode: (t) => ({ online: word(t, 'online', trueFalse) }) },
  ];
}

/** service_data keys of the BLU script by condition (BTHome object names). */
const BLU_KEYS: Partial<Record<string, string>> = { open: 'window', motion: 'motion', smoke: 'smoke', leak: 'moisture' };

export function shellyBluRoutes(s: Blu, position: SecurityPosition): SecurityRoute[] {
  const condition = CONDITION_OF[position];
  const key = BLU_KEYS[condition];
  return [
    {
      topic: s.topic,
      decode: (t) => {
        const doc = parseJson(t);
        if (!isRecord(doc) || !isRecord(doc.service_data)) throw new PayloadRejected('wrong-type', 'BLU payload without a service_data object');
        const v = key === undefined ? undefined : doc.service_data[key];
        return v === undefined ? {} : { state: { [condition]: binary(v, `service_data.${key}`) } };
      },
    },
  ];
}
