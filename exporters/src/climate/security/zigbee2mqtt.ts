/**
 * Zigbee2MQTT: the device state as JSON on `<base>/<friendly name>` (every field optional per device): `contact`
 * (true = closed), `occupancy`, `vibration`, `tamper`, `smoke`, `water_leak`; availability (when enabled in
 * Zigbee2MQTT) retained on `<base>/<friendly name>/availability`: `{"state":"online"|"offline"}` since 2.0, the
 * plain word before. The bridge itself announces `<base>/bridge/state` (its will: offline): while the bridge is
 * gone no device can report, so each of its sensors is offline; when it returns it republishes every device's
 * availability and state, which bring them back.
 */
import { z } from 'zod';
import { isRecord, parseJson } from '../payloads';
import { PayloadRejected } from '../types';
import { exactTopic, offlineAfterS, type ConditionState, type SecurityCondition, type SecurityRoute } from './family';

export const zigbee2mqttSettings = z.strictObject({
  format: z.literal('zigbee2mqtt'),
  /** The device's friendly name (may contain '/'). */
  friendlyName: exactTopic,
  baseTopic: exactTopic.default('zigbee2mqtt'),
  /** Zigbee2MQTT's own passive-device timeout is 25 h; its availability message usually comes first. */
  offlineAfterS: offlineAfterS(25 * 3600),
});
type Settings = z.infer<typeof zigbee2mqttSettings>;

/** Payload field → condition, and whether true means the condition holds (contact true = door closed). */
const FIELDS: Array<[string, SecurityCondition, boolean]> = [
  ['contact', 'open', false],
  ['occupancy', 'motion', true],
  ['vibration', 'tamper', true],
  ['tamper', 'tamper', true],
  ['smoke', 'smoke', true],
  ['water_leak', 'leak', true],
];

export function decodeZigbee2mqttState(text: string): ConditionState {
  const doc = parseJson(text);
  if (!isRecord(doc)) throw new PayloadRejected('wrong-type', 'Zigbee2MQTT state is not a JSON object');
  const state: ConditionState = {};
  for (const [field, condition, holdsWhen] of FIELDS) {
    const v = doc[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') throw new PayloadRejected('wrong-type', `${field} is ${JSON.stringify(v)?.slice(0, 20)}, not true/false`);
    // vibration and tamper both mean tamper: either one true is enough.
    state[condition] = (state[condition] ?? false) || v === holdsWhen;
  }
  return state;
}

export function decodeZigbee2mqttAvailability(text: string): boolean {
  const trimmed = text.trim();
  let word: unknown = trimmed;
  if (trimmed.startsWith('{')) {
    const doc = parseJson(trimmed);
    word = isRecord(doc) ? doc.state : undefined;
  }
  if (word === 'online') return true;
  if (word === 'offline') return false;
  throw new PayloadRejected('wrong-type', `availability/state is ${JSON.stringify(trimmed.slice(0, 30))}, not {"state":"online"|"offline"}`);
}

export function zigbee2mqttRoutes(s: Settings): SecurityRoute[] {
  const device = `${s.baseTopic}/${s.friendlyName}`;
  return [
    {
      topic: device,
      decode: (t) => {
        const state = decodeZigbee2mqttState(t);
        return Object.keys(state).length > 0 ? { state } : {};
      },
    },
    { topic: `${device}/availability`, decode: (t) => ({ online: decodeZigbee2mqttAvailability(t) }) },
    { topic: `${s.baseTopic}/bridge/state`, decode: (t) => (decodeZigbee2mqttAvailability(t) ? undefined : { online: false }) },
  ];
}
