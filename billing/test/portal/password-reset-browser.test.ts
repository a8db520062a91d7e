/**
 * Password reset in chromium: the investor asks for a link (the answer is the same for an unknown address, which
 * gets no mail), opens the mailed link, sets a new password and signs in with it; the same link a second time is
 * refused, as are an altered and an expired one, and the old password no longer works.
 */
import type { Browser } from 'playwright-core';
import { signLink } from '../../src/portal/signing';
import { linkIn, type TestMailbox } from '../mailbox';
import { browserSignIn, HttpClient, launchChromium, PASSWORD, seedInvestor, startMailingPortal, type PortalUnderTest } from './harness';

let mailing: Awaited<ReturnType<typeof startMailingPortal>> | undefined;
let portal: PortalUnderTest;
let mailbox: TestMailbox;
let browser: Browser;
const NEW_PASSWORD = 'a brand new password 2';

beforeAll(async () => {
  mailing = await startMailingPortal('password-reset');
  ({ portal, mailbox } = mailing);
  await seedInvestor(portal.db, 'alice');
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await mailing?.close();
});

test('an investor resets the password from the mailed link, once', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${portal.url}/login`);
    await page.click('text=Forgot your password?');
    await page.fill('#email', 'nobody@example.com');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit].primary')]);
    const answer = await page.locator('main').innerText();
    expect(answer).toContain('If a portal account uses that address');

    await page.goto(`${portal.url}/password-reset`);
    await page.fill('#email', 'ALICE@example.com');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit].primary')]);
    expect(await page.locator('main').innerText()).toBe(answer); // the same words for a real account
    const [mail] = await mailbox.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailbox.mails).toHaveLength(1); // nothing went to the unknown address
    expect(mail!.subject).toBe('FlyMining: choose a new password');
    const link = linkIn(mail!, `${portal.url}/password-reset/confirm?`);

    await page.goto(link);
    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirm', 'something else entirely');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit].primary')]);
    expect(await page.locator('.errors').innerText()).toContain('The two passwords differ');
    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirm', NEW_PASSWORD);
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit].primary')]);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.locator('main').innerText()).toContain('Your password is changed');

    // Used once: the same link again is refused, in the browser and as a replayed form.
    const again = await page.goto(link);
    expect(again?.status()).toBe(410);
    expect(await page.locator('main').innerText()).toContain('used already or has expired');
    const replay = new HttpClient(portal.url);
    const params = Object.fromEntries(new URL(link).searchParams);
    const replayed = await replay.submit('/password-reset', '/password-reset/confirm', { ...params, password: 'yet another password 3', confirm: 'yet another password 3' });
    expect(replayed.status).toBe(410);
  } finally {
    await context.close();
  }

  const signedIn = await browserSignIn(browser, portal.url, 'alice@example.com', NEW_PASSWORD);
  expect(new URL(signedIn.page.url()).pathname).toBe('/');
  await signedIn.context.close();
  const old = new HttpClient(portal.url);
  expect((await old.signIn('alice@example.com', PASSWORD)).status).toBe(401);
});

test('an altered or expired link is refused', async () => {
  const client = new HttpClient(portal.url);
  await client.submit('/password-reset', '/password-reset', { email: 'alice@example.com' });
  const mails = await mailbox.waitFor(2);
  const link = new URL(linkIn(mails[1]!, `${portal.url}/password-reset/confirm?`));
  const altered = new URL(link);
  altered.searchParams.set('u', String(Number(link.searchParams.get('u')) + 1));
  expect((await client.get(altered.pathname + altered.search)).status).toBe(403);
  const expired = signLink(portal.settings.secret, 'password-reset', { fields: { u: link.searchParams.get('u')!, n: link.searchParams.get('n')! }, expiresAtS: Math.floor(Date.now() / 1000) - 1 });
  expect((await client.get(`/password-reset/confirm?${expired}`)).status).toBe(410);
  // The genuine link still works until used.
  expect((await client.get(link.pathname + link.search)).status).toBe(200);
});
