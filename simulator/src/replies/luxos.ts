/**
 * LuxOS write rules (miner-api-next/luxos PROTOCOLS §1-2, miner-api QUIRKS §12; docs.luxor.tech sessions, logon,
 * session, curtail, profileset): writes carry a session id as their first parameter; `logon` creates one when none
 * is active (no password), `session` tells the active one, a session expires one minute after its last use and only
 * one exists at a time. Reads and cgminer's pool commands need none. The profiles are 5 % power steps around the
 * unit's default, each a frequency name like the captured `290MHz`; `profileset <n>W` picks the one nearest n watts.
 *
 * Codes from our sources: 316 logon, 319 session, 321 profileset, 323 profiles, 335 curtail, 339 atm, 340 atmset.
 * Codes no source shows (a refused session, rebootdevice, ledset, logoff, resetminer) are the simulator's own choice,
 * in the same numbering.
 */
import type { WireObject } from '../json';
import type { SimMiner } from '../miner';
import { cgminerWrite, failReply, splitParameter, successReply } from './cgminer-writes';
import { stableHex, type ReplyContext, type ReplyText } from './common';

const API = 'luxos';
const SESSION_IDLE_MS = 60_000;
/** Steps around the default profile the unit offers (power shares 0.5 .. 1.15 of typical). */
const PROFILE_STEPS = { min: -10, max: 3 } as const;
const POWER_PER_STEP = 0.05;
const MHZ_PER_STEP = 25;
/** Codes of replies no public capture shows (see the header). */
const SIM_CODE = { sessionRefused: 341, logonRefused: 317, logoff: 318, rebootdevice: 342, resetminer: 343, ledset: 344 } as const;

interface LuxosState {
  session: { id: string; lastUsedMs: number } | undefined;
  sessionsIssued: number;
  profile: string;
  atmEnabled: boolean;
  atmMaxProfile: string;
  redLed: 'auto' | 'on' | 'off' | 'blink';
}

const states = new WeakMap<SimMiner, LuxosState>();

function stateOf(miner: SimMiner): LuxosState {
  let s = states.get(miner);
  if (!s) {
    // The captured S19k Pro runs with ATM on.
    s = { session: undefined, sessionsIssued: 0, profile: 'default', atmEnabled: true, atmMaxProfile: 'default', redLed: 'auto' };
    states.set(miner, s);
  }
  return s;
}

interface Profile {
  name: string;
  step: number;
  watts: number;
  frequencyMhz: number;
}

export function luxosProfiles(miner: SimMiner): Profile[] {
  const p = miner.profile;
  const out: Profile[] = [];
  for (let step: number = PROFILE_STEPS.min; step <= PROFILE_STEPS.max; step++) {
    const frequencyMhz = p.frequencyMhz + MHZ_PER_STEP * step;
    out.push({ name: step === 0 ? 'default' : `${frequencyMhz}MHz`, step, watts: Math.round(p.typicalPowerW * (1 + POWER_PER_STEP * step)), frequencyMhz });
  }
  return out;
}

/** The profile the unit runs (config `Profile`, devs `Profile`). */
export function luxosCurrentProfile(miner: SimMiner): Profile {
  const profiles = luxosProfiles(miner);
  const name = miner.commandedState().powerTargetW === null ? 'default' : stateOf(miner).profile;
  return profiles.find((x) => x.name === name) ?? (profiles.find((x) => x.step === 0) as Profile);
}

export function luxosConfigFields(miner: SimMiner): WireObject {
  const s = stateOf(miner);
  const current = luxosCurrentProfile(miner);
  return { IsAtmEnabled: s.atmEnabled, Profile: current.name, ProfileStep: String(current.step), RedLed: miner.commandedState().blinking ? 'blink' : s.redLed, GreenLed: 'auto' };
}

function activeSession(s: LuxosState, nowMs: number): LuxosState['session'] {
  if (s.session && nowMs - s.session.lastUsedMs > SESSION_IDLE_MS) s.session = undefined;
  return s.session;
}

/** A profile by name, `<n>W`, `<n>kW`, `<n>THs`, or relative `+n`/`-n`. */
function pickProfile(miner: SimMiner, selector: string): Profile | undefined {
  const profiles = luxosProfiles(miner);
  const nearest = (value: number, of: (x: Profile) => number): Profile | undefined =>
    profiles.reduce<Profile | undefined>((best, x) => (best === undefined || Math.abs(of(x) - value) < Math.abs(of(best) - value) ? x : best), undefined);
  const units = /^(\d+(?:\.\d+)?)(W|kW|THs)$/.exec(selector);
  if (units) {
    const value = Number(units[1]) * (units[2] === 'kW' ? 1000 : 1);
    if (units[2] === 'THs') return nearest(value, (x) => miner.profile.nominalThs * (1 + POWER_PER_STEP * x.step) ** 0.8);
    return nearest(value, (x) => x.watts);
  }
  if (/^[+-]\d+$/.test(selector)) {
    const step = luxosCurrentProfile(miner).step + Number(selector);
    return profiles.find((x) => x.step === step);
  }
  return profiles.find((x) => x.name === selector);
}

