/** The words and numbers of a daily credit and of a contract's return (explain.ts), checked against hand-worked figures. */
import Decimal from 'decimal.js';
import { btcText, contractReturn, explainCredit, moneyText } from '../../src/portal/explain';
import type { ContractSummary, CreditView } from '../../src/portal/ledger-view';

/** 0.05 BTC for 135 of 150 TH/s sold: 100 TH/s of it is scaled to 90, gross 5,000,000 × 100 / 150 sat, 10 % our fee. */
function credit(overrides: Partial<CreditView> = {}): CreditView {
  return {
    contractId: 'c1',
    day: '2026-03-01',
    kind: 'credit',
    deliveredThs: '90',
    purchasedThs: '100',
    netSat: '3000000',
    inputs: { farm_revenue_sat: '5000000' },
    grossSat: '3333333',
    maintenanceFeeSat: '0',
    revenueFeeSat: '333333',
    farmRevenueSat: '5000000',
    revenueSource: 'pool',
    farmDeliveredThs: '135',
    soldThs: '150',
    hashingUptime: '0.9',
    reachableUptime: '1',
    poolFeePct: null,
    btcPriceUsd: '60000.5',
    hashpriceSatPerThsDay: '45000.1234',
    fxPerUsd: '0.9',
    fxSource: 'ECB reference rate',
    curtailment: null,
    ...overrides,
  };
}

const contract: ContractSummary = {
  id: 'c1',
  investorId: 'alice',
  label: 'c1',
  purchasedThs: '100',
  startDay: '2026-03-01',
  endDay: '2027-02-28',
  status: 'active',
  purchasePriceUsd: '5000',
  maintenanceUsdPerThsDay: '0.05',
  revenueFeePct: '10',
};

test('a day below what was sold names the delivered share and the downtime, each fee and the credit in exact BTC', () => {
  const text = explainCredit(credit(), 'USD').lines.join(' ');
  expect(text).toContain('The farm earned 0.05 BTC (paid by the pool) for 135 TH/s delivered (90 % of the 150 TH/s sold; below 100 % because of downtime (hashing uptime 90 %))');
  expect(text).toContain('Your share: 100 TH/s of the 150 TH/s sold, scaled to 90 TH/s by the farm’s delivery, is 0.03333333 BTC.');
  expect(text).toContain('Pool fee: already taken by the pool');
  expect(text).toContain('Our fee: 0.00333333 BTC.');
  expect(text).toContain('Maintenance charge: 0 BTC.');
  expect(text).toContain('Your credit: 0.03 BTC.');
});

test('a curtailed day says what the pool paid, what the farm added for the hours it chose not to hash, and counts them as delivered', () => {
  // 120 TH/s hashed earned 0.04 BTC from the pool; 6 miner-hours of 120 TH/s units curtailed withheld 6 × 120 / 24 =
  // 30 TH/s, topped up at the same rate: 0.01 BTC, so 0.05 BTC for 150 TH/s, all of what was sold.
  const line = explainCredit(credit({ farmDeliveredThs: '150', curtailment: { withheldThs: '30', minerHours: '6', topUpSat: '1000000' } }), 'USD').lines[0];
  expect(line).toBe(
    'The farm earned 0.04 BTC (paid by the pool) for 120 TH/s hashed, and added 0.01 BTC of its own for the 30 TH/s it chose not to hash ' +
      '(6 miner-hours of curtailment, credited as if hashed): 0.05 BTC for 150 TH/s delivered (100 % of the 150 TH/s sold).',
  );
});

test('a full day gives no reason; unreachable miners and a shortfall with full uptime are told apart', () => {
  expect(explainCredit(credit({ farmDeliveredThs: '150' }), 'USD').lines[0]).toContain('(100 % of the 150 TH/s sold)');
  expect(explainCredit(credit({ reachableUptime: '0.75', hashingUptime: '0.75' }), 'USD').lines[0]).toContain('miners unreachable part of the day (reachable 75 %');
  expect(explainCredit(credit({ hashingUptime: '1' }), 'USD').lines[0]).toContain('hashed all day but below the rate sold');
  // One miner's short reboot (reachable 99.98 %) is not why miners without pool work delivered less.
  const noWork = explainCredit(credit({ reachableUptime: '0.9998', hashingUptime: '0.854' }), 'USD').lines[0];
  expect(noWork).toContain('because of downtime (hashing uptime 85.4 %)');
  expect(noWork).not.toContain('unreachable');
});

