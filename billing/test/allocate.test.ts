/** FPPS against the published worked example; allocation exact to the satoshi; the `fpps` command. */
import fc from 'fast-check';
import { Command } from 'commander';
import { allocateDay, type ContractTerms } from '../src/allocate';
import { registerBillingCommands } from '../src/cli';
import { fppsBtcPerDay, fppsSatPerDay } from '../src/fpps';

describe('FPPS expectation', () => {
  test('1 PH/s at difficulty 21,448,277,761,059 with a 6.25 BTC subsidy earns 0.0058619 BTC/day', () => {
    const btc = fppsBtcPerDay({ hashrateThs: 1000, difficulty: '21448277761059', subsidyBtc: '6.25' });
    expect(btc.toFixed(7)).toBe('0.0058619');
  });

  test('fees add to the subsidy, pool fee and FPPS rate scale linearly', () => {
    const base = fppsSatPerDay({ hashrateThs: 1000, difficulty: '21448277761059', subsidyBtc: '6.25' });
    expect(base).toBe(586194);
    expect(fppsSatPerDay({ hashrateThs: 1000, difficulty: '21448277761059', subsidyBtc: '3.125', feesPerBlockBtc: '3.125' })).toBe(base);
    expect(fppsSatPerDay({ hashrateThs: 1000, difficulty: '21448277761059', subsidyBtc: '6.25', poolFeePct: '2' })).toBe(Math.floor(586194.14 * 0.98));
  });

  test('flymining billing fpps prints BTC per day to 8 decimals', async () => {
    let out = '';
    const program = new Command().exitOverride();
    registerBillingCommands(program, { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream);
    await program.parseAsync(['billing', 'fpps', '--ths', '1000', '--difficulty', '21448277761059', '--subsidy', '6.25', '--pool-fee-pct', '0'], { from: 'user' });
    expect(out).toBe('0.00586194\n');
  });
});

const terms = (id: string, ths: string, extra: Partial<ContractTerms> = {}): ContractTerms => ({
  id,
  investorId: `inv-${id}`,
  hashrateThs: ths,
  maintenanceUsdPerThsDay: '0',
  revenueFeePct: '0',
  ...extra,
});

describe('allocation', () => {
  test('largest remainder: credits plus the farm share equal the revenue exactly, each within 1 sat of its quota', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000_000 }),
        fc.array(fc.integer({ min: 1, max: 10_000_000_000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 20_000_000_000_000 }),
        (revenue, microSizes, deliveredMicro) => {
          const contracts = microSizes.map((m, i) => terms(`c${String(i).padStart(3, '0')}`, (m / 1e6).toFixed(6)));
          const a = allocateDay({ revenueSat: revenue, deliveredThs: (deliveredMicro / 1e6).toFixed(6), contracts, btcPriceUsd: null });
          const credited = a.contracts.reduce((s, c) => s + c.grossSat, 0);
          expect(credited + a.farmSat).toBe(revenue);
          for (const c of a.contracts) {
            expect(Math.abs(c.grossSat - Number(c.quotaSat))).toBeLessThan(1);
            expect(c.netSat).toBe(c.grossSat);
          }
          expect(a.farmSat).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('three equal contracts share 100 sat as 34/33/33, the first id taking the odd satoshi', () => {
    const a = allocateDay({ revenueSat: 100, deliveredThs: '30', contracts: [terms('b', '10'), terms('a', '10'), terms('c', '10')], btcPriceUsd: null });
    expect(a.contracts.map((c) => [c.contract.id, c.grossSat])).toEqual([['a', 34], ['b', 33], ['c', 33]]);
    expect(a.farmSat).toBe(0);
  });

  test('downtime is shared: a farm delivering 75 of 100 sold TH/s pays everything out pro rata and keeps nothing', () => {
    const a = allocateDay({ revenueSat: 1_000_000, deliveredThs: '75', contracts: [terms('a', '60'), terms('b', '40')], btcPriceUsd: null });
    expect(a.contracts.map((c) => c.grossSat)).toEqual([600_000, 400_000]);
    expect(a.scale).toBe('0.75');
    expect(a.farmSat).toBe(0);
  });

  test('a farm delivering more than it sold keeps the unsold share', () => {
    const a = allocateDay({ revenueSat: 1_000_000, deliveredThs: '200', contracts: [terms('a', '60'), terms('b', '40')], btcPriceUsd: null });
    expect(a.contracts.map((c) => c.grossSat)).toEqual([300_000, 200_000]);
    expect(a.farmSat).toBe(500_000);
  });

  test('maintenance fee in USD converts at the day price on the delivered hashrate, in full even above the gross', () => {
    const contract = terms('a', '100', { maintenanceUsdPerThsDay: '0.05' });
    // 100 TH/s × 0.05 USD × scale 0.5 = 2.5 USD at 50,000 USD/BTC = 5,000 sat.
    const a = allocateDay({ revenueSat: 100_000, deliveredThs: '50', contracts: [contract], btcPriceUsd: '50000' });
    expect(a.contracts[0]).toMatchObject({ grossSat: 100_000, maintenanceFeeSat: 5_000, netSat: 95_000 });
    const poor = allocateDay({ revenueSat: 3_000, deliveredThs: '50', contracts: [contract], btcPriceUsd: '50000' });
    // The 2,000 sat the day's share does not cover are carried (owed, recovered from the next credits).
    expect(poor.contracts[0]).toMatchObject({ grossSat: 3_000, maintenanceFeeSat: 5_000, netSat: -2_000 });
    expect(() => allocateDay({ revenueSat: 1, deliveredThs: '1', contracts: [contract], btcPriceUsd: null })).toThrow(/no BTC price/);
  });

  test('revenue fee is a percentage of the gross, rounded down in the investor’s favour', () => {
    const a = allocateDay({ revenueSat: 999, deliveredThs: '10', contracts: [terms('a', '10', { revenueFeePct: '10' })], btcPriceUsd: null });
    expect(a.contracts[0]).toMatchObject({ grossSat: 999, revenueFeeSat: 99, netSat: 900 });
  });
});
