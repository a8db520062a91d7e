/** The daily run's types: its settings, the inputs it freezes, and what it reports. */
import type { DayHashrate } from '../hashrate';

export interface RunSettings {
  /** FPPS rate (1 = the full expected reward) and pool fee, used when the day has no recorded pool payout. */
  fppsRate?: string;
  poolFeePct?: string;
  /** Contracts per database transaction. */
  chunkSize?: number;
  /** Today (UTC) for deciding which days are closed; tests pass it. */
  today?: string;
  log?: (message: string) => void;
}

/** Everything a day's credits were computed from, frozen before the first credit is posted. */
export interface RunInputs {
  day: string;
  revenueSat: number;
  revenueSource: 'pool' | 'fpps';
  poolPayouts: Array<{ pool: string; amountSat: number }>;
  fppsSat: number | null; // the FPPS expectation, also when the pool's payout was used (for comparison)
  difficulty: string | null;
  subsidySat: number | null;
  feesPerBlockSat: number | null;
  btcPriceUsd: string | null;
  fppsRate: string;
  poolFeePct: string;
  hashrate: DayHashrate;
  contracts: number;
  soldThs: string;
  /** Hours the farm's curtailment policy kept miners asleep, credited as if hashed; absent from runs frozen before. */
  curtailment?: CurtailmentInputs | null;
}

/**
 * The curtailed hours of a day as billing credits them (docs/control.md, "Curtailment and investors"): the withheld
 * TH/s is added to the measured delivery, and the farm funds the revenue those hours would have earned.
 */
export interface CurtailmentInputs {
  minerHours: string;
  withheldThs: string;
  /** Satoshi the farm adds to the pool's revenue (a `curtailment_topup` ledger posting from farm:revenue). */
  topUpSat: number;
  /** What a withheld TH/s is worth: the day's FPPS value (hashprice), else what the pool paid per measured TH/s. */
  valuedAt: 'hashprice' | 'pool-rate' | 'none';
  containers: Array<{ container: string; miners: number; minerHours: string; withheldThs: string }>;
}

export type RunStatus = 'done' | 'already-done' | 'locked';

export interface RunResult {
  day: string;
  status: RunStatus;
  revision: number;
  contracts: number;
  postedNow: number; // credits posted by this call (0 when a finished day is re-run)
  revenueSat: number;
  creditedSat: number; // investors' gross
  farmSat: number; // what the farm keeps: revenue − credited (less when it funded curtailed hours)
  /** Satoshi the farm funded for its curtailed hours (included in creditedSat); 0 without curtailment. */
  curtailmentTopUpSat?: number;
}

export interface CreditDifference {
  contractId: string;
  storedNetSat: number | null;
  recomputedNetSat: number | null;
}

export interface Recomputation {
  day: string;
  revision: number;
  stored: RunInputs;
  recomputed: RunInputs;
  differences: CreditDifference[];
  storedFarmSat: number;
  recomputedFarmSat: number;
}