test('the value in USD and EUR at the day’s price and recorded rate, rounded to the cent only when shown', () => {
  // 0.03 BTC × $60,000.50 = $1,800.015; × 0.9 EUR per USD = €1,620.0135.
  const value = explainCredit(credit(), 'EUR').value.join(' ');
  expect(value).toContain('BTC price that day: $60,000.50.');
  expect(value).toContain('Your credit was worth $1,800.02 = €1,620.01 (0.9 EUR per USD, ECB reference rate).');
  expect(value).toContain('Hashprice that day: 45000.12 sat per TH/s per day.');
  expect(explainCredit(credit({ fxPerUsd: null, fxSource: null }), 'EUR').value.join(' ')).toContain('no EUR rate recorded for that day');
  expect(explainCredit(credit({ btcPriceUsd: null }), 'EUR').value[0]).toBe('No BTC price recorded for that day.');
});

test('FPPS revenue names the pool fee applied; a maintenance charge shows its USD figure', () => {
  const lines = explainCredit(credit({ revenueSource: 'fpps', poolFeePct: '2', maintenanceFeeSat: '8333' }), 'USD').lines.join(' ');
  expect(lines).toContain('expected at the pool’s FPPS rate');
  expect(lines).toContain('Pool fee: 2 %');
  // 8,333 sat × $60,000.50 / 1e8 = $4.99984…
  expect(lines).toContain('Maintenance charge: 0.00008333 BTC ($5.00 at that day’s price).');
});

test('exact BTC from satoshi: no float rounding', () => {
  expect(btcText('2099999997690000')).toBe('20999999.9769');
  expect(btcText('1')).toBe('0.00000001');
  expect(btcText('0')).toBe('0');
  expect(moneyText(new Decimal('0.005'), 'USD')).toBe('$0.01');
});

test('credits to date count a reversal once, value each day at its price, and project the payback', () => {
  const credits = [
    credit({ day: '2026-03-01', netSat: '3000000', btcPriceUsd: '60000' }),
    credit({ day: '2026-03-01', kind: 'reversal', netSat: '-3000000', btcPriceUsd: '60000' }),
    credit({ day: '2026-03-01', netSat: '2000000', btcPriceUsd: '60000' }),
    credit({ day: '2026-03-02', netSat: '1000000', btcPriceUsd: '60000', fxPerUsd: '0.5' }),
  ];
  const market = { day: '2026-03-03', difficulty: '1e14', hashpriceSatPerThsDay: '50000', btcPriceUsd: '50000', fxPerUsd: null };
  const r = contractReturn(contract, credits, 'EUR', market);
  expect(r.creditedSat.toString()).toBe('3000000');
  expect(r.creditedUsd.toString()).toBe('1800'); // 0.02 × 60,000 + 0.01 × 60,000
  expect(r.creditedInCurrency?.toString()).toBe('1380'); // 1,200 × 0.9 + 600 × 0.5 = 1,080 + 300 (the reversal cancels at its own rate)
  expect(r.cumulative.map((c) => [c.day, c.sat.toString()])).toEqual([['2026-03-01', '2000000'], ['2026-03-02', '3000000']]);
  // 100 TH/s × 50,000 sat = 5,000,000; less 10 % and 0.05 USD × 100 / 50,000 USD = 10,000 sat: 4,490,000 sat = $2,245 a day.
  // $5,000 − $1,800 = $3,200 left: 2 days.
  expect(r.projection).toMatchObject({ kind: 'payback', days: 2, day: '2026-03-05', withinContract: true });
  if (r.projection.kind === 'payback') expect(r.projection.dailyNetSat.toString()).toBe('4490000');

  expect(contractReturn(contract, [credits[3]!, { ...credits[3]!, day: '2026-03-04', fxPerUsd: null }], 'EUR', market).creditedInCurrency).toBeNull();
  expect(contractReturn({ ...contract, purchasePriceUsd: null }, credits, 'USD', market).projection.kind).toBe('no-price');
  expect(contractReturn({ ...contract, maintenanceUsdPerThsDay: '100' }, credits, 'USD', market).projection.kind).toBe('never');
});
