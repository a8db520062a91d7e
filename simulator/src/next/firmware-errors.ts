/**
 * How each firmware family words its own error codes (shared/miner-api-next/error-codes/PROTOCOLS.md), and which
 * code a PSU failure produces. The reasons are our wording of the tables' meanings unless a capture gave the text.
 */
import type { SimProfile } from '../catalog';
import { FaultError, type FirmwareErrorState, type HostileMode } from '../faults';

/** Whatsminer codes with a meaning from the tables (531 "Slot1 not found." is the vendor's own example). */
const WHATSMINER_REASONS: Readonly<Record<string, string>> = {
  '110': 'Intake fan speed error.',
  '111': 'Exhaust fan speed error.',
  '200': 'Power supply not found.',
  '202': 'Power output voltage error.',
  '206': 'Power input voltage too low.',
  '350': 'Slot0 temperature protecting.',
  '351': 'Slot1 temperature protecting.',
  '352': 'Slot2 temperature protecting.',
  '410': 'Slot0 EEPROM detect error.',
  '411': 'Slot1 EEPROM detect error.',
  '412': 'Slot2 EEPROM detect error.',
  '530': 'Slot0 not found.',
  '531': 'Slot1 not found.',
  '532': 'Slot2 not found.',
  '600': 'Environment temperature is too high.',
  '2010': 'All pools are disabled.',
};

/** Braiins OS codes seen in /api/v1/miner/errors captures, with the reason and hint as sent. */
const BRAIINS_CODES: Readonly<Record<string, { reason: string; hint: string }>> = {
  V2: {
    reason: 'Overcurrent protection triggered or short circuit',
    hint: 'The voltage measured by the hashboard was significantly lower than expected. Check the PSU, the power rail screws and the hashboards.',
  },
  H1: { reason: 'DISABLING hashboards not allowed on NoPIC miners', hint: 'NoPIC miners power their hashboards all the time.' },
  H2: { reason: 'Hashboard stopped sending hashes', hint: 'Check the hashboard and its data cable.' },
};

/** The code a family's firmware reports when its PSU fails (Antminer and ePIC show it in other fields). */
const PSU_FAULT_CODE: Partial<Record<ErrorStyle, string>> = { whatsminer: '202', braiins: 'V2' };

export type ErrorStyle = 'whatsminer' | 'braiins' | 'antminer' | 'epic' | 'vnish' | 'none';

/** Which error-code style a profile's newer API speaks (none: only the CGMiner API, which has no codes). */
export function errorStyle(profile: SimProfile): ErrorStyle {
  const api = profile.api;
  if (!api) return 'none';
  if (api.whatsminerV3) return 'whatsminer';
  if (api.http === 'braiins-rest') return 'braiins';
  if (api.http === 'antminer-cgi') return 'antminer';
  if (api.http === 'vnish-rest') return 'vnish';
  if (api.main === 'epic-http') return 'epic';
  return 'none';
}

/** Refuses a code the unit's firmware could not send (Whatsminer and Antminer codes are numbers, Braiins' are a letter and digits). */
export function checkFirmwareErrorCode(profile: SimProfile, code: string, minerId: string): void {
  const style = errorStyle(profile);
  if (style === 'none') throw new FaultError(`miner ${minerId} (${profile.id}) speaks only the CGMiner API, which carries no firmware error codes`);
  if (style === 'vnish') throw new FaultError(`miner ${minerId}: VNish publishes no error code table the simulator could follow`);
  if ((style === 'whatsminer' || style === 'antminer') && !/^\d{1,7}$/.test(code)) {
    throw new FaultError(`miner ${minerId}: ${style} error codes are numbers, got "${code}"`);
  }
  if (style === 'braiins' && !/^[A-Z]{1,2}\d{1,3}$/.test(code)) throw new FaultError(`miner ${minerId}: Braiins OS error codes look like "V2" or "H1", got "${code}"`);
}

export function whatsminerReason(e: FirmwareErrorState): string {
  return e.reason ?? WHATSMINER_REASONS[e.code] ?? `Error code ${e.code}.`;
}

export function braiinsCode(e: FirmwareErrorState): { code: string; reason: string; hint: string } {
  const known = BRAIINS_CODES[e.code];
  return { code: e.code, reason: e.reason ?? known?.reason ?? `Error ${e.code}`, hint: known?.hint ?? '' };
}

/** "2026-11-24 20:00:00" in UTC, as the v3 error-code list writes times. */
export function minerDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function psuFaultCode(profile: SimProfile): string | undefined {
  return PSU_FAULT_CODE[errorStyle(profile)];
}

/** Refuses a hostile mode on a unit without the transport it misbehaves on. */
export function checkHostileMode(profile: SimProfile, mode: HostileMode, minerId: string): void {
  const api = profile.api;
  const http = api?.http !== undefined || api?.main === 'epic-http';
  const ok =
    mode === 'v3-garbage-after-frame' || mode === 'v3-huge-length'
      ? api?.whatsminerV3 === true
      : mode === 'digest-loop'
        ? api?.http !== undefined
        : http;
  if (!ok) throw new FaultError(`miner ${minerId} (${profile.id}) has no transport for hostile mode "${mode}"`);
}
