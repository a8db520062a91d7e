/**
 * The portal in a real browser (Debian's chromium through playwright-core), with yesterday's credits posted by
 * the engine's daily run: an investor signs in, sees the day's credit and the chart, downloads the statement,
 * requests a payout (also with a forged investor field), cannot open another investor's pages; staff approve
 * the payout and mark it sent, and the investor sees it sent.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { listDailyCredits } from '../../src/api';
import type { DayHashrate, HashrateSource } from '../../src/hashrate';
import { recordPoolPayout } from '../../src/market';
import { addDays, runDay, utcToday } from '../../src/run';
import { createPortalUser } from '../../src/portal/users';
import { satsToBtc } from '../../src/portal/forms';
import { HttpClient, PASSWORD, hiddenFieldsIn, seedInvestor, startTestPortal, type PortalUnderTest } from './harness';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ADDRESS = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';
const TXID = 'a1'.repeat(32);

/** The farm delivered 135 of the 150 TH/s sold: every contract gets 90 % of its hashrate. */
const farmHashrate: HashrateSource = {
  async dayHashrate(): Promise<DayHashrate> {
    return { deliveredThs: '135', nominalThs: '150', miners: 2, reachableUptime: '1', hashingUptime: '0.9', containers: [] };
  },
};

let portal: PortalUnderTest;
let browser: Browser;
let downloads: string;
const yesterday = addDays(utcToday(), -1);
let aliceNetSat = 0;

beforeAll(async () => {
  portal = await startTestPortal('browser');
  const { pool } = portal.db;
  await seedInvestor(portal.db, 'alice', { ths: '100', startDay: addDays(yesterday, -10) });
  await seedInvestor(portal.db, 'bob', { ths: '50', startDay: addDays(yesterday, -10) });
  await createPortalUser(pool, { email: 'staff@example.com', password: PASSWORD, role: 'staff' });
  await recordPoolPayout(pool, { day: yesterday, pool: 'test-pool', amountBtc: '0.05' });
  await runDay(pool, farmHashrate, yesterday);
  const credits = await listDailyCredits(pool, 'alice');
  expect(credits).toHaveLength(1);
  aliceNetSat = credits[0]!.netSat;
  downloads = await mkdtemp(path.join(tmpdir(), 'portal-downloads-'));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await portal?.close();
  if (downloads) await rm(downloads, { recursive: true, force: true });
});

async function signedIn(email: string): Promise<{ context: BrowserContext; page: Page; cspViolations: string[] }> {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(`${portal.url}/login`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit].primary')]);
  return { context, page, cspViolations };
}

