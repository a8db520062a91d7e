/**
 * Tasmota reed contacts and PIR modules wired as a Switch input. With `SwitchMode 15` (16 inverted) each change is
 * published at once as `tele/<topic>/SENSOR` {"Time":…, "Switch1":"ON"}, and every TelePeriod too; with
 * `SetOption114 1` the value is {"Action":"ON"}; `SwitchText1 Door` renames the key. `tele/<topic>/STATE` (every
 * TelePeriod) is a sign of life; `tele/<topic>/LWT` is Online (retained on connect) or Offline (the will).
 */
import { z } from 'zod';
import { isRecord, parseJson } from '../payloads';
import { PayloadRejected } from '../types';
import { CONDITION_OF, offlineAfterS, topicLevel, type SecurityRoute } from './family';
import type { SecurityPosition } from '@flymining/shared';

export const tasmotaSwitchSettings = z.strictObject({
  format: z.literal('tasmota'),
  /** Tasmota's %topic% (tele/<device>/SENSOR). */
  device: topicLevel,
  /** The JSON key of the input: Switch1 unless renamed with SwitchText. */
  switchKey: z.string().min(1).max(64).default('Switch1'),
  /** Which value means the condition holds (door open, motion): depends on the wiring and SwitchMode. */
  activeWhen: z.enum(['ON', 'OFF']).default('ON'),
  /** Mains powered: TelePeriod (default 300 s) × 3. */
  offlineAfterS: offlineAfterS(900),
});
type Settings = z.infer<typeof tasmotaSwitchSettings>;

export function tasmotaSwitchRoutes(s: Settings, position: SecurityPosition): SecurityRoute[] {
  const condition = CONDITION_OF[position];
  return [
    {
      topic: `tele/${s.device}/SENSOR`,
      decode: (t) => {
        const doc = parseJson(t);
        if (!isRecord(doc)) throw new PayloadRejected('wrong-type', 'Tasmota SENSOR is not a JSON object');
        let v = doc[s.switchKey];
        if (v === undefined) return {}; // telemetry without the switch (e.g. only a thermometer): alive
        if (isRecord(v)) v = v.Action;
        if (v !== 'ON' && v !== 'OFF') throw new PayloadRejected('wrong-type', `${s.switchKey} is ${JSON.stringify(v)?.slice(0, 20)}, not "ON"/"OFF"`);
        return { state: { [condition]: v === s.activeWhen } };
      },
    },
    {
      topic: `tele/${s.device}/STATE`,
      decode: (t) => {
        if (!isRecord(parseJson(t))) throw new PayloadRejected('wrong-type', 'Tasmota STATE is not a JSON object');
        return {};
      },
    },
    {
      topic: `tele/${s.device}/LWT`,
      decode: (t) => {
        const w = t.trim();
        if (w !== 'Online' && w !== 'Offline') throw new PayloadRejected('wrong-type', `LWT is ${JSON.stringify(w.slice(0, 20))}, not Online/Offline`);
        return { online: w === 'Online' };
      },
    },
  ];
}
