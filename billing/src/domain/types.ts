/**
 * Billing's domain types: what the API hands out and takes. Amounts are integer satoshi as JS numbers (the whole
 * supply, 21e14 sat, is far below 2^53, so they are exact) and always named `...Sat`; hashrates, prices and
 * difficulty are decimal strings; days are 'YYYY-MM-DD' (UTC). Fields are only ever added, never renamed.
 */

export interface Investor {
  id: string;
  name: string;
  email: string | null;
  createdAt: Date;
}

export interface Contract {
  id: string;
  investorId: string;
  hashrateThs: string;
  startDay: string;
  endDay: string; // inclusive
  maintenanceUsdPerThsDay: string;
  revenueFeePct: string;
  createdAt: Date;
}

/** What a credit was computed from: enough to recompute it by hand (read from daily_credit_records.inputs: the run's shared part and the credit's own). */
export interface CreditInputs {
  revenueSat: number; // the whole farm's revenue for the day
  revenueSource: 'pool' | 'fpps';
  farmDeliveredThs: string; // average hashrate the farm delivered over the day
  soldThs: string; // sum of contracted TH/s active that day
  scale: string; // min(1, delivered / sold): the contract's hashrate is scaled by this
  quotaSat: string; // exact (unrounded) gross share: revenue × contracted / max(delivered, sold)
  difficulty: string | null;
  btcPriceUsd: string | null;
  maintenanceUsd: string; // fee in USD before conversion
  reachableUptime: string; // farm-wide mean(miner_up.reachable)
  hashingUptime: string; // farm-wide mean(miner_up.hashing)
  // Present when the farm curtailed miners that day (docs/control.md, "Curtailment and investors"): revenueSat and
  // farmDeliveredThs above already include them, so the quota formula holds as written.
  curtailedThs?: string; // TH/s the curtailment withheld, credited as delivered
  curtailedMinerHours?: string;
  curtailmentTopUpSat?: number; // part of revenueSat the farm funded for the curtailed hours (the pool paid the rest)
}

export type CreditKind = 'credit' | 'reversal';

export interface DailyCredit {
  transactionId: number;
  contractId: string;
  investorId: string;
  day: string;
  revision: number; // 1, then +1 for each recomputation that was applied
  kind: CreditKind; // a reversal negates an earlier credit of the same day and contract
  contractedThs: string;
  grossSat: number;
  maintenanceFeeSat: number;
  revenueFeeSat: number;
  netSat: number; // credited to the investor's balance (negative for a reversal)
  inputs: CreditInputs;
  createdAt: Date;
}

export interface Balance {
  investorId: string;
  availableSat: number; // can be withdrawn now
  pendingPayoutSat: number; // requested or approved, not sent yet
  creditedSat: number; // all net credits minus reversals
  paidOutSat: number; // sent
  owedSat: number; // owed to the farm (a fee above a day's share, a clawback): recovered from the next credits first
}

export type PayoutStatus = 'requested' | 'approved' | 'sent' | 'rejected';

export interface Payout {
  id: number;
  investorId: string;
  amountSat: number;
  address: string;
  status: PayoutStatus;
  requestedAt: Date;
  approvedAt: Date | null;
  approvedBy: string | null;
  sentAt: Date | null;
  btcTxid: string | null;
  rejectedReason: string | null;
}

export type DailyRunStatus = 'running' | 'done';

export interface DailyRun {
  day: string;
  revision: number;
  status: DailyRunStatus;
  contracts: number;
  revenueSat: number;
  creditedSat: number | null; // investors' gross
  farmSat: number | null; // farm's share (unsold or undelivered hashrate)
  inputs: Record<string, unknown>; // the frozen run inputs (see billing/README.md)
  startedAt: Date;
  finishedAt: Date | null;
}
