/**
 * A password reset ends every session of the account: a session signed in before it (a stolen cookie, another
 * device) gets the sign-in page, and so does a sign-in stuck at the TOTP step; the new password signs in and its
 * session works. Other accounts' sessions are untouched. Real PostgreSQL, Redis and SMTP server.
 */
import { generate } from 'otplib';
import { beginTotpEnrolment, createPortalUser } from '../../src/portal/users';
import { linkIn, type TestMailbox } from '../mailbox';
import { HttpClient, PASSWORD, seedInvestor, startMailingPortal, type PortalUnderTest } from './harness';

let mailing: Awaited<ReturnType<typeof startMailingPortal>> | undefined;
let portal: PortalUnderTest;
let mailbox: TestMailbox;
const NEW_PASSWORD = 'a brand new password 2';

beforeAll(async () => {
  mailing = await startMailingPortal('reset-sessions');
  ({ portal, mailbox } = mailing);
  await seedInvestor(portal.db, 'alice');
  await seedInvestor(portal.db, 'bob');
}, 60_000);

afterAll(async () => {
  await mailing?.close();
});

/** Asks for a reset link for `email` and sets `password` through it, as the investor would from the mail. */
async function resetPassword(email: string, password: string): Promise<void> {
  const before = mailbox.mails.length;
  const client = new HttpClient(portal.url);
  await client.submit('/password-reset', '/password-reset', { email });
  const mails = await mailbox.waitFor(before + 1);
  const link = new URL(linkIn(mails[before]!, `${portal.url}/password-reset/confirm?`));
  const done = await client.submit(link.pathname + link.search, '/password-reset/confirm', { password, confirm: password });
  expect(done.location).toBe('/login?reset=1');
}

test("a reset ends the account's sessions (a stolen cookie stops working); the new password works; others stay signed in", async () => {
  const sessionA = new HttpClient(portal.url);
  expect((await sessionA.signIn('alice@example.com')).location).toBe('/');
  const stolen = new HttpClient(portal.url);
  for (const [k, v] of sessionA.cookies) stolen.cookies.set(k, v);
  expect((await stolen.get('/')).status).toBe(200);
  const bobSession = new HttpClient(portal.url);
  expect((await bobSession.signIn('bob@example.com')).location).toBe('/');

  await resetPassword('alice@example.com', NEW_PASSWORD);

  const ended = await stolen.get('/');
  expect(ended.status).toBe(303);
  expect(ended.location).toBe('/login?expired=1');
  const signInPage = await stolen.get(ended.location!);
  expect(signInPage.status).toBe(200);
  expect(signInPage.text).toContain('Your session has ended');
  // The session is gone for good, not just refused once, and its owner's browser is signed out too.
  expect((await stolen.get('/balance')).location).toBe('/login');
  expect((await sessionA.get('/')).location).toMatch(/^\/login/);
  // Someone else's session is untouched.
  expect((await bobSession.get('/')).status).toBe(200);

  expect((await new HttpClient(portal.url).signIn('alice@example.com', PASSWORD)).status).toBe(401);
  const fresh = new HttpClient(portal.url);
  expect((await fresh.signIn('alice@example.com', NEW_PASSWORD)).location).toBe('/');
  expect((await fresh.get('/')).status).toBe(200);
});

test('a sign-in waiting for its TOTP code when the password is reset cannot be finished', async () => {
  const user = await createPortalUser(portal.db.pool, { email: 'carol@example.com', password: PASSWORD, role: 'staff' });
  const { secret } = await beginTotpEnrolment(portal.db.pool, user, { confirmed: true });
  const pending = new HttpClient(portal.url);
  expect((await pending.signIn('carol@example.com')).location).toBe('/login/totp');

  await resetPassword('carol@example.com', NEW_PASSWORD);

  const refused = await pending.submit('/login/totp', '/login/totp', { code: await generate({ secret }) });
  expect(refused.status).toBe(401);
  expect((await pending.get('/admin')).location).toBe('/login');
  // With the new password and a code, carol gets in.
  const fresh = new HttpClient(portal.url);
  expect((await fresh.signIn('carol@example.com', NEW_PASSWORD)).location).toBe('/login/totp');
  // The refused attempt used up no code (it never reached the code check), so the current one works.
  const ok = await fresh.submit('/login/totp', '/login/totp', { code: await generate({ secret }) });
  expect([ok.status, ok.location]).toEqual([303, '/admin']);
});
