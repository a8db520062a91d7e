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
}

export interface HealthEvaluation {
  /** Every fault active after this scrape. */
  faults: Fault[];
  state: MinerHealthState;
}

export function emptyHealthState(): MinerHealthState {
  return { lowHashrateScrapes: 0, active: {} };
}
