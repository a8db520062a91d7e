/**
 * The staff page in a real browser (Debian's chromium through playwright-core) with a workshop screen's token in
 * its cookie: the open ticket is listed, a technician takes it, closes it with a repair record (parts with serials),
 * and the ticket shows the repair; it turns fixed once the fault clears. The page runs under its CSP without a
 * violation (its one script is served by the server; its forms go out as JSON).
 */
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../grafana-plugin/test/node/browser';
import { syncTickets } from '../src';
import { MAINTENANCE_TOKEN_COOKIE } from '../src/staff/app';
import { firing } from './alerts';
import { startStaffServer, type StaffServer } from './staff-server';

let s: StaffServer;
let browser: Browser;

beforeAll(async () => {
  s = await startStaffServer('browser');
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

test('a technician takes the open ticket and closes it with a repair record from the page', async () => {
  const now = Date.now();
  const { opened } = await syncTickets(s.db.pool, [firing('C02-R3-S1-7', 'HASHBOARD_DEAD', 'board 2', now - 45 * 60_000)], now - 44 * 60_000);
  const id = opened[0]!;
  const context = await browser.newContext();
  await context.addCookies([{ name: MAINTENANCE_TOKEN_COOKIE, value: await s.tokens.token('maintenance:write'), url: s.url, httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(`${s.url}/`);
  const row = page.locator(`tr[data-ticket="${id}"]`);
  await expect(row.textContent()).resolves.toMatch(/4[45] min\s*critical\s*C02 R3 S1 #7\s*HASHBOARD_DEAD\s*board 2\s*open/);
  await row.getByRole('link', { name: `#${id}` }).click();
  await page.waitForURL(`${s.url}/tickets/${id}`);

  await page.locator('#take input[name=by]').fill('Ola Hansen');
  await Promise.all([page.waitForEvent('load'), page.locator('#take button').click()]);
  await expect(page.locator('.facts').textContent()).resolves.toMatch(/In repair\d{4}-\d\d-\d\d \d\d:\d\d by Ola Hansen/);
  expect(await page.locator('#take').count()).toBe(0); // nothing left to take

  const close = page.locator('#close');
  await close.locator('input[name=by]').fill('Ola Hansen');
  await close.locator('select[name=action]').selectOption('replace_hashboard');
  const firstPart = close.locator('.part-row').first();
  await firstPart.locator('select[name=kind]').selectOption('hashboard');
  await firstPart.locator('input[name=removedSerial]').fill('HB-2291-A');
  await firstPart.locator('input[name=installedSerial]').fill('HB-3310-C');
  await close.locator('textarea[name=notes]').fill('chain 2 dead, board swapped');
  await close.locator('input[name=minutesOnSite]').fill('35');
  await Promise.all([page.waitForEvent('load'), close.locator('button').click()]);

  const repairs = page.locator('table.repairs tbody tr');
  await expect(repairs.count()).resolves.toBe(1);
  await expect(repairs.first().textContent()).resolves.toMatch(/Ola Hansen\s*replace hashboard\s*hashboard: HB-2291-A → HB-3310-C\s*chain 2 dead, board swapped\s*35 min/);
  // The board is still dead in the exporter's eyes: in repair until the fault clears.
  await expect(page.locator('.facts').textContent()).resolves.toMatch(/Statein repair fault still firing/);

  await syncTickets(s.db.pool, [], Date.now());
  await page.reload();
  await expect(page.locator('.facts').textContent()).resolves.toMatch(/Statefixed fault cleared.*Fixed\d{4}-\d\d-\d\d \d\d:\d\d by Ola Hansen/s);
  // The removed board's serial history links back to the ticket.
  await page.getByRole('link', { name: 'HB-2291-A' }).click();
  await expect(page.locator('main p').first().textContent()).resolves.toBe('Named in 1 repair; taken out 1 time.');
  expect(problems).toEqual([]);
  await context.close();
});

test('a refused action shows its reason next to the button', async () => {
  const now = Date.now();
  const { opened } = await syncTickets(s.db.pool, [firing('C02-R3-S1-8', 'FAN_STOPPED', 'fan 1', now - 60_000)], now);
  const id = opened[0]!;
  const context = await browser.newContext();
  await context.addCookies([{ name: MAINTENANCE_TOKEN_COOKIE, value: await s.tokens.token('maintenance:write'), url: s.url, httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  await page.goto(`${s.url}/tickets/${id}`);
  // Somebody else takes it meanwhile.
  await fetch(`${s.url}/api/tickets/${id}/take`, { method: 'POST', headers: { authorization: `Bearer ${await s.tokens.token('maintenance:write')}`, 'content-type': 'application/json' }, body: '{"by":"Ingrid Berg"}' });
  await page.locator('#take input[name=by]').fill('Kari Nordmann');
  await page.locator('#take button').click();
  await page.locator('#take .form-error').filter({ hasText: /\S/ }).waitFor();
  expect(await page.locator('#take .form-error').textContent()).toBe(`ticket #${id} is already in repair by Ingrid Berg`);
  await context.close();
});