function profilesSection(miner: SimMiner): WireObject[] {
  const current = luxosCurrentProfile(miner);
  return luxosProfiles(miner).map((x) => ({
    CanRestore: true,
    Frequency: x.frequencyMhz,
    HasOverrides: false,
    Hashrate: Math.round(miner.profile.nominalThs * (1 + POWER_PER_STEP * x.step) ** 0.8 * 10) / 10,
    IsDynamic: true,
    IsTuned: x.name === current.name,
    'Profile Name': x.name,
    Step: String(x.step),
    Voltage: Math.round((13.5 + 0.15 * x.step) * 100) / 100,
    Watts: x.watts,
  }));
}

function atmSection(s: LuxosState): WireObject[] {
  return [{ ChipTempWindow: 8, Enabled: s.atmEnabled, MaxProfile: s.atmMaxProfile, MaxProfileStep: '0', MinProfile: '', PostRampMinutes: 15, StartupMinutes: 15, TempWindow: 5, WaterInletTempWindow: 7 }];
}

/** LuxOS' answer to a session, write or control read; undefined for the report commands. */
export function luxosControl(ctx: ReplyContext, description: string, command: string | undefined, request: Readonly<Record<string, unknown>>): ReplyText | undefined {
  if (command === undefined) return undefined;
  const miner = ctx.miner;
  const s = stateOf(miner);
  const now = ctx.reading.nowMs;
  const ok = (code: number, msg: string, sections: WireObject = {}): ReplyText => successReply(ctx, description, 'S', code, msg, sections, true);
  switch (command) {
    case 'session':
      return ok(319, 'Session information', { SESSION: [{ SessionID: activeSession(s, now)?.id ?? '' }] });
    case 'logon': {
      if (activeSession(s, now)) return failReply(ctx, description, SIM_CODE.logonRefused, 'Another session is active');
      s.sessionsIssued++;
      const id = stableHex(`${miner.identityKey}/session/${s.sessionsIssued}`, 8);
      s.session = { id, lastUsedMs: now };
      return ok(316, 'Session created', { SESSION: [{ SessionID: id }] });
    }
    case 'profiles':
      return ok(323, 'List profiles', { PROFILES: profilesSection(miner) });
    case 'atm':
      return ok(339, 'ATM configuration values', { ATM: atmSection(s) });
  }
  const pools = cgminerWrite(ctx, description, API, command, request.parameter);
  if (pools) return pools;
  const SESSION_COMMANDS = new Set(['logoff', 'curtail', 'rebootdevice', 'resetminer', 'profileset', 'atmset', 'ledset']);
  if (!SESSION_COMMANDS.has(command)) return undefined;
  const [id, ...args] = splitParameter(request.parameter);
  const session = activeSession(s, now);
  if (!session || id !== session.id) return failReply(ctx, description, SIM_CODE.sessionRefused, 'Invalid session id');
  session.lastUsedMs = now;
  switch (command) {
    case 'logoff':
      s.session = undefined;
      return ok(SIM_CODE.logoff, 'Session closed');
    case 'curtail':
      if (args[0] === 'sleep') {
        miner.commandSleep(API);
        return ok(335, 'Curtailment command sent', { CURTAIL: [{ Action: 'sleep mode' }] });
      }
      if (args[0] === 'wakeup') {
        miner.commandWake(API);
        return ok(335, 'Curtailment command sent', { CURTAIL: [{ Action: 'wake up' }] });
      }
      return failReply(ctx, description, 336, `Invalid curtail action '${args[0] ?? ''}'`);
    case 'rebootdevice':
      miner.commandReboot(API);
      return ok(SIM_CODE.rebootdevice, 'Device reboot scheduled');
    case 'resetminer':
      miner.commandReboot(API);
      return ok(SIM_CODE.resetminer, 'Miner reset scheduled');
    case 'profileset': {
      const profile = pickProfile(miner, args[0] ?? '');
      if (!profile) return failReply(ctx, description, 322, `Profile '${args[0] ?? ''}' not found`);
      miner.commandPowerTarget(API, profile.watts);
      s.profile = profile.name;
      return ok(321, 'Profile Set', { PROFILE: [{ Board: 0, FrequencyStep: 5, Profile: profile.name, VoltageStep: 0.05 }] });
    }
    case 'atmset':
      for (const pair of args) {
        const [key, value] = pair.split('=');
        if (key === 'enabled') s.atmEnabled = value === 'true';
        else if (key === 'max_profile' && value && pickProfile(miner, value)) s.atmMaxProfile = value;
        else return failReply(ctx, description, 341, `Invalid atmset parameter '${pair}'`);
      }
      return ok(340, 'ATM configuration updated', { ATM: atmSection(s) });
    case 'ledset': {
      const [color, state] = args;
      if (color !== 'red' || !(state === 'on' || state === 'off' || state === 'blink' || state === 'auto')) return failReply(ctx, description, 345, `Invalid ledset parameters '${args.join(',')}'`);
      s.redLed = state;
      miner.commandBlink(API, state === 'blink');
      return ok(SIM_CODE.ledset, 'LED set', { LED: [{ Color: color, State: state }] });
    }
  }
  return undefined;
}
