/**
 * FPPS expectation: what a pool paying "full pay per share" owes for a hashrate over one day.
 *   BTC/day = H · 86400 / (difficulty · 2^32) · (subsidy + fees per block) · FPPS rate · (1 − pool fee)
 * H in hashes/s (1 TH/s = 1e12 H/s); difficulty · 2^32 is the expected number of hashes per block.
 */
import Decimal from 'decimal.js';

const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_DOWN });
export const SAT_PER_BTC = new D(100_000_000);
const HASHES_PER_DIFFICULTY = new D(2).pow(32);

export interface FppsInput {
  hashrateThs: Decimal.Value;
  difficulty: Decimal.Value;
  subsidyBtc: Decimal.Value;
  feesPerBlockBtc?: Decimal.Value;
  /** Share of the block reward the pool pays per share (1 = the full expected reward). */
  fppsRate?: Decimal.Value;
  poolFeePct?: Decimal.Value;
}

/** Expected BTC for one day, exact to 60 significant digits (not rounded to the satoshi). */
export function fppsBtcPerDay(input: FppsInput): Decimal {
  const difficulty = new D(input.difficulty);
  if (difficulty.lte(0)) throw new RangeError('difficulty must be more than 0');
  const hashesPerDay = new D(input.hashrateThs).mul(1e12).mul(86400);
  const blocksPerDay = hashesPerDay.div(difficulty.mul(HASHES_PER_DIFFICULTY));
  const reward = new D(input.subsidyBtc).add(input.feesPerBlockBtc ?? 0);
  const afterPoolFee = new D(1).sub(new D(input.poolFeePct ?? 0).div(100));
  return blocksPerDay.mul(reward).mul(input.fppsRate ?? 1).mul(afterPoolFee);
}

/** The same in whole satoshi, rounded down (a pool never pays a fraction of a satoshi). */
export function fppsSatPerDay(input: FppsInput): number {
  return fppsBtcPerDay(input).mul(SAT_PER_BTC).floor().toNumber();
}

export function btcToSat(btc: Decimal.Value): number {
  const sat = new D(btc).mul(SAT_PER_BTC);
  if (!sat.isInteger()) throw new RangeError(`${String(btc)} BTC has more than 8 decimals`);
  return sat.toNumber();
}

export function satToBtc(sat: number | bigint): string {
  return new D(sat.toString()).div(SAT_PER_BTC).toFixed(8);
}

export { D as BillingDecimal };
