/**
 * In chromium: an investor (reading EUR) opens a contract and reads a day below 100 % explained (delivered share,
 * downtime), its value in USD and EUR (and the missing-rate wording on a day without one), the raw inputs behind
 * a click, and the payback projection.
 */
import type { Browser } from 'playwright-core';
import type { DayHashrate, HashrateSource } from '../../src/hashrate';
import { recordMarketDay, recordPoolPayout } from '../../src/market';
import { addDays, runDay, utcToday } from '../../src/run';
import { recordPurchasePrice } from '../../src/store/contracts';
import { setInvestorCurrency } from '../../src/store/investors';
import { browserSignIn, launchChromium, seedInvestor, startTestPortal, type PortalUnderTest } from './harness';

/** 135 of the 150 TH/s sold, miners hashing 90 % of the day. */
const farmHashrate: HashrateSource = {
  async dayHashrate(): Promise<DayHashrate> {
    return { deliveredThs: '135', nominalThs: '150', miners: 2, reachableUptime: '1', hashingUptime: '0.9', containers: [] };
  },
};

let portal: PortalUnderTest;
let browser: Browser;
const yesterday = addDays(utcToday(), -1);
const dayBefore = addDays(utcToday(), -2);

beforeAll(async () => {
  portal = await startTestPortal('credit-explained');
  const { pool } = portal.db;
  await seedInvestor(portal.db, 'alice', { ths: '100', startDay: addDays(yesterday, -10) });
  await seedInvestor(portal.db, 'bob', { ths: '50', startDay: addDays(yesterday, -10) });
  await setInvestorCurrency(pool, 'alice', 'EUR');
  await recordPurchasePrice(pool, 'alice-c1', '5000');
  for (const day of [dayBefore, yesterday]) {
    await recordMarketDay(pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', feesPerBlockBtc: '0.125', btcPriceUsd: '60000' });
    await recordPoolPayout(pool, { day, pool: 'test-pool', amountBtc: '0.05' });
    await runDay(pool, farmHashrate, day);
  }
  await pool.query(`INSERT INTO fx_rates (day, currency, per_usd, source) VALUES ($1, 'EUR', 0.9, 'ECB reference rate')`, [yesterday]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await portal?.close();
});

test('an investor reads a day’s explanation, its value in EUR and the payback projection', async () => {
  const { context, page } = await browserSignIn(browser, portal.url, 'alice@example.com');
  try {
    await page.click('text=alice-c1');
    expect(new URL(page.url()).pathname).toBe('/contracts/alice-c1');

    const row = page.locator(`table.credits tr[data-day="${yesterday}"]`);
    const text = await row.innerText();
    expect(text).toContain('The farm earned 0.05 BTC (paid by the pool) for 135 TH/s delivered (90 % of the 150 TH/s sold; below 100 % because of downtime (hashing uptime 90 %))');
    // 0.05 × 100 / 150 = 3,333,333 sat gross; no fees on this contract.
    expect(text).toContain('Your credit: 0.03333333 BTC.');
    // 0.03333333 × $60,000 = $1,999.9998; × 0.9 = €1,799.99982.
    expect(text).toContain('Your credit was worth $2,000.00 = €1,800.00 (0.9 EUR per USD, ECB reference rate).');
    // 1e12 × 86,400 × 325,000,000 / (1e14 × 2^32) = 65.38… sat per TH/s per day.
    expect(text).toContain('Hashprice that day: 65.38 sat per TH/s per day.');
    // The raw inputs are one click away.
    expect(text).not.toContain('revenue_source=pool');
    await row.locator('summary', { hasText: 'Inputs (for auditors)' }).click();
    expect(await row.innerText()).toContain('revenue_source=pool');

    expect(await page.locator(`table.credits tr[data-day="${dayBefore}"]`).innerText()).toContain('no EUR rate recorded for that day');

    const ret = page.locator('section.return');
    const retText = await ret.innerText();
    expect(retText).toContain('Purchase price: $5,000.00.');
    expect(retText).toContain('Credits to date: 0.06666666 BTC, worth $4,000.00 at each day’s price'); // $3,999.9996 shown to the cent
    expect(retText).toContain(`no EUR rate recorded for ${dayBefore}`);
    expect(retText).toContain('Projection');
    // 100 TH/s × 65.38 sat = 6,538 sat ≈ $3.92 a day: the $1,000.00 left takes 255 days, within the contract.
    expect(retText).toContain('the $1,000.00 still to recover would be repaid in 255 days, on');
    expect(retText).not.toContain('after the contract ends');
    await expect(ret.locator('svg circle.cumulative').count()).resolves.toBe(2);
  } finally {
    await context.close();
  }
});
