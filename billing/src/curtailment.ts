/**
 * Curtailed hours as billing credits them (docs/control.md, "Curtailment and investors"). Curtailment is the farm's
 * own economic choice, so investors are credited as if the curtailed miners had hashed: their withheld TH/s joins
 * the measured delivery, and the farm funds the revenue those hashes would have earned, at the same rate per TH/s as
 * the day's revenue (the pool's payout over the measured hashrate, or the FPPS expectation). When nothing was
 * measured at all (the whole farm curtailed all day) the withheld TH/s is valued at the day's hashprice.
 */
import type { CurtailedDay } from '@flymining/shared';
import type Decimal from 'decimal.js';
import type { CurtailmentInputs } from './domain';
import { BillingDecimal as D } from './fpps';

export interface CurtailmentValuation {
  /** The day's revenue before the top-up (pool payouts or the FPPS expectation). */
  revenueSat: number;
  /** The farm's measured delivered TH/s (without the curtailed hours). */
  measuredThs: Decimal.Value;
  /** The day's FPPS value of a hashrate (the run's own formula and settings); null without market data. */
  fppsSatOf: (hashrateThs: Decimal.Value) => number | null;
}

const decimals = (v: number, places: number): string => new D(v).toDecimalPlaces(places, D.ROUND_HALF_UP).toString();

/** The frozen curtailment figures of a day, or null when nothing was curtailed. */
export function curtailmentInputs(curtailed: CurtailedDay, v: CurtailmentValuation): CurtailmentInputs | null {
  // Micro-TH/s, as the allocation counts hashrate: a few seconds of one sleeping miner are not a curtailment.
  const withheld = new D(curtailed.withheldThs).toDecimalPlaces(6, D.ROUND_HALF_UP);
  if (withheld.lte(0)) return null;
  const measured = new D(v.measuredThs);
  let topUpSat = 0;
  let valuedAt: CurtailmentInputs['valuedAt'] = 'none';
  if (measured.gt(0)) {
    topUpSat = new D(v.revenueSat).mul(withheld).div(measured).floor().toNumber();
    valuedAt = 'pool-rate';
  } else {
    const atHashprice = v.fppsSatOf(withheld);
    if (atHashprice !== null) {
      topUpSat = atHashprice;
      valuedAt = 'hashprice';
    }
  }
  return {
    minerHours: decimals(curtailed.minerHours, 3),
    withheldThs: withheld.toString(),
    topUpSat,
    valuedAt,
    containers: curtailed.containers.map((c) => ({ container: c.container, miners: c.miners, minerHours: decimals(c.minerHours, 3), withheldThs: decimals(c.withheldThs, 6) })),
  };
}
