/**
 * The control page in a real browser (Debian's chromium through playwright-core) with a workshop screen's token:
 * from a ticket's "blink this miner" link to the form prefilled, a blink sent to the edge, and the miner's outcome
 * appearing in the list by itself (the page re-reads the list while the request runs, without a reload), under the
 * page's CSP without a violation. The edge is real: its poller fetches the request and blinks a simulated miner.
 */
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../grafana-plugin/test/node/browser';
import { syncTickets } from '../src';
import { MAINTENANCE_TOKEN_COOKIE } from '../src/staff/app';
import { firing } from './alerts';
import { startControlRig, type ControlRig } from './control-edges';

let rig: ControlRig;
let browser: Browser;

beforeAll(async () => {
  rig = await startControlRig('browser', '127.214.61', 1);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await rig?.close();
});

test("a technician blinks a ticket's miner from the page and sees the outcome arrive", async () => {
  const now = Date.now();
  const { opened } = await syncTickets(rig.center.db.pool, [firing('C01-R01-S1-1', 'FAN_STOPPED', 'fan 2', now - 10 * 60_000)], now);
  const ticket = opened[0]!;
  const context = await browser.newContext();
  const token = await rig.center.tokens.token('maintenance:read', 'control:write');
  await context.addCookies([{ name: MAINTENANCE_TOKEN_COOKIE, value: token, url: rig.center.url, httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(`${rig.center.url}/tickets/${ticket}`);
  await page.getByRole('link', { name: 'blink', exact: true }).click();
  await page.waitForURL(/\/control\?/);
  const form = page.locator('#control-form');
  expect(await form.locator('input[name=targets]').inputValue()).toBe('C01-R01-S1-1');
  expect(await form.locator('select[name=action]').inputValue()).toBe('blink');
  expect(await form.locator('input[name=reason]').inputValue()).toBe(`ticket #${ticket}`);
  // Only the blink's fields show: no power, pool or switch inputs.
  expect(await form.locator('fieldset[data-for]:visible').count()).toBe(0);

  rig.edges.C01.remote.start();
  let loads = 0;
  page.on('load', () => loads++);
  await form.locator('input[name=by]').fill('Ola Hansen');
  await form.locator('button[type=submit]').click();
  await page.locator('#control-form .form-done').filter({ hasText: /\S/ }).waitFor();
  expect(await page.locator('#control-form .form-done').textContent()).toMatch(/^queued: #(\d+) for C01 \(1 miners\)$/);
  const id = Number(/#(\d+)/.exec((await page.locator('#control-form .form-done').textContent()) ?? '')?.[1]);

  const card = page.locator(`[data-request="${id}"]`);
  await card.locator('tr[data-miner="C01-R01-S1-1"]').waitFor({ timeout: 30_000 });
  await page.locator(`[data-request="${id}"][data-status="done"]`).waitFor({ timeout: 30_000 });
  expect(await card.locator('tr[data-miner="C01-R01-S1-1"]').textContent()).toMatch(/C01-R01-S1-1\s*C01\/R01\/S1\/1\s*sent\s*[\d.]+ s\s*blink on accepted/);
  expect(await card.textContent()).toMatch(/blink on on C01-R01-S1-1.*done.*asked by Ola Hansen .* ticket #\d+ · 1 sent/s);
  expect(loads).toBe(0); // the outcome came without a reload
  expect(await form.locator('input[name=by]').inputValue()).toBe('Ola Hansen'); // and the form kept what was typed
  expect(rig.miner('C01-R01-S1-1').commandedState().blinking).toBe(true);
  // Nothing is running any more: the page stops asking.
  expect(await page.locator('#control-requests').getAttribute('data-running')).toBe('0');

  expect(problems).toEqual([]);

  // A refusal shows next to the button, naming the field.
  await form.locator('input[name=targets]').fill('C09-R01-S1-1');
  await form.locator('button[type=submit]').click();
  await page.locator('#control-form .form-error').filter({ hasText: /\S/ }).waitFor();
  expect(await page.locator('#control-form .form-error').textContent()).toMatch(/^targets\[0\]: "C09-R01-S1-1": /);
  await context.close();
});