test('an investor sees yesterday’s credit and the chart, downloads the statement and requests a payout', async () => {
  const { context, page, cspViolations } = await signedIn('alice@example.com');
  try {
    expect(new URL(page.url()).pathname).toBe('/');
    const row = page.locator(`table.credits tr[data-day="${yesterday}"]`);
    await expect(row.count()).resolves.toBe(1);
    const rowText = await row.innerText();
    expect(rowText).toContain('alice-c1');
    // 90 % of the 100 TH/s purchased was delivered.
    expect(rowText).toMatch(/\b90\b/);
    expect(rowText).toContain(`${satsToBtc(BigInt(aliceNetSat))} BTC`);
    expect(await row.locator('details').textContent()).toContain('revenue_source=pool');
    expect(await page.locator('p.balance').innerText()).toContain(`${satsToBtc(BigInt(aliceNetSat))} BTC`);
    // The chart: one bar for the day, the purchased line, and a tooltip naming both figures.
    await expect(page.locator('svg rect.delivered').count()).resolves.toBe(1);
    expect(await page.locator('svg rect.delivered title').textContent()).toBe(`${yesterday}: 90.00 TH/s delivered of 100.00 TH/s purchased`);
    await expect(page.locator('svg path.purchased').count()).resolves.toBe(1);
    // The nonce'd stylesheet applied (a CSP mistake would leave the page unstyled).
    // (Browser code as strings: the tests typecheck without the DOM library.)
    expect(await page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")).toBe('rgb(29, 35, 42)');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download statement (CSV)')]);
    const file = path.join(downloads, download.suggestedFilename());
    await download.saveAs(file);
    expect(download.suggestedFilename()).toMatch(/^statement-alice-.*\.csv$/);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const header = lines[0]!.split(',');
    const creditLine = lines.find((l) => l.startsWith(`${yesterday},credit,alice-c1,`));
    expect(creditLine).toBeDefined();
    const cells = creditLine!.split(',');
    expect(cells[header.indexOf('net_sat')]).toBe(String(aliceNetSat));
    expect(cells[header.indexOf('farm_delivered_ths')]).toBe('135');
    expect(lines.join('\n')).not.toContain('bob');

    await page.click('a[href="/payouts"]');
    await page.fill('#amountBtc', '0.001');
    await page.fill('#address', ADDRESS);
    // A forged field naming another investor, added to the form as an attacker would: it must be ignored.
    await page.evaluate(`{
      const forged = Object.assign(document.createElement('input'), { type: 'hidden', name: 'investorId', value: 'bob' });
      document.querySelector('form[action="/payouts"]').appendChild(forged);
    }`);
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/payouts"] button[type=submit]')]);
    expect(await page.locator('.flash.ok').innerText()).toMatch(/Payout of 0\.001 BTC requested/);
    expect(await page.locator('table.payouts tbody tr').first().innerText()).toMatch(/0\.00100000 BTC[\s\S]*requested/);
    const payouts = await portal.db.pool.query('SELECT investor_id, amount_sat::int AS amount FROM payouts');
    expect(payouts.rows).toEqual([{ investor_id: 'alice', amount: 100_000 }]);
    expect(cspViolations).toEqual([]);
  } finally {
    await context.close();
  }
});

test('the same payout form posted twice (a double click) requests one payout', async () => {
  const client = new HttpClient(portal.url);
  await client.signIn('alice@example.com');
  const form = { ...hiddenFieldsIn((await client.get('/payouts')).text), amountBtc: '0.001', address: ADDRESS };
  expect((await client.post('/payouts', form)).location).toBe('/payouts');
  expect((await client.post('/payouts', form)).location).toBe('/payouts');
  const { rows } = await portal.db.pool.query("SELECT count(*)::int AS n FROM payouts WHERE investor_id = 'alice'");
  expect(rows[0].n).toBe(2); // the browser test's payout and this one, not three
});

test('an investor cannot open another investor’s contract or the staff pages', async () => {
  const { context, page } = await signedIn('alice@example.com');
  try {
    const contract = await page.goto(`${portal.url}/contracts/bob-c1`);
    expect(contract?.status()).toBe(404);
    expect(await page.locator('main').innerText()).toContain('There is no such contract among yours.');
    expect(await page.content()).not.toContain('bob-c1');
    const staffPage = await page.goto(`${portal.url}/admin/investors/bob`);
    expect(staffPage?.status()).toBe(403);
    expect(await page.locator('main').innerText()).toContain('This page is for farm staff.');
    // Her own contract still opens.
    expect((await page.goto(`${portal.url}/contracts/alice-c1`))?.status()).toBe(200);
  } finally {
    await context.close();
  }
});

test('staff see the daily run, approve the payout and mark it sent; the investor then sees it sent', async () => {
  const staff = await signedIn('staff@example.com');
  try {
    expect(new URL(staff.page.url()).pathname).toBe('/admin');
    expect(await staff.page.locator('table.runs').innerText()).toMatch(new RegExp(`${yesterday}\\s+done`));
    await Promise.all([staff.page.waitForLoadState('load'), staff.page.click('button:has-text("Approve")')]);
    expect(await staff.page.locator('.flash.ok').innerText()).toMatch(/approved/);
    await staff.page.fill('input[name=txid]', TXID);
    await Promise.all([staff.page.waitForLoadState('load'), staff.page.click('button:has-text("Mark sent")')]);
    expect(await staff.page.locator('.flash.ok').innerText()).toMatch(/marked sent/);
  } finally {
    await staff.context.close();
  }
  const investor = await signedIn('alice@example.com');
  try {
    await investor.page.goto(`${portal.url}/payouts`);
    expect(await investor.page.locator('table.payouts tbody tr').first().innerText()).toContain(TXID);
    expect(await investor.page.locator('table.payouts tbody tr').first().innerText()).toMatch(/\bsent\b/);
  } finally {
    await investor.context.close();
  }
});

test('staff reject a payout with a reason: the investor sees why and gets the amount back', async () => {
  const alice = new HttpClient(portal.url);
  await alice.signIn('alice@example.com');
  const balanceBefore = /<p class="balance"><strong>([\d.]+) BTC/.exec((await alice.get('/')).text)?.[1];
  expect((await alice.submit('/payouts', '/payouts', { amountBtc: '0.0011', address: ADDRESS })).location).toBe('/payouts');
  expect(/<p class="balance"><strong>([\d.]+) BTC/.exec((await alice.get('/')).text)?.[1]).not.toBe(balanceBefore);
  const { rows } = await portal.db.pool.query("SELECT id FROM payouts WHERE amount_sat = 110000 AND status = 'requested'");
  const staff = new HttpClient(portal.url);
  await staff.signIn('staff@example.com');
  const noReason = await staff.submit('/admin', `/admin/payouts/${rows[0].id}/reject`, { reason: ' ' });
  expect(noReason.status).toBe(400);
  expect(noReason.text).toContain('Reason: say why the payout is refused');
  expect((await staff.submit('/admin', `/admin/payouts/${rows[0].id}/reject`, { reason: 'address on a sanctions list' })).location).toBe('/admin');
  expect((await alice.get('/payouts')).text).toContain('rejected: address on a sanctions list (staff@example.com)');
  expect(/<p class="balance"><strong>([\d.]+) BTC/.exec((await alice.get('/')).text)?.[1]).toBe(balanceBefore);
});
