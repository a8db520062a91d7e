/**
 * Row shapes as pg returns them (bigint and numeric columns arrive as strings) and the mappers to domain types.
 * This is the boundary between SQL and the domain: nothing above the store sees a row.
 */
import { satoshi } from '../db';
import type { Contract, CreditInputs, CreditKind, DailyCredit, DailyRun, DailyRunStatus, Investor, Payout, PayoutStatus } from '../domain';

export interface InvestorRow {
  id: string;
  name: string;
  email: string | null;
  created_at: Date;
}

/** A contracts row with its days as text (start_s, end_s), as every contract query selects them. */
export interface ContractRow {
  id: string;
  investor_id: string;
  hashrate_ths: string;
  start_s: string;
  end_s: string;
  maintenance_usd_per_ths_day: string;
  revenue_fee_pct: string;
  created_at: Date;
}

export interface CreditRow {
  transaction_id: string;
  contract_id: string;
  investor_id: string;
  day_s: string;
  revision: number;
  kind: CreditKind;
  contracted_ths: string;
  gross_sat: string;
  maintenance_fee_sat: string;
  revenue_fee_sat: string;
  net_sat: string;
  inputs: CreditInputs;
  created_at: Date;
}

export interface PayoutRow {
  id: string;
  investor_id: string;
  amount_sat: string;
  address: string;
  status: PayoutStatus;
  requested_at: Date;
  approved_at: Date | null;
  approved_by: string | null;
  sent_at: Date | null;
  btc_txid: string | null;
  rejected_reason: string | null;
}

export interface DailyRunRow {
  day_s: string;
  revision: number;
  status: DailyRunStatus;
  contracts: number;
  revenue_sat: string;
  credited_sat: string | null;
  farm_sat: string | null;
  inputs: Record<string, unknown>;
  started_at: Date;
  finished_at: Date | null;
}

export function toInvestor(r: InvestorRow): Investor {
  return { id: r.id, name: r.name, email: r.email, createdAt: r.created_at };
}

export function toContract(r: ContractRow): Contract {
  return {
    id: r.id,
    investorId: r.investor_id,
    hashrateThs: r.hashrate_ths,
    startDay: r.start_s,
    endDay: r.end_s,
    maintenanceUsdPerThsDay: r.maintenance_usd_per_ths_day,
    revenueFeePct: r.revenue_fee_pct,
    createdAt: r.created_at,
  };
}

export function toCredit(r: CreditRow): DailyCredit {
  return {
    transactionId: Number(r.transaction_id),
    contractId: r.contract_id,
    investorId: r.investor_id,
    day: r.day_s,
    revision: r.revision,
    kind: r.kind,
    contractedThs: r.contracted_ths,
    grossSat: satoshi(r.gross_sat),
    maintenanceFeeSat: satoshi(r.maintenance_fee_sat),
    revenueFeeSat: satoshi(r.revenue_fee_sat),
    netSat: satoshi(r.net_sat),
    inputs: r.inputs,
    createdAt: r.created_at,
  };
}

export function toPayout(r: PayoutRow): Payout {
  return {
    id: Number(r.id),
    investorId: r.investor_id,
    amountSat: satoshi(r.amount_sat),
    address: r.address,
    status: r.status,
    requestedAt: r.requested_at,
    approvedAt: r.approved_at,
    approvedBy: r.approved_by,
    sentAt: r.sent_at,
    btcTxid: r.btc_txid,
    rejectedReason: r.rejected_reason,
  };
}

export function toDailyRun(r: DailyRunRow): DailyRun {
  return {
    day: r.day_s,
    revision: r.revision,
    status: r.status,
    contracts: r.contracts,
    revenueSat: satoshi(r.revenue_sat),
    creditedSat: r.credited_sat === null ? null : satoshi(r.credited_sat),
    farmSat: r.farm_sat === null ? null : satoshi(r.farm_sat),
    inputs: r.inputs,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}
