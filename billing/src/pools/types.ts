/** What every pool importer and the network source return; amounts are whole satoshi plus the pool's own figures as strings. */
import Decimal from 'decimal.js';
import { z } from 'zod';
import { BillingDecimal, SAT_PER_BTC } from '../fpps';

/** One UTC day's revenue as the pool reported it. */
export interface PoolDayRevenue {
  /** UTC day YYYY-MM-DD. */
  day: string;
  amountSat: number;
  /** The request that produced the figure (method and URL; never the key). */
  request: string;
  /** The pool's own figures, as it sent them (FPPS base, fee reward, fee rate, pool fee...). */
  raw: Record<string, string>;
}

export interface WorkerHashrate {
  worker: string;
  ths: string;
}

export interface PoolWorkerDay {
  day: string;
  workers: WorkerHashrate[];
  /** Sum of the workers, TH/s. */
  totalThs: string;
  request: string;
}

export interface PoolImporter {
  /** Short name stored with each figure: foundry, braiins, f2pool, viabtc. */
  readonly name: string;
  /** The sub-account or user the figures belong to. */
  readonly account: string;
  /** One row per UTC day in [fromDay, toDay] the pool reported. */
  dailyRevenue(fromDay: string, toDay: string): Promise<PoolDayRevenue[]>;
  /** Per-worker hashrate over a UTC day (TH/s), when the pool reports it. */
  workerHashrate?(day: string): Promise<PoolWorkerDay>;
}

/** Network figures for one UTC day. */
export interface NetworkDay {
  day: string;
  difficulty: string;
  subsidySat: number;
  feesPerBlockSat: number;
  /** Expected reward per TH/s over the day, in sat (the day's hashprice). */
  hashpriceSatPerThsDay: string;
  btcPriceUsd: string;
  request: string;
}

export interface NetworkSource {
  readonly name: string;
  networkDays(fromDay: string, toDay: string): Promise<NetworkDay[]>;
}

/** An amount as a pool writes it (a decimal string, sometimes a JSON number). */
export const amountSchema = z.union([z.string().regex(/^-?\d+(\.\d+)?(e-?\d+)?$/i, 'a decimal amount'), z.number().finite()]).transform((v) => String(v));

/** BTC as a decimal string to whole satoshi, exactly; a fraction of a satoshi is dropped (no pool pays it). */
export function btcStringToSat(btc: string, field: string): number {
  let d: Decimal;
  try {
    d = new BillingDecimal(btc);
  } catch {
    throw new RangeError(`${field}: "${btc}" is not an amount`);
  }
  if (d.isNegative()) throw new RangeError(`${field}: ${btc} BTC is negative`);
  return d.mul(SAT_PER_BTC).floor().toNumber();
}

export function utcDayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

export function daysBetween(fromDay: string, toDay: string): string[] {
  const out: string[] = [];
  for (let t = dayStartMs(fromDay); t <= dayStartMs(toDay); t += 86_400_000) out.push(utcDayOf(t));
  return out;
}

/** Hashrate in the given unit ("Gh/s", "TH/s", "H/s"...) as TH/s. */
export function toThs(value: string, unit: string): string {
  const prefix = unit.trim().charAt(0).toUpperCase();
  const exp: Record<string, number> = { H: -12, K: -9, M: -6, G: -3, T: 0, P: 3, E: 6 };
  const e = exp[prefix];
  if (e === undefined) throw new RangeError(`unknown hashrate unit "${unit}"`);
  return new BillingDecimal(value).mul(new BillingDecimal(10).pow(e)).toDecimalPlaces(6).toString();
}

export function sumThs(values: readonly string[]): string {
  return values.reduce((s, v) => s.add(v), new BillingDecimal(0)).toDecimalPlaces(6).toString();
}
