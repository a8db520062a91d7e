/**
 * Faults the simulator can inject into one miner at run time. The request schema doubles as the control API's input
 * validation, so the HTTP layer and programmatic callers accept exactly the same things.
 */
import { z } from 'zod';

const toggle = { on: z.boolean().default(true) };

export const faultRequestSchema = z.discriminatedUnion('fault', [
  /** index: 0-based position among the unit's real fans (not the firmware's fanN slot). */
  z.object({ fault: z.literal('stopFan'), index: z.int().min(0) }),
  /** board: 0-based hashboard position. missing=true: chips vanish from the chain instead of reading 'x'. */
  z.object({
    fault: z.literal('killChips'),
    board: z.int().min(0),
    count: z.int().min(1),
    missing: z.boolean().default(false),
  }),
  z.object({ fault: z.literal('dropBoard'), board: z.int().min(0) }),
  z.object({ fault: z.literal('overheat'), ...toggle }),
  z.object({ fault: z.literal('sleep'), ...toggle }),
  z.object({ fault: z.literal('offline'), ...toggle }),
  z.object({ fault: z.literal('hang'), ...toggle }),
  z.object({ fault: z.literal('poolsDead'), ...toggle }),
  /** ms: delay before each reply; 0 removes it. */
  z.object({ fault: z.literal('slow'), ms: z.int().min(0).max(600_000) }),
  z.object({ fault: z.literal('garbage'), kind: z.enum(['binary', 'truncated', 'off']).default('binary') }),
  /** downSeconds: API refuses connections this long; warmupSeconds: then answers but does not hash yet. */
  z.object({
    fault: z.literal('reboot'),
    downSeconds: z.number().min(0).max(3600).default(0),
    warmupSeconds: z.number().min(0).max(3600).default(5),
  }),
  /**
   * The firmware reports one of its own error codes (Whatsminer "531", Braiins "V2", Antminer a summary.cgi status
   * code, ePIC a Last Error text). reason: the text sent with it (defaults per family, error-codes/ tables).
   * subsystem: Antminer only, which summary.cgi status entry carries it.
   */
  z.object({
    fault: z.literal('firmwareError'),
    code: z.string().min(1).max(32).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
    reason: z.string().max(200).optional(),
    subsystem: z.enum(['rate', 'network', 'fans', 'temp']).optional(),
    ...toggle,
  }),
  /** The power supply fails: boards lose power, hashing stops, and the firmware reports its PSU error code. */
  z.object({ fault: z.literal('psuFault'), ...toggle }),
  /**
   * Someone changed the unit's web/API password: the configured credentials stop working.
   * password: the new one (default: a random one nobody knows); on:false restores the configured password.
   */
  z.object({ fault: z.literal('authChange'), password: z.string().min(1).max(128).optional(), ...toggle }),
  /** Misbehaving transports for the exporter's hostile-input tests (see HOSTILE_MODES). */
  z.object({ fault: z.literal('hostile'), mode: z.enum(['v3-garbage-after-frame', 'v3-huge-length', 'http-endless-body', 'http-slow-headers', 'digest-loop', 'off']) }),
  /**
   * Intrusion (issue 15): someone points the unit's hashrate elsewhere. url/worker: the foreign pool and worker
   * (default a thief's); all: on every pool entry, not only the active one (the clearest case); on:false restores.
   */
  z.object({
    fault: z.literal('poolHijack'),
    url: z.string().min(1).max(2048).optional(),
    worker: z.string().min(1).max(2048).optional(),
    all: z.boolean().default(false),
    ...toggle,
  }),
  /** The unit now reports this firmware version (someone flashed it); reported by every protocol that gives one. */
  z.object({ fault: z.literal('firmwareChange'), version: z.string().min(1).max(128).regex(/^[\x20-\x7e]+$/, 'printable ASCII') }),
  /** Another machine now stands in the slot: new serial numbers and MAC, same address. */
  z.object({ fault: z.literal('swap') }),
  z.object({ fault: z.literal('clear') }),
]);

export type HostileMode = 'v3-garbage-after-frame' | 'v3-huge-length' | 'http-endless-body' | 'http-slow-headers' | 'digest-loop';

/** One firmware error code the miner currently reports. */
export interface FirmwareErrorState {
  code: string;
  reason: string | undefined;
  subsystem: 'rate' | 'network' | 'fans' | 'temp' | undefined;
  /** When the firmware logged it (ms since the epoch). */
  sinceMs: number;
}

export type FaultRequest = z.input<typeof faultRequestSchema>;
export type ParsedFaultRequest = z.output<typeof faultRequestSchema>;
export type FaultName = ParsedFaultRequest['fault'];

/** What is currently wrong with a miner; absent fields mean healthy. Reported as-is by GET /miners. */
export interface ActiveFaults {
  stoppedFans: number[];
  /** Per board: chips reading 'x'. */
  deadChips: number[];
  /** Per board: chips no longer found on the chain. */
  missingChips: number[];
  droppedBoards: number[];
  overheat: boolean;
  sleep: boolean;
  offline: boolean;
  hang: boolean;
  poolsDead: boolean;
  slowMs: number;
  garbage: 'binary' | 'truncated' | null;
  firmwareErrors: FirmwareErrorState[];
  psuFault: boolean;
  /** A password set by an authChange fault (null: the configured one works). */
  changedPassword: string | null;
  hostile: HostileMode | null;
  /** A foreign pool and worker set by poolHijack (all: on every pool entry). */
  poolHijack: { url: string; worker: string; all: boolean } | null;
  /** The firmware version set by firmwareChange (null: the profile's own). */
  firmwareVersion: string | null;
  /** How many times another machine was put in the slot (0: the original; serials and MAC derive from it). */
  swaps: number;
}

/** A fault request that does not fit the miner (board 5 on a 3-board unit, sleep on firmware without sleep ...). */
export class FaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultError';
  }
}
