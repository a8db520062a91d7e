/**
 * What the portal reads from and asks of the billing ledger. The portal never touches ledger tables directly
 * except through an implementation of this interface (see ledger-adapter.ts), so the access rules stay in one
 * place: every investor-facing call takes the investor id from the session, never from the request.
 * Amounts are satoshis as decimal strings (bigint-safe), named `...Sat` like the engine's; hashrates are TH/s as
 * decimal strings. These are display shapes (`...View`), distinct from the engine's domain types (billing/src/domain).
 */
import type { PayoutStatus } from '../domain';
import type { MarketToday } from './explain';
import type { MonthlyStatement } from '../statements/monthly';

export type { PayoutStatus };
export interface InvestorSummary {
  id: string;
  name: string;
  email: string | null;
  balanceSat: string;
  /** Owed to the farm (fees above a day's share, clawbacks), recovered from the next credits; '0' when nothing. */
  owedSat: string;
  /** ISO 4217 code the investor reads values in (USD unless set). */
  currency: string;
}

export interface ContractSummary {
  id: string;
  investorId: string;
  label: string;
  purchasedThs: string;
  startDay: string;
  endDay: string | null;
  status: string;
  /** What the investor paid, USD; null when not recorded. */
  purchasePriceUsd: string | null;
  maintenanceUsdPerThsDay: string;
  revenueFeePct: string;
}

export interface CreditView {
  contractId: string;
  day: string;
  /** A reversal undoes an earlier credit of the same day when the day is recomputed. */
  kind: 'credit' | 'reversal';
  deliveredThs: string;
  purchasedThs: string;
  netSat: string;
  /** The figures the credit was computed from, as the engine recorded them (pool reward, fees, uptime...). */
  inputs: Record<string, string>;
  // The same figures, typed, for the explanation in words (explain.ts).
  grossSat: string;
  maintenanceFeeSat: string;
  revenueFeeSat: string;
  farmRevenueSat: string;
  revenueSource: 'pool' | 'fpps';
  farmDeliveredThs: string;
  soldThs: string;
  hashingUptime: string;
  reachableUptime: string;
  /** The FPPS pool fee applied when the revenue is the FPPS expectation; null when the pool paid (fee already taken). */
  poolFeePct: string | null;
  btcPriceUsd: string | null;
  /** sat per TH/s per day from the frozen inputs, else computed from the recorded market day; null without one. */
  hashpriceSatPerThsDay: string | null;
  /** The investor's currency per USD that day and where the rate came from; null when none is recorded (or USD). */
  fxPerUsd: string | null;
  fxSource: string | null;
  /** The farm's curtailment that day, credited as hashed (docs/control.md); null when it curtailed nothing. */
  curtailment: { withheldThs: string; minerHours: string; topUpSat: string } | null;
}

export interface PayoutView {
  id: string;
  investorId: string;
  amountSat: string;
  address: string;
  status: PayoutStatus;
  requestedAt: string;
  txid: string | null;
  /** Why staff refused it. */
  rejectedReason: string | null;
}

export interface RunView {
  day: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  detail: string | null;
}

/** Page 1 is the first; `size` rows per page. */
export interface PageRequest {
  page: number;
  size: number;
}

export interface Paged<T> extends PageRequest {
  rows: T[];
  total: number;
}

export interface PortalLedger {
  investor(investorId: string): Promise<InvestorSummary | undefined>;
  contractsOf(investorId: string): Promise<ContractSummary[]>;
  /** Credits of one investor's contracts, oldest day first; `contractId` narrows to one of them. */
  creditsOf(investorId: string, options?: { contractId?: string; fromDay?: string; toDay?: string }): Promise<CreditView[]>;
  payoutsOf(investorId: string): Promise<PayoutView[]>;
  /** The latest recorded market day (difficulty, price, hashprice) with the currency's rate that day, for projections. */
  marketToday(currency: string): Promise<MarketToday | null>;
  /** The investor's statement as CSV (credits, reversals and payout movements), days inclusive. */
  statementCsv(investorId: string, fromDay: string, toDay: string): Promise<string>;
  /** Months with a statement (from the first contract's month to the last month that is over), newest first. */
  statementMonths(investorId: string): Promise<string[]>;
  /** The monthly statement (YYYY-MM), read from the journal. */
  monthlyStatement(investorId: string, month: string): Promise<MonthlyStatement>;
  /** Throws PayoutRefused with a message for the investor when the request cannot be accepted. */
  requestPayout(investorId: string, amountSat: bigint, address: string, requestKey: string): Promise<PayoutView>;

  // Staff only: one page at a time (admin lists grow with the farm).
  investors(page: PageRequest): Promise<Paged<InvestorSummary>>;
  contracts(page: PageRequest): Promise<Paged<ContractSummary>>;
  /** Payouts with one of `statuses` (all when empty), newest first. */
  payouts(page: PageRequest, statuses?: readonly PayoutStatus[]): Promise<Paged<PayoutView>>;
  dailyRuns(page: PageRequest): Promise<Paged<RunView>>;
  approvePayout(payoutId: string, staffEmail: string): Promise<void>;
  markPayoutSent(payoutId: string, txid: string, staffEmail: string): Promise<void>;
  /** The amount goes back to the investor's balance. */
  rejectPayout(payoutId: string, reason: string, staffEmail: string): Promise<void>;
}

/** A refusal the user should read (not enough balance, bad address...), as opposed to a failure of ours. */
export class PayoutRefused extends Error {}
