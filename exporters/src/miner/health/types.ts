import type { Fault, MinerSample } from '@flymining/shared';

/**
 * Why a whole scrape failed. The kinds cover what the miner scraper reports (transport kinds plus reply problems);
 * kept here as a structural type so health does not depend on scraper internals.
 */
export type HealthFailureKind =
  | 'refused'
  | 'timeout'
  | 'reset'
  | 'malformed'
  | 'too-large'
  | 'unreachable'
  | 'empty'
  | 'unknown-firmware'
  | 'auth'
  | 'protocol';

export interface HealthScrapeFailure {
  kind: HealthFailureKind;
  message: string;
}

/** One scrape's outcome as health sees it: a sample, or the reason there is none. */
export type HealthInput = MinerSample | HealthScrapeFailure;

export function isScrapeFailure(input: HealthInput): input is HealthScrapeFailure {
  return 'kind' in input;
}

/**
 * What one miner's health remembers between evaluations. Plain JSON (no Map, no class) so it can be persisted
 * and restored when the exporter restarts.
 */
export interface MinerHealthState {
  /** Consecutive judged scrapes with the 5 s hashrate below the low share of nominal. */
  lowHashrateScrapes: number;
  /** Uptime of the last sample that reported one; reboot detection compares against it. */
  lastUptimeS?: number;
  /** Active faults by faultKey. */
  active: Record<string, Fault>;
  /** Firmware, version, serial and MAC last reported (issue 15: FIRMWARE_CHANGED, MINER_SWAPPED). */
  identity?: MinerIdentity;
  /** The configured pools last read, as poolSetText gives them (changes go to the audit history). */
  poolSet?: string;
  /** A devfee switch under way: when it started (ms). */
  devfee?: { since: number };
}

export interface MinerIdentity {
  firmware: string;
  version?: string;
  serial?: string;
  mac?: string;
}

/** Kinds of rows in a miner's change history (`miner_change`). */
export const MINER_CHANGE_KINDS = ['pools', 'devfee', 'firmware', 'serial', 'mac', 'unknown_device'] as const;
export type MinerChangeKind = (typeof MINER_CHANGE_KINDS)[number];

/** One change of a miner's pools, firmware or identity, for its audit history. */
export interface MinerChange {
  kind: MinerChangeKind;
  before: string;
  after: string;
}

export interface HealthEvaluation {
  /** Every fault active after this scrape. */
  faults: Fault[];
  state: MinerHealthState;
  /** What changed in this scrape (pools, firmware, serial, MAC, devfee switch start). */
  changes: MinerChange[];
}

export function emptyHealthState(): MinerHealthState {
  return { lowHashrateScrapes: 0, active: {} };
}
