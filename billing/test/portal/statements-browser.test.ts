/**
 * Monthly statements from issue to investor: `flymining billing statements --month M` reports its progress, records
 * each statement and mails its investor a signed, expiring link (to a real SMTP server); the link downloads the
 * PDF without signing in, refuses an altered or expired one, and a second run mails nobody again. In chromium an
 * investor lists their statements, opens the printable page and downloads the PDF; only their own.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { satsToBtc } from '../../src/portal/forms';
import { signLink } from '../../src/portal/signing';
import { createPortalUser } from '../../src/portal/users';
import { loadMonthlyStatement } from '../../src/statements/monthly';
import { linkIn, openTestMailbox, type TestMailbox } from '../mailbox';
import { renderPdf } from '../pdf';
import { seedStatementMonths, type SeededMonths } from '../statements/seed';
import { browserSignIn, HttpClient, launchChromium, PASSWORD, startTestPortal, type PortalUnderTest } from './harness';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'flymining.js');

let portal: PortalUnderTest;
let mailbox: TestMailbox;
let seeded: SeededMonths;
let browser: Browser;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    FLYMINING_PG_URL: portal.db.url,
    FLYMINING_SMTP_URL: mailbox.url,
    FLYMINING_PORTAL_URL: portal.url,
    FLYMINING_PORTAL_SESSION_SECRET: portal.settings.secret,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'billing', ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  portal = await startTestPortal('statements');
  mailbox = await openTestMailbox();
  seeded = await seedStatementMonths(portal.db.pool);
  for (const id of ['alice', 'bob']) await createPortalUser(portal.db.pool, { email: `${id}@example.com`, password: PASSWORD, role: 'investor', investorId: id });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await mailbox?.close();
  await portal?.close();
});

test('the statements command mails each investor a signed link that downloads their PDF; altered and expired links are refused; a rerun mails nobody', async () => {
  const run = await cli('statements', '--month', seeded.month);
  expect(run.stderr).toContain(`statements ${seeded.month}: 2/2 investors (100 %), 2 mailed`);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ month: seeded.month, investors: 2, mailed: 2 });
  const mails = await mailbox.waitFor(2);
  const aliceMail = mails.find((m) => m.to && !Array.isArray(m.to) && m.to.text === 'alice@example.com');
  expect(aliceMail?.subject).toBe(`Your FlyMining statement for ${seeded.month}`);
  const statement = await loadMonthlyStatement(portal.db.pool, 'alice', seeded.month);
  const closing = `${satsToBtc(BigInt(statement.closingSat))} BTC`;
  expect(aliceMail!.text).toContain(`Closing balance: ${closing}.`);

  const link = linkIn(aliceMail!, `${portal.url}/statements/link?`);
  const download = await fetch(link);
  expect(download.status).toBe(200);
  expect(download.headers.get('content-type')).toBe('application/pdf');
  const pdf = await renderPdf(Buffer.from(await download.arrayBuffer()));
  expect(pdf.text.replace(/[ \t]+/g, ' ')).toContain(`Closing balance on ${statement.to} ${satsToBtc(BigInt(statement.closingSat))} BTC`);
  expect(pdf.text).toContain('Alice Example');

  // Someone else's statement through alice's link: the signature no longer matches.
  const altered = new URL(link);
  altered.searchParams.set('i', 'bob');
  expect((await fetch(altered)).status).toBe(403);
  const expired = signLink(portal.settings.secret, 'statement', { fields: { i: 'alice', m: seeded.month }, expiresAtS: Math.floor(Date.now() / 1000) - 1 });
  const old = await fetch(`${portal.url}/statements/link?${expired}`);
  expect(old.status).toBe(410);
  expect(await old.text()).toContain('This download link has expired');

  const again = await cli('statements', '--month', seeded.month);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ investors: 2, mailed: 0, alreadyMailed: 2 });
  await new Promise((r) => setTimeout(r, 300));
  expect(mailbox.mails).toHaveLength(2);
  const { rows } = await portal.db.pool.query('SELECT investor_id, closing_sat::bigint::text AS closing, mailed_to FROM statement_issues ORDER BY investor_id');
  expect(rows).toEqual([
    { investor_id: 'alice', closing: String(statement.closingSat), mailed_to: 'alice@example.com' },
    { investor_id: 'bob', closing: String((await loadMonthlyStatement(portal.db.pool, 'bob', seeded.month)).closingSat), mailed_to: 'bob@example.com' },
  ]);

  const early = await cli('statements', '--month', seeded.thisMonth);
  expect(early.code).toBe(2);
  expect(early.stderr).toContain(`month: ${seeded.thisMonth} is not over yet`);
});

test('an investor downloads only their own statements; without a session there is none', async () => {
  const anonymous = new HttpClient(portal.url);
  expect((await anonymous.get(`/statements/${seeded.month}.pdf`)).location).toBe('/login');
  const bob = new HttpClient(portal.url);
  await bob.signIn('bob@example.com');
  const bobsPdf = await fetch(`${portal.url}/statements/${seeded.month}.pdf`, { headers: { cookie: [...bob.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  expect(bobsPdf.status).toBe(200);
  const text = (await renderPdf(Buffer.from(await bobsPdf.arrayBuffer()))).text;
  expect(text).toContain('Bob Example (investor bob)');
  expect(text).not.toContain('Alice');
  // A month before any of bob's contracts, and the current month (not over): no statement.
  expect((await bob.get('/statements/2020-01.pdf')).status).toBe(404);
  expect((await bob.get(`/statements/${seeded.thisMonth}`)).status).toBe(404);
});

test('in chromium an investor opens the printable statement and downloads the PDF', async () => {
  const { context, page } = await browserSignIn(browser, portal.url, 'alice@example.com');
  try {
    await page.click('header >> text=Statements');
    const row = page.locator(`table.statements tr[data-month="${seeded.month}"]`);
    await row.locator('text=View').click();
    const statement = await loadMonthlyStatement(portal.db.pool, 'alice', seeded.month);
    const closing = `${satsToBtc(BigInt(statement.closingSat))} BTC`;
    expect(await page.locator('table.summary').innerText()).toContain(closing);
    expect(await page.locator('table.lines tbody tr').count()).toBe(statement.lines.length);
    await page.goBack();
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('text=Download PDF').click()]);
    expect(download.suggestedFilename()).toBe(`flymining-statement-alice-${seeded.month}.pdf`);
    const pdf = await renderPdf(await readFile((await download.path())!));
    expect(pdf.png.inkShare).toBeGreaterThan(0.005);
    expect(pdf.text.replace(/[ \t]+/g, ' ')).toContain(`Closing balance on ${statement.to} ${closing}`);
  } finally {
    await context.close();
  }
});
