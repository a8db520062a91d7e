/**
 * A daily credit and a contract's return in words an investor reads. Pure functions of display shapes, so the
 * wording and every figure are unit-tested. Money is decimal.js from integer satoshi and recorded prices; the
 * only rounding is the last step of formatting (cents, 8 BTC decimals).
 */
import Decimal from 'decimal.js';
import type { ContractSummary, CreditView } from './ledger-view';

const SAT_PER_BTC = new Decimal(100_000_000);

/** Exact BTC from satoshi, without trailing zeros (0.00040500 → 0.000405). */
export function btcText(sat: string | Decimal): string {
  return new Decimal(sat).div(SAT_PER_BTC).toFixed(8).replace(/\.?0+$/, '') || '0';
}

const pct = (ratio: Decimal): string => `${ratio.times(100).toDecimalPlaces(1, Decimal.ROUND_HALF_UP).toString()} %`;
const symbol: Record<string, string> = { USD: '$', EUR: '€', GBP: '£', CHF: 'CHF ', JPY: '¥' };

/** An amount of money, rounded half-up to cents for display only: "$12.34", "€11.02", "CAD 5.00". */
export function moneyText(amount: Decimal, currency: string): string {
  const abs = amount.abs().toFixed(2, Decimal.ROUND_HALF_UP);
  const [int = '0', cents = '00'] = abs.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${amount.isNegative() && !amount.isZero() ? '−' : ''}${symbol[currency] ?? `${currency} `}${grouped}.${cents}`;
}

/** USD value of satoshi at a USD price per BTC. */
export function usdOf(sat: string | Decimal, btcPriceUsd: string): Decimal {
  return new Decimal(sat).times(btcPriceUsd).div(SAT_PER_BTC);
}

/** Why the farm delivered less than it sold, from what the frozen inputs say (never a guess at the cause). */
export function shortfallReason(c: Pick<CreditView, 'hashingUptime' | 'reachableUptime'>): string {
  const hashing = new Decimal(c.hashingUptime);
  const reachable = new Decimal(c.reachableUptime);
  // A minute of one miner's reboot is not the reason when the share reads 100 %: then name the hashing uptime.
  if (pct(reachable) !== '100 %') return `downtime: miners unreachable part of the day (reachable ${pct(reachable)}, hashing uptime ${pct(hashing)})`;
  if (hashing.lt(1)) return `downtime (hashing uptime ${pct(hashing)})`;
  return 'the miners hashed all day but below the rate sold (curtailment or maintenance; the recorded inputs do not say which)';
}

export interface CreditExplanation {
  /** Sentences in reading order: farm, share, fees, credit. */
  lines: string[];
  /** "BTC price …", the value in USD and the investor's currency, the day's hashprice. */
  value: string[];
}

/** One daily credit in words and numbers. `currency` is the investor's; `perUsd` its recorded rate that day (null: none). */
export function explainCredit(c: CreditView, currency: string): CreditExplanation {
  const delivered = new Decimal(c.farmDeliveredThs);
  const sold = new Decimal(c.soldThs);
  const deliveredShare = sold.isZero() ? new Decimal(1) : delivered.div(sold);
  const below = deliveredShare.lt(1) ? `; below 100 % because of ${shortfallReason(c)}` : '';
  const source = c.revenueSource === 'pool' ? 'paid by the pool' : 'expected at the pool’s FPPS rate (no payout recorded)';
  const cut = c.curtailment;
  const earned = cut
    ? // Curtailment is the farm's choice: its hours count as delivered and the farm pays what they would have earned.
      `The farm earned ${btcText(new Decimal(c.farmRevenueSat).minus(cut.topUpSat))} BTC (${source}) for ` +
      `${delivered.minus(cut.withheldThs).toString()} TH/s hashed, and added ${btcText(cut.topUpSat)} BTC of its own for the ` +
      `${cut.withheldThs} TH/s it chose not to hash (${new Decimal(cut.minerHours).toDecimalPlaces(1).toString()} miner-hours of ` +
      `curtailment, credited as if hashed): ${btcText(c.farmRevenueSat)} BTC for ${delivered.toString()} TH/s delivered `
    : `The farm earned ${btcText(c.farmRevenueSat)} BTC (${source}) for ${delivered.toString()} TH/s delivered `;
  const lines = [
    `${earned}(${pct(deliveredShare)} of the ${sold.toString()} TH/s sold${below}).`,
    `Your share: ${c.purchasedThs} TH/s of the ${sold.toString()} TH/s sold` +
      (deliveredShare.lt(1) ? `, scaled to ${c.deliveredThs} TH/s by the farm’s delivery` : '') +
      `, is ${btcText(c.grossSat)} BTC.`,
    c.poolFeePct === null
      ? 'Pool fee: already taken by the pool before it paid the farm.'
      : `Pool fee: ${c.poolFeePct} %, already taken out of the farm’s earnings above.`,
    `Our fee: ${btcText(c.revenueFeeSat)} BTC.`,
    `Maintenance charge: ${btcText(c.maintenanceFeeSat)} BTC` +
      (c.btcPriceUsd !== null && c.maintenanceFeeSat !== '0' ? ` (${moneyText(usdOf(c.maintenanceFeeSat, c.btcPriceUsd), 'USD')} at that day’s price).` : '.'),
    new Decimal(c.netSat).isNegative()
      ? `Your credit: ${btcText(c.netSat)} BTC: the charges exceed your share that day, so the difference is carried and taken from your next credits.`
      : `Your credit: ${btcText(c.netSat)} BTC.`,
  ];
  const value: string[] = [];
  if (c.btcPriceUsd === null) {
    value.push('No BTC price recorded for that day.');
  } else {
    const usd = usdOf(c.netSat, c.btcPriceUsd);
    value.push(`BTC price that day: ${moneyText(new Decimal(c.btcPriceUsd), 'USD')}.`);
    let worth = `Your credit was worth ${moneyText(usd, 'USD')}`;
    if (currency !== 'USD') {
      worth +=
        c.fxPerUsd === null
          ? `; no ${currency} rate recorded for that day`
          : ` = ${moneyText(usd.times(c.fxPerUsd), currency)} (${c.fxPerUsd} ${currency} per USD, ${c.fxSource ?? 'source not recorded'})`;
    }
    value.push(`${worth}.`);
  }
  value.push(
    c.hashpriceSatPerThsDay === null
      ? 'No hashprice for that day (no difficulty recorded).'
      : `Hashprice that day: ${new Decimal(c.hashpriceSatPerThsDay).toDecimalPlaces(2).toString()} sat per TH/s per day.`,
  );
  return { lines, value };
}

/** The network and price today, for the projection. */
export interface MarketToday {
  day: string;
  difficulty: string;
  hashpriceSatPerThsDay: string;
  btcPriceUsd: string;
  /** The investor's currency per USD on that day, when recorded. */
  fxPerUsd: string | null;
}

export interface ContractReturn {
  creditedSat: Decimal;
  creditedUsd: Decimal;
  /** Credits valued in the investor's currency at each day's rate; null when a day has no recorded rate. */
  creditedInCurrency: Decimal | null;
  daysWithoutRate: string[];
  /** Cumulative net credit after each credited day, oldest first. */
  cumulative: Array<{ day: string; sat: Decimal }>;
  projection:
    | { kind: 'no-price' }
    | { kind: 'no-market' }
    | { kind: 'paid-back' }
    | { kind: 'never'; dailyNetUsd: Decimal }
    | { kind: 'payback'; remainingUsd: Decimal; dailyNetSat: Decimal; dailyNetUsd: Decimal; days: number; day: string; withinContract: boolean };
}

const addDay = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/**
 * Credits to date and a payback projection: at today's hashprice, price and difficulty held constant, the
 * contract's daily net (hashprice × TH/s, less our fee and the maintenance charge) repays what is left of the
 * purchase price. Credits include reversals, each valued at its own day's price, so a corrected day counts once.
 */
export function contractReturn(contract: ContractSummary, credits: readonly CreditView[], currency: string, market: MarketToday | null): ContractReturn {
  let creditedSat = new Decimal(0);
  let creditedUsd = new Decimal(0);
  let creditedInCurrency: Decimal | null = currency === 'USD' ? null : new Decimal(0);
  const daysWithoutRate = new Set<string>();
  const byDay = new Map<string, Decimal>();
  for (const c of credits) {
    creditedSat = creditedSat.plus(c.netSat);
    byDay.set(c.day, (byDay.get(c.day) ?? new Decimal(0)).plus(c.netSat));
    if (c.btcPriceUsd === null) continue;
    const usd = usdOf(c.netSat, c.btcPriceUsd);
    creditedUsd = creditedUsd.plus(usd);
    if (currency !== 'USD') {
      if (c.fxPerUsd === null) daysWithoutRate.add(c.day);
      else if (creditedInCurrency) creditedInCurrency = creditedInCurrency.plus(usd.times(c.fxPerUsd));
    }
  }
  if (daysWithoutRate.size) creditedInCurrency = null;
  let running = new Decimal(0);
  const cumulative = [...byDay.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, sat]) => ({ day, sat: (running = running.plus(sat)) }));

  const projection = ((): ContractReturn['projection'] => {
    if (contract.purchasePriceUsd === null) return { kind: 'no-price' };
    if (!market) return { kind: 'no-market' };
    const remainingUsd = new Decimal(contract.purchasePriceUsd).minus(creditedUsd);
    if (remainingUsd.lte(0)) return { kind: 'paid-back' };
    const ths = new Decimal(contract.purchasedThs);
    const grossSat = ths.times(market.hashpriceSatPerThsDay);
    const ourFeeSat = grossSat.times(contract.revenueFeePct).div(100);
    const maintenanceSat = new Decimal(contract.maintenanceUsdPerThsDay).times(ths).div(market.btcPriceUsd).times(SAT_PER_BTC);
    const dailyNetSat = grossSat.minus(ourFeeSat).minus(maintenanceSat);
    const dailyNetUsd = usdOf(dailyNetSat, market.btcPriceUsd);
    if (dailyNetUsd.lte(0)) return { kind: 'never', dailyNetUsd };
    const days = remainingUsd.div(dailyNetUsd).ceil().toNumber();
    const day = addDay(market.day, days);
    return { kind: 'payback', remainingUsd, dailyNetSat, dailyNetUsd, days, day, withinContract: contract.endDay === null || day <= contract.endDay };
  })();
  return { creditedSat, creditedUsd, creditedInCurrency, daysWithoutRate: [...daysWithoutRate].sort(), cumulative, projection };
}
