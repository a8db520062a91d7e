/**
 * Judgement of a container's security sensors: the conditions they last reported (door open, motion, tamper,
 * smoke, leak) and whether each is still there. A sensor whose own will / availability said offline, or that sent
 * nothing for its offlineAfterS, is SENSOR_OFFLINE: a cut cable or a pulled battery defeats a door alarm, so
 * losing the sensor is itself a fault. Its last known conditions stay judged meanwhile. Pure: state in, faults out.
 */
import type { FaultCode } from '@flymining/shared';
import type { Wanted } from '../evaluate';
import type { ConditionState, SecurityCondition, SecuritySensor } from './index';

export interface SecuritySensorState {
  sensor: SecuritySensor;
  /** The conditions last reported (absent = never reported). */
  state: ConditionState;
  /** False after the device's will / availability said offline, until it says online or sends anything else. */
  online: boolean;
  /** ms when anything last arrived from it (start time until then): silence is judged on arrival. */
  lastSeen: number;
  /** ms when it said offline. */
  offlineSince?: number;
}

const FAULT_OF: Record<SecurityCondition, FaultCode> = { open: 'DOOR_OPEN', motion: 'MOTION', tamper: 'TAMPER', smoke: 'SMOKE', leak: 'WATER_LEAK' };
const WORDS: Record<SecurityCondition, string> = {
  open: 'reports the door/window open',
  motion: 'detects motion',
  tamper: 'reports tampering or vibration',
  smoke: 'detects smoke',
  leak: 'detects a water leak',
};

export function isOffline(s: SecuritySensorState, now: number): boolean {
  return !s.online || now - s.lastSeen > s.sensor.settings.offlineAfterS * 1000;
}

export function evaluateSecurity(container: string, states: readonly SecuritySensorState[], now: number): Wanted[] {
  const faults: Wanted[] = [];
  for (const s of states) {
    const { id, position } = s.sensor;
    const format = s.sensor.settings.format;
    for (const condition of Object.keys(FAULT_OF) as SecurityCondition[]) {
      if (s.state[condition] !== true) continue;
      faults.push({
        code: FAULT_OF[condition],
        minerId: id,
        part: id,
        message: `container ${container}: ${position} sensor ${id} ${WORDS[condition]}`,
        details: { position, format },
      });
    }
    if (!isOffline(s, now)) continue;
    const silentS = Math.round((now - s.lastSeen) / 1000);
    const why = !s.online
      ? `said it went offline (last will / availability) at ${new Date(s.offlineSince ?? s.lastSeen).toISOString()}`
      : `sent nothing for ${silentS} s (offlineAfterS ${s.sensor.settings.offlineAfterS})`;
    faults.push({
      code: 'SENSOR_OFFLINE',
      minerId: id,
      part: id,
      message: `container ${container}: ${position} sensor ${id} is offline: it ${why}; its alarm cannot be trusted until it is back`,
      details: { position, format, silentS },
    });
  }
  return faults;
}
