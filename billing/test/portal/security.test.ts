/**
 * The portal's defences over real HTTP, against real PostgreSQL and Redis: headers and cookies, CSRF, sign-in
 * without user enumeration, rate limiting, TOTP, session expiry and sign-out, and one investor never reaching
 * another's data.
 */
import { generate } from 'otplib';
import { createTestDatabase, type TestDatabase } from '../pg';
import { beginTotpEnrolment, createPortalUser } from '../../src/portal/users';
import { HttpClient, PASSWORD, csrfTokenIn, seedInvestor, startTestPortal, type PortalUnderTest } from './harness';

let db: TestDatabase;
let portal: PortalUnderTest;

beforeAll(async () => {
  db = await createTestDatabase('portal_security');
  portal = await startTestPortal('security', {}, db);
  await seedInvestor(db, 'alice');
  await seedInvestor(db, 'bob');
  await createPortalUser(db.pool, { email: 'staff@example.com', password: PASSWORD, role: 'staff' });
});

afterAll(async () => {
  await portal?.close();
  await db?.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('headers and cookies', () => {
  test('a strict CSP whose style nonce is the page’s, framing refused, and HttpOnly SameSite=Lax cookies', async () => {
    const client = new HttpClient(portal.url);
    const page = await client.get('/login');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(page.text).toContain(`<style nonce="${nonce}">`);
    expect(page.text).not.toMatch(/<script|style="/);
    // A fresh nonce per response.
    expect((await client.get('/login')).headers.get('content-security-policy')).not.toContain(nonce);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-powered-by')).toBeNull();
    // Before sign-in only the CSRF nonce cookie; the session cookie comes with sign-in.
    const fresh = new HttpClient(portal.url);
    await fresh.get('/login');
    const nonceCookie = fresh.lastSetCookie.find((c) => c.startsWith('flymining.csrf='));
    expect(fresh.lastSetCookie.find((c) => c.startsWith('flymining.sid='))).toBeUndefined();
    await fresh.signIn('alice@example.com');
    const sessionCookie = fresh.lastSetCookie.find((c) => c.startsWith('flymining.sid='));
    for (const cookie of [nonceCookie, sessionCookie]) {
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      // Plain HTTP without a trusted proxy: a Secure cookie would never come back.
      expect(cookie).not.toMatch(/Secure/);
    }
  });

  test('behind a trusted TLS proxy the session cookie is Secure; an untrusted X-Forwarded-Proto changes nothing', async () => {
    const proxied = await startTestPortal('proxied', { trustedProxies: ['127.0.0.1'] }, db);
    try {
      const viaProxy = new HttpClient(proxied.url, { 'x-forwarded-proto': 'https' });
      await viaProxy.signIn('alice@example.com');
      expect(viaProxy.lastSetCookie.find((c) => c.startsWith('flymining.sid='))).toMatch(/; Secure/);
    } finally {
      await proxied.close();
    }
    const spoofing = new HttpClient(portal.url, { 'x-forwarded-proto': 'https' });
    await spoofing.signIn('alice@example.com');
    expect(spoofing.lastSetCookie.find((c) => c.startsWith('flymining.sid='))).not.toMatch(/Secure/);
  });
});

describe('CSRF', () => {
  test('a sign-in form posted without the token, or with another session’s token, is refused', async () => {
    const attacker = new HttpClient(portal.url);
    const attackerToken = csrfTokenIn((await attacker.get('/login')).text);
    const victim = new HttpClient(portal.url);
    await victim.get('/login');
    const noToken = await victim.post('/login', { email: 'alice@example.com', password: PASSWORD });
    expect(noToken.status).toBe(403);
    expect(noToken.text).toContain('This form has expired or did not come from this site');
    const foreignToken = await victim.post('/login', { _csrf: attackerToken, email: 'alice@example.com', password: PASSWORD });
    expect(foreignToken.status).toBe(403);
    expect(victim.cookies.size).toBe(1);
    expect((await victim.get('/')).location).toBe('/login');
  });

  test('a signed-in investor’s payout request and sign-out need the token', async () => {
    const alice = new HttpClient(portal.url);
    expect((await alice.signIn('alice@example.com')).location).toBe('/');
    const forged = await alice.post('/payouts', { amountBtc: '0.01', address: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq' });
    expect(forged.status).toBe(403);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM payouts')).rows[0].n).toBe(0);
    expect((await alice.post('/logout', {})).status).toBe(403);
    expect((await alice.get('/')).status).toBe(200);
  });
});

describe('sign-in', () => {
  test('an unknown email and a wrong password get the same answer, and both are audited', async () => {
    const client = new HttpClient(portal.url);
    const unknown = await client.signIn('nobody@example.com', 'whatever it is 123');
    const wrong = await client.signIn('alice@example.com', 'not the password 123');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const message = (r: { text: string }) => /<ul class="errors"[^>]*>(.*?)<\/ul>/s.exec(r.text)?.[1];
    expect(message(unknown)).toBe('<li>Email or password is incorrect.</li>');
    expect(message(wrong)).toBe(message(unknown));
    const audit = await db.pool.query(
      "SELECT email, outcome, user_id FROM portal_login_audit WHERE email IN ('nobody@example.com', 'alice@example.com') AND outcome = 'bad_credentials' ORDER BY id",
    );
    expect(audit.rows.map((r) => [r.email, r.user_id === null])).toEqual([
      ['nobody@example.com', true],
      ['alice@example.com', true],
    ]);
  });

  test('missing fields get clear messages', async () => {
    const reply = await new HttpClient(portal.url).signIn('', '');
    expect(reply.status).toBe(400);
    expect(reply.text).toContain('Enter your email address');
    expect(reply.text).toContain('Enter your password');
  });

  test('guesses at one account spread over many addresses are limited per email too', async () => {
    const limited = await startTestPortal('ratelimit-email', { loginAttempts: 3, loginWindowS: 60, loginBaseDelayS: 30, loginMaxDelayS: 60, trustedProxies: ['loopback'] }, db);
    try {
      const from = (i: number) => new HttpClient(limited.url, { 'x-forwarded-for': `198.51.100.${i}` });
      for (let i = 1; i <= 3; i++) expect((await from(i).signIn('bob@example.com', `wrong password ${i}xx`)).status).toBe(401);
      expect((await from(4).signIn('bob@example.com')).status).toBe(429);
      // Other accounts from fresh addresses are unaffected.
      expect((await from(5).signIn('alice@example.com')).location).toBe('/');
    } finally {
      await limited.close();
    }
  });

  test('with TOTP on, the password alone does not sign in; the current code does, once', async () => {
    const user = await createPortalUser(db.pool, { email: 'carol@example.com', password: PASSWORD, role: 'staff' });
    const { secret } = await beginTotpEnrolment(db.pool, user, { confirmed: true });
    const client = new HttpClient(portal.url);
    const afterPassword = await client.signIn('carol@example.com');
    expect(afterPassword.location).toBe('/login/totp');
    expect((await client.get('/admin')).location).toBe('/login');
    const wrongCode = await client.submit('/login/totp', '/login/totp', { code: '000000' === (await generate({ secret })) ? '111111' : '000000' });
    expect(wrongCode.status).toBe(401);
    expect(wrongCode.text).toContain('That code is not valid');
    const badShape = await client.submit('/login/totp', '/login/totp', { code: '12ab' });
    expect(badShape.status).toBe(400);
    expect(badShape.text).toContain('Enter the 6-digit code');
    const code = await generate({ secret });
    const ok = await client.submit('/login/totp', '/login/totp', { code });
    expect(ok.location).toBe('/admin');
    expect((await client.get('/admin')).status).toBe(200);
    // The same code again, from another browser: refused.
    const replay = new HttpClient(portal.url);
    expect((await replay.signIn('carol@example.com')).location).toBe('/login/totp');
    expect((await replay.submit('/login/totp', '/login/totp', { code })).status).toBe(401);
  });

  test('wrong TOTP codes are limited per account, whatever the address', async () => {
    const user = await createPortalUser(db.pool, { email: 'grace@example.com', password: PASSWORD, role: 'staff' });
    const { secret } = await beginTotpEnrolment(db.pool, user, { confirmed: true });
    const limited = await startTestPortal('ratelimit-totp', { loginAttempts: 3, loginWindowS: 60, loginBaseDelayS: 30, loginMaxDelayS: 60, trustedProxies: ['loopback'] }, db);
    try {
      const attempt = async (i: number, code: string) => {
        const client = new HttpClient(limited.url, { 'x-forwarded-for': `203.0.113.${i}` });
        expect((await client.signIn('grace@example.com')).location).toBe('/login/totp');
        return client.submit('/login/totp', '/login/totp', { code });
      };
      const right = await generate({ secret });
      const wrong = right === '000000' ? '111111' : '000000';
      for (let i = 1; i <= 3; i++) expect((await attempt(i, wrong)).status).toBe(401);
      expect((await attempt(4, right)).status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  test('an investor can turn TOTP on from the account page, and sign-in then asks for it', async () => {
    await seedInvestor(db, 'dave');
    const client = new HttpClient(portal.url);
    await client.signIn('dave@example.com');
    const setup = await client.submit('/account', '/account/totp', { password: PASSWORD });
    const secret = /class="totp-secret">([A-Z2-7]+)</.exec(setup.text)?.[1];
    expect(secret).toBeTruthy();
    const confirmed = await client.post('/account/totp/confirm', { _csrf: csrfTokenIn(setup.text), code: await generate({ secret: secret! }) });
    expect(confirmed.location).toBe('/account');
    expect((await client.get('/account')).text).toContain('Two-factor sign-in is on.');
    expect((await new HttpClient(portal.url).signIn('dave@example.com')).location).toBe('/login/totp');
  });
});

describe('sessions', () => {
  test('an idle session expires, in Redis as well as in the browser', async () => {
    const short = await startTestPortal('idle', { idleTimeoutS: 2 }, db);
    try {
      const client = new HttpClient(short.url);
      await client.signIn('alice@example.com');
      expect((await client.get('/')).status).toBe(200);
      expect(await short.redis.keys(`${short.settings.keyPrefix}sess:*`)).toHaveLength(1);
      await sleep(3200);
      expect(await short.redis.keys(`${short.settings.keyPrefix}sess:*`)).toHaveLength(0);
      expect((await client.get('/')).location).toBe('/login');
    } finally {
      await short.close();
    }
  });

  test('a busy session still ends at its maximum lifetime', async () => {
    // Six seconds of life, used every 1.5 s: on a busy machine a request can take a second or two itself.
    const capped = await startTestPortal('lifetime', { maxSessionS: 6 }, db);
    try {
      const client = new HttpClient(capped.url);
      await client.signIn('alice@example.com');
      const signedInAt = Date.now(); // the session began before this
      for (let i = 0; i < 2; i++) {
        await sleep(1500);
        expect((await client.get('/')).status).toBe(200);
      }
      await sleep(Math.max(0, signedInAt + 6_500 - Date.now()));
      expect((await client.get('/')).location).toBe('/login?expired=1');
      expect((await client.get('/login?expired=1')).text).toContain('Your session has ended');
    } finally {
      await capped.close();
    }
  });

  test('after sign-out the old session cookie is worthless', async () => {
    const client = new HttpClient(portal.url);
    await client.signIn('alice@example.com');
    const stolen = new Map(client.cookies);
    expect((await client.submit('/', '/logout', {})).location).toBe('/login');
    const thief = new HttpClient(portal.url);
    for (const [k, v] of stolen) thief.cookies.set(k, v);
    expect((await thief.get('/')).location).toBe('/login');
  });

  test('signing in issues a new session id (no session fixation)', async () => {
    const client = new HttpClient(portal.url);
    await client.get('/login');
    const before = client.cookies.get('flymining.sid');
    await client.signIn('alice@example.com');
    expect(client.cookies.get('flymining.sid')).not.toBe(before);
  });
});

describe('one investor, one investor’s data', () => {
  test('another investor’s contract, statement and the staff pages are out of reach', async () => {
    const alice = new HttpClient(portal.url);
    await alice.signIn('alice@example.com');
    expect((await alice.get('/contracts/alice-c1')).status).toBe(200);
    const other = await alice.get('/contracts/bob-c1');
    expect(other.status).toBe(404);
    // The page's random CSP nonce (base64) once contained "bob": only what the page says is checked.
    expect(other.text.replace(/ nonce="[^"]*"/g, '')).not.toContain('bob');
    expect((await alice.get('/admin')).status).toBe(403);
    expect((await alice.get('/admin/investors/bob')).status).toBe(403);
    const approve = await alice.submit('/', '/admin/payouts/1/approve', {});
    expect(approve.status).toBe(403);
    const statement = await alice.get('/statement.csv');
    expect(statement.headers.get('content-disposition')).toMatch(/statement-alice-2026-01-01-to-\d{4}-\d\d-\d\d\.csv/);
    // A form field naming another investor changes nothing: the statement is the session's investor's.
    expect((await alice.get('/statement.csv?investor=bob&investorId=bob')).headers.get('content-disposition')).toContain('statement-alice-');
  });

  test('staff see every investor and land on the admin page', async () => {
    const staff = new HttpClient(portal.url);
    expect((await staff.signIn('staff@example.com')).location).toBe('/admin');
    const admin = await staff.get('/admin');
    expect(admin.text).toContain('Investor alice');
    expect(admin.text).toContain('Investor bob');
    expect((await staff.get('/')).location).toBe('/admin');
    expect((await staff.get('/admin/investors/bob')).text).toContain('bob-c1');
  });

  test('payout requests are validated with messages that name the field', async () => {
    const alice = new HttpClient(portal.url);
    await alice.signIn('alice@example.com');
    const bad = await alice.submit('/payouts', '/payouts', { amountBtc: '1,5', address: 'not-an-address' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Amount: enter BTC with at most 8 decimals');
    expect(bad.text).toContain('Address: not a Bitcoin address');
    const checksum = await alice.submit('/payouts', '/payouts', { amountBtc: '0.01', address: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr' });
    expect(checksum.status).toBe(422);
    expect(checksum.text).toMatch(/Address: not valid \(.*bad bech32/);
    const tooMuch = await alice.submit('/payouts', '/payouts', { amountBtc: '0.01', address: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq' });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.text).toContain('Amount: more than your available balance.');
  });
});
