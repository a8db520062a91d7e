/**
 * Splitting one day's revenue between the contracts and the farm, exactly.
 *
 * Each contract's gross quota is revenue · contracted / max(delivered, sold): while the farm delivers at least
 * what it sold, a contract earns its hashrate's share of what the farm delivered and the farm keeps the rest;
 * when it delivers less (downtime), every contract is scaled down by delivered/sold alike and the farm keeps
 * nothing. Quotas are exact rationals over integer micro-TH/s; rounding to the satoshi is by largest remainder
 * (ties to the earlier contract id, the farm last), so the credits plus the farm's share equal the revenue.
 * Fees are taken from each gross, rounded down; the revenue fee is a share of the gross, the maintenance charge is
 * due in full, so a net can be negative (a fee carried to the next days, see services/position.ts).
 */
import Decimal from 'decimal.js';
import { BillingDecimal as D, SAT_PER_BTC } from './fpps';

export interface ContractTerms {
  id: string;
  investorId: string;
  hashrateThs: string;
  maintenanceUsdPerThsDay: string;
  revenueFeePct: string;
}

export interface ContractAllocation {
  contract: ContractTerms;
  quotaSat: string; // exact quota, as a decimal
  grossSat: number;
  maintenanceUsd: string;
  maintenanceFeeSat: number;
  revenueFeeSat: number;
  netSat: number;
}

export interface DayAllocation {
  revenueSat: number;
  deliveredThs: string;
  soldThs: string;
  scale: string; // min(1, delivered / sold)
  contracts: ContractAllocation[];
  farmSat: number; // revenue − Σ gross
}

/** A plain decimal of at most 6 places (as contracts store TH/s): converted exactly without rounding. */
const SIX_PLACES = /^(\d{1,20})(?:\.(\d{1,6}))?$/;

/** TH/s as integer micro-TH/s (contracts store 6 decimals; measured hashrate is rounded half-up to that). */
export function microThs(value: Decimal.Value): bigint {
  const plain = typeof value === 'string' ? SIX_PLACES.exec(value) : null;
  // Most values are contract sizes read from numeric(20,6): no Decimal needed (a run converts one per contract).
  if (plain) return BigInt(plain[1]! + (plain[2] ?? '').padEnd(6, '0'));
  return BigInt(new D(value).mul(1_000_000).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toFixed(0));
}

/** The TH/s sold: the sum of the contracts' sizes, formatted as DayAllocation.soldThs is. */
export function soldThsOf(contracts: readonly ContractTerms[]): string {
  let sold = 0n;
  for (const c of contracts) sold += microThs(c.hashrateThs);
  return new D(sold.toString()).div(1_000_000).toString();
}

/** fn's value per key, computed once: contracts of the same size and terms share their decimal figures. */
function memoised<K, V>(fn: (key: K) => V): (key: K) => V {
  const known = new Map<K, V>();
  return (key) => {
    let value = known.get(key);
    if (value === undefined) {
      value = fn(key);
      known.set(key, value);
    }
    return value;
  };
}

export function allocateDay(input: {
  revenueSat: number;
  deliveredThs: Decimal.Value;
  contracts: readonly ContractTerms[];
  btcPriceUsd: Decimal.Value | null;
}): DayAllocation {
  if (!Number.isSafeInteger(input.revenueSat) || input.revenueSat < 0) throw new RangeError('revenue must be whole satoshi, not negative');
  const contracts = [...input.contracts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const revenue = BigInt(input.revenueSat);
  const delivered = microThs(input.deliveredThs);
  const sizes = contracts.map((c) => microThs(c.hashrateThs));
  const sold = sizes.reduce((s, t) => s + t, 0n);
  const denominator = delivered > sold ? delivered : sold;

  // Integer parts and remainders of revenue · size / denominator; the farm's quota is the unsold part.
  const shares = sizes.map((size) => (denominator === 0n ? { floor: 0n, rest: 0n } : { floor: (revenue * size) / denominator, rest: (revenue * size) % denominator }));
  const farmNumerator = denominator === 0n ? 0n : revenue * (denominator - sold);
  const farm = denominator === 0n ? { floor: revenue, rest: 0n } : { floor: farmNumerator / denominator, rest: farmNumerator % denominator };
  const parties = [...shares, farm];
  let leftover = revenue - parties.reduce((s, p) => s + p.floor, 0n);
  const order = parties.map((_, i) => i).sort((a, b) => {
    const ra = parties[a]!.rest;
    const rb = parties[b]!.rest;
    return ra === rb ? a - b : ra > rb ? -1 : 1;
  });
  for (const i of order) {
    if (leftover === 0n) break;
    parties[i]!.floor += 1n;
    leftover -= 1n;
  }

  const scale = sold === 0n ? new D(1) : D.min(1, new D(delivered.toString()).div(sold.toString()));
  const price = input.btcPriceUsd === null ? null : new D(input.btcPriceUsd);
  // The decimal figures depend on a contract's size and terms (and its gross), not on the contract: computed
  // once per distinct value, they cost a few Decimal operations per size instead of ten per contract.
  const maintenanceOf = memoised((key: string): { usd: Decimal; text: string; sat: number } => {
    const [perThsDay, ths] = key.split('|') as [string, string];
    const usd = new D(perThsDay).mul(ths).mul(scale);
    return { usd, text: usd.toDecimalPlaces(10).toString(), sat: price === null ? 0 : usd.div(price).mul(SAT_PER_BTC).floor().toNumber() };
  });
  const revenueFeeOf = memoised((key: string): number => {
    const [gross, pct] = key.split('|') as [string, string];
    return new D(gross).mul(pct).div(100).floor().toNumber();
  });
  const quotaOf = memoised((size: bigint): string =>
    (denominator === 0n ? new D(0) : new D((revenue * size).toString()).div(denominator.toString())).toDecimalPlaces(12).toString(),
  );
  const allocations = contracts.map((contract, i): ContractAllocation => {
    const gross = Number(parties[i]!.floor);
    const maintenance = maintenanceOf(`${contract.maintenanceUsdPerThsDay}|${contract.hashrateThs}`);
    if (maintenance.usd.gt(0) && price === null) throw new Error(`contract ${contract.id} has a maintenance fee but the day has no BTC price`);
    // The maintenance charge is due in full: when it exceeds the day's share the net is negative, and the
    // shortfall is carried as owed and recovered from the next credits (services/position.ts).
    const maintenanceFeeSat = maintenance.sat;
    const revenueFeeSat = revenueFeeOf(`${gross}|${contract.revenueFeePct}`);
    return {
      contract,
      quotaSat: quotaOf(sizes[i]!),
      grossSat: gross,
      maintenanceUsd: maintenance.text,
      maintenanceFeeSat,
      revenueFeeSat,
      netSat: gross - maintenanceFeeSat - revenueFeeSat,
    };
  });
  return {
    revenueSat: input.revenueSat,
    deliveredThs: new D(delivered.toString()).div(1_000_000).toString(),
    soldThs: new D(sold.toString()).div(1_000_000).toString(),
    scale: scale.toDecimalPlaces(12).toString(),
    contracts: allocations,
    farmSat: Number(parties[parties.length - 1]!.floor),
  };
}
