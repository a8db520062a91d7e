/**
 * Issue #10's portal findings, replayed over real HTTP against real PostgreSQL and Redis; each test fails if its
 * finding comes back:
 *  - the per-email limit locked the rightful owner out (now: progressive delays, known devices let through);
 *  - every cookieless GET of /login stored a session in Redis (now: a stateless CSRF token before sign-in);
 *  - a signed-in session could turn 2FA off or re-enrol without the current code;
 *  - oversized forms, bad %-escapes and impossible dates answered 500;
 *  - `trust proxy` was a hop count (now: the proxies' addresses).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { generate } from 'otplib';
import pino from 'pino';
import { createPortalApp, type PortalSettings } from '../../src/portal/app';
import { engineLedger } from '../../src/portal/ledger-adapter';
import { readPortalSettings } from '../../src/portal/main';
import { migratePortal } from '../../src/db';
import { beginTotpEnrolment, createPortalUser } from '../../src/portal/users';
import { signature } from '../../src/portal/signing';
import { createTestDatabase, type TestDatabase } from '../pg';
import { HttpClient, PASSWORD, csrfTokenIn, hiddenFieldsIn, seedInvestor, startTestPortal, testRedisUrl, withTestPortal, type PortalUnderTest, type Reply } from './harness';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('portal_hardening');
  await migratePortal(db.pool);
  await seedInvestor(db, 'olivia');
  await seedInvestor(db, 'peter');
  await createPortalUser(db.pool, { email: 'sam@example.com', password: PASSWORD, role: 'staff' });
});

afterAll(async () => {
  await db?.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const retryAfterS = (reply: Reply): number => Number(reply.headers.get('retry-after'));
/** A client whose requests come through the (trusted) proxy on behalf of `address`. */
const via = (portal: PortalUnderTest, address: string) => new HttpClient(portal.url, { 'x-forwarded-for': address });

describe('sign-in throttling cannot lock the owner out', () => {
  // Base = longest: the email stays throttled for 10 s after each guess, long enough for the steps below on a busy
  // machine (where one sign-in, password hashing included, can take 2-3 s).
  const MAX_DELAY_S = 10;
  let portal: PortalUnderTest;
  beforeAll(async () => {
    portal = await startTestPortal('throttle', { loginAttempts: 3, loginBaseDelayS: MAX_DELAY_S, loginMaxDelayS: MAX_DELAY_S, loginWindowS: 600, trustedProxies: ['loopback'] }, db);
  });
  afterAll(() => portal?.close());

  test('an attacker burns the email’s budget: the owner’s known device signs in at once, a new device within the longest delay', async () => {
    // Olivia's laptop has signed in before: it holds the signed device cookie.
    const laptop = via(portal, '192.0.2.10');
    expect((await laptop.signIn('olivia@example.com')).location).toBe('/');
    expect(laptop.lastSetCookie.find((c) => c.startsWith('flymining.device='))).toMatch(/HttpOnly.*SameSite=Lax|SameSite=Lax.*HttpOnly/);
    await laptop.submit('/', '/logout', {});

    // The attacker guesses from many addresses until the email itself is throttled.
    let refused: Reply | undefined;
    for (let i = 1; i <= 10 && !refused; i++) {
      const guess = await via(portal, `198.51.100.${i}`).signIn('olivia@example.com', `guess number ${i} xx`);
      if (guess.status === 429) refused = guess;
      else expect(guess.status).toBe(401);
    }
    expect(refused?.text).toContain('Too many attempts. Try again in');
    // An attempt during the delay is refused without the password being looked at: the right one too.
    expect((await via(portal, '198.51.100.50').signIn('olivia@example.com')).status).toBe(429);

    // The owner's known device: straight in, while the email is still throttled for everyone else.
    expect((await laptop.signIn('olivia@example.com')).location).toBe('/');
    expect((await laptop.get('/')).status).toBe(200);
    expect((await via(portal, '198.51.100.51').signIn('olivia@example.com', 'another guess xx')).status).toBe(429);

    // A new phone with the right password: refused for at most the documented longest delay, then in.
    const phone = via(portal, '192.0.2.20');
    let reply = await phone.signIn('olivia@example.com');
    let waitedS = 0;
    for (let tries = 0; reply.status === 429 && tries < 4; tries++) {
      expect(retryAfterS(reply)).toBeGreaterThan(0);
      expect(retryAfterS(reply)).toBeLessThanOrEqual(MAX_DELAY_S);
      waitedS += retryAfterS(reply);
      await sleep(retryAfterS(reply) * 1000);
      reply = await phone.signIn('olivia@example.com');
    }
    expect(reply.location).toBe('/');
    expect(waitedS).toBeLessThanOrEqual(MAX_DELAY_S);
    const audit = await db.pool.query("SELECT count(*)::int AS n FROM portal_login_audit WHERE email = 'olivia@example.com' AND outcome = 'rate_limited'");
    expect(audit.rows[0].n).toBeGreaterThanOrEqual(2);
  });

  test('a device cookie for another account, or one the portal did not sign, is no pass; a genuine one is', async () => {
    await withTestPortal('throttle-device', { loginAttempts: 3, loginBaseDelayS: 30, loginMaxDelayS: 60, trustedProxies: ['loopback'] }, db, async (portal) => {
      const peter = via(portal, '192.0.2.30');
      expect((await peter.signIn('peter@example.com')).location).toBe('/');
      await peter.submit('/', '/logout', {});
      const forged = via(portal, '192.0.2.31');
      const payload = Buffer.from(JSON.stringify({ email: 'sam@example.com', deviceId: 'x', issuedAt: Date.now() })).toString('base64url');
      forged.cookies.set('flymining.device', `${payload}.${signature('not the portal secret 0123456789abcdef', 'device', payload)}`);
      // Burn sam's budget from elsewhere; then neither Peter's device nor the forged cookie gets through.
      for (let i = 0; i < 6; i++) await via(portal, `198.51.100.${100 + i}`).signIn('sam@example.com', `guess ${i} for sam`);
      expect((await peter.signIn('sam@example.com')).status).toBe(429);
      expect((await forged.signIn('sam@example.com')).status).toBe(429);
      // The same claim signed with the portal's secret does pass: what stopped the forgery was its signature.
      const genuine = via(portal, '192.0.2.32');
      genuine.cookies.set('flymining.device', `${payload}.${signature(portal.settings.secret, 'device', payload)}`);
      expect((await genuine.signIn('sam@example.com')).location).toBe('/admin');
    });
  });

  test('brute force from one address is slowed: the delays double', async () => {
    // 3, 6 and 12 s: each longer than a sign-in takes on a busy machine, so the next guess always lands inside it.
    const BASE_S = 3;
    await withTestPortal('throttle-address', { loginAttempts: 3, loginBaseDelayS: BASE_S, loginMaxDelayS: 60, trustedProxies: ['loopback'] }, db, async (slowed) => {
      // A different (unknown) email each time: only the address can slow this attacker down.
      const attacker = via(slowed, '203.0.113.9');
      const guess = (n: number) => attacker.signIn(`someone${n}@example.com`, 'a guessed password');
      for (let n = 0; n < 3; n++) expect((await guess(n)).status).toBe(401);
      const delays: number[] = [];
      for (let n = 3; delays.length < 3; n++) {
        const reply = await guess(n);
        expect(reply.status).toBe(429);
        delays.push(retryAfterS(reply));
        await sleep(retryAfterS(reply) * 1000);
        // After waiting: exactly one more guess, then the next, longer delay.
        expect((await guess(100 + n)).status).toBe(401);
      }
      // BASE, 2·BASE and 4·BASE s, less the time the requests took (ceil: a later one can only read less than its full delay).
      expect(delays[0]).toBeGreaterThan(BASE_S / 2);
      expect(delays[0]).toBeLessThanOrEqual(BASE_S);
      expect(delays[1]).toBeGreaterThan(BASE_S);
      expect(delays[1]).toBeLessThanOrEqual(2 * BASE_S);
      expect(delays[2]).toBeGreaterThan(2 * BASE_S);
      expect(delays[2]).toBeLessThanOrEqual(4 * BASE_S);
      // During the delay the right password of a real account is refused as well: no free oracle.
      expect((await attacker.signIn('peter@example.com')).status).toBe(429);

    });
  });

  test('20 guesses at once from one address: only the free ones are checked', async () => {
    await withTestPortal('throttle-burst', { loginAttempts: 3, loginBaseDelayS: 30, loginMaxDelayS: 60, trustedProxies: ['loopback'] }, db, async (slowed) => {
      const burst = via(slowed, '203.0.113.10');
      const page = await burst.get('/login');
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, n) => burst.post('/login', { ...hiddenFieldsIn(page.text), email: `burst${n}@example.com`, password: 'a guessed password' })),
      );
      expect(replies.filter((r) => r.status === 401)).toHaveLength(3);
      expect(replies.filter((r) => r.status === 429)).toHaveLength(17);
    });
  });
});

describe('sessions are created only at sign-in', () => {
  let portal: PortalUnderTest;
  beforeAll(async () => {
    portal = await startTestPortal('stateless-csrf', {}, db);
  });
  afterAll(() => portal?.close());
  const sessionKeys = () => portal.redis.keys(`${portal.settings.keyPrefix}sess:*`);

  test('1,000 cookieless GETs of /login leave the Redis session count unchanged', async () => {
    const before = (await sessionKeys()).length;
    const tokens = new Set<string>();
    for (let batch = 0; batch < 20; batch++) {
      const pages = await Promise.all(Array.from({ length: 50 }, () => fetch(`${portal.url}/login`).then(async (r) => ({ status: r.status, text: await r.text() }))));
      for (const p of pages) {
        expect(p.status).toBe(200);
        tokens.add(csrfTokenIn(p.text));
      }
    }
    // Each visitor still got a form token of its own ...
    expect(tokens.size).toBe(1000);
    // ... and Redis holds nothing for them.
    expect(await sessionKeys()).toHaveLength(before);
    // Signing in is what makes a session.
    await new HttpClient(portal.url).signIn('peter@example.com');
    expect(await sessionKeys()).toHaveLength(before + 1);
  });

  test('a missing, foreign or forged CSRF token on the sign-in POST is refused; the page’s own is accepted', async () => {
    const attacker = new HttpClient(portal.url);
    const attackerToken = csrfTokenIn((await attacker.get('/login')).text);
    const victim = new HttpClient(portal.url);
    const victimToken = csrfTokenIn((await victim.get('/login')).text);
    const nonce = victim.cookies.get('flymining.csrf')!;
    const attempts: Array<[string, HttpClient, Record<string, string>]> = [
      ['no token', victim, {}],
      ['another browser’s token', victim, { _csrf: attackerToken }],
      ['a token signed with another secret', victim, { _csrf: signature('a guessed secret that is long enough', 'csrf', `nonce:${nonce}`) }],
      ['the right token without its cookie', new HttpClient(portal.url), { _csrf: victimToken }],
    ];
    for (const [what, client, token] of attempts) {
      const reply = await client.post('/login', { ...token, email: 'peter@example.com', password: PASSWORD });
      expect([what, reply.status]).toEqual([what, 403]);
    }
    expect((await victim.post('/login', { _csrf: victimToken, email: 'peter@example.com', password: PASSWORD })).location).toBe('/');
  });
});

describe('2FA changes need the current code or the password', () => {
  let portal: PortalUnderTest;
  beforeAll(async () => {
    portal = await startTestPortal('totp-changes', { loginAttempts: 3, loginBaseDelayS: 30, loginMaxDelayS: 60 }, db);
  });
  afterAll(() => portal?.close());
  /** A code of the next 30 s step: the one used at sign-in cannot be used again. */
  const nextCode = (secret: string) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
  const totpRow = async (email: string) =>
    (await db.pool.query('SELECT t.secret, t.confirmed_at IS NOT NULL AS on FROM portal_totp t JOIN portal_users u ON u.id = t.user_id WHERE u.email = $1', [email])).rows[0] as
      | { secret: string; on: boolean }
      | undefined;

  test('a stolen session can neither turn 2FA off nor re-enrol it; the owner with the current code can', async () => {
    const user = await createPortalUser(db.pool, { email: 'tess@example.com', password: PASSWORD, role: 'staff' });
    const { secret } = await beginTotpEnrolment(db.pool, user, { confirmed: true });
    const owner = new HttpClient(portal.url);
    await owner.signIn('tess@example.com');
    expect((await owner.submit('/login/totp', '/login/totp', { code: await generate({ secret }) })).location).toBe('/admin');

    const thief = new HttpClient(portal.url);
    for (const [k, v] of owner.cookies) thief.cookies.set(k, v);
    const noCode = await thief.submit('/account', '/account/totp/disable', {});
    expect(noCode.status).toBe(400);
    expect(noCode.text).toContain('Enter the 6-digit code');
    const wrong = (await nextCode(secret)) === '000000' ? '111111' : '000000';
    expect((await thief.submit('/account', '/account/totp/disable', { code: wrong })).status).toBe(403);
    expect((await thief.submit('/account', '/account/totp', {})).status).toBe(400);
    expect((await thief.submit('/account', '/account/totp', { password: PASSWORD })).status).toBe(400);
    // Guessing the 6 digits through the account page is throttled like sign-in.
    let guessReply: Reply | undefined;
    for (let i = 0; i < 5 && guessReply?.status !== 429; i++) guessReply = await thief.submit('/account', '/account/totp/disable', { code: wrong });
    expect(guessReply?.status).toBe(429);
    expect(await totpRow('tess@example.com')).toEqual({ secret, on: true });
    // Sign-in still asks for the code.
    expect((await new HttpClient(portal.url).signIn('tess@example.com')).location).toBe('/login/totp');

    // The owner (on a fresh account, so the thief's throttle does not interfere) can turn it off with the code.
    const other = await createPortalUser(db.pool, { email: 'uma@example.com', password: PASSWORD, role: 'staff' });
    const { secret: umaSecret } = await beginTotpEnrolment(db.pool, other, { confirmed: true });
    const uma = new HttpClient(portal.url);
    await uma.signIn('uma@example.com');
    await uma.submit('/login/totp', '/login/totp', { code: await generate({ secret: umaSecret }) });
    expect((await uma.submit('/account', '/account/totp/disable', { code: await nextCode(umaSecret) })).location).toBe('/account');
    expect(await totpRow('uma@example.com')).toBeUndefined();
  });

  test('re-enrolment keeps the old factor until a code from the new one is confirmed', async () => {
    const user = await createPortalUser(db.pool, { email: 'vera@example.com', password: PASSWORD, role: 'staff' });
    const { secret } = await beginTotpEnrolment(db.pool, user, { confirmed: true });
    const vera = new HttpClient(portal.url);
    await vera.signIn('vera@example.com');
    await vera.submit('/login/totp', '/login/totp', { code: await generate({ secret }) });
    const setup = await vera.submit('/account', '/account/totp', { code: await nextCode(secret) });
    expect(setup.status).toBe(200);
    const newSecret = /class="totp-secret">([A-Z2-7]+)</.exec(setup.text)?.[1];
    expect(newSecret).toBeTruthy();
    // Abandoned here: the old secret still counts.
    expect(await totpRow('vera@example.com')).toEqual({ secret, on: true });
    const confirmed = await vera.post('/account/totp/confirm', { _csrf: csrfTokenIn(setup.text), code: await generate({ secret: newSecret! }) });
    expect(confirmed.location).toBe('/account');
    expect(await totpRow('vera@example.com')).toEqual({ secret: newSecret, on: true });
  });

  test('without 2FA, setting it up needs the password', async () => {
    await seedInvestor(db, 'wendy');
    const wendy = new HttpClient(portal.url);
    await wendy.signIn('wendy@example.com');
    const thief = new HttpClient(portal.url);
    for (const [k, v] of wendy.cookies) thief.cookies.set(k, v);
    expect((await thief.submit('/account', '/account/totp', {})).status).toBe(400);
    const wrong = await thief.submit('/account', '/account/totp', { password: 'not her password 123' });
    expect(wrong.status).toBe(403);
    expect(wrong.text).toContain('That password is not correct.');
    expect(wrong.text).not.toContain('totp-secret');
    expect((await wendy.submit('/account', '/account/totp', { password: PASSWORD })).text).toContain('totp-secret');
  });
});

describe('client errors answer 4xx', () => {
  let portal: PortalUnderTest;
  let olivia: HttpClient;
  beforeAll(async () => {
    portal = await startTestPortal('client-errors', {}, db);
    olivia = new HttpClient(portal.url);
    await olivia.signIn('olivia@example.com');
  });
  afterAll(() => portal?.close());

  const raw = async (method: string, path: string, body?: string, client?: HttpClient): Promise<{ status: number; text: string }> => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (client) headers.cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(portal.url + path, { method, headers, body, redirect: 'manual' });
    return { status: res.status, text: await res.text() };
  };

  test('an oversized form is 413, before and after sign-in', async () => {
    const big = `email=x&password=${'a'.repeat(64 * 1024)}`;
    for (const client of [undefined, olivia]) {
      const reply = await raw('POST', '/login', big, client);
      expect(reply.status).toBe(413);
      expect(reply.text).toContain('That form is too large');
    }
    const manyFields = Array.from({ length: 200 }, (_, i) => `f${i}=1`).join('&');
    expect((await raw('POST', '/payouts', manyFields, olivia)).status).toBe(413);
  });

  test('bad %-escapes in the path, the query or the form are 4xx', async () => {
    const cases: Array<[string, string, string?]> = [
      ['GET', '/contracts/%E0%A4%A'],
      ['GET', '/contracts/%ZZ'],
      ['GET', '/admin/investors/%C0%80'],
      ['GET', '/statement.csv?from=%ZZ&to=%E0%A4%A'],
      ['POST', '/payouts', 'amountBtc=%ZZ&address=%E0%A4%A&_csrf=%'],
      ['POST', '/login', 'email=%E0%A4%A&password=%ZZ'],
    ];
    for (const [method, path, body] of cases) {
      const reply = await raw(method, path, body, olivia);
      expect([method, path, reply.status >= 400 && reply.status < 500]).toEqual([method, path, true]);
    }
  });

  test('impossible dates in a statement are 400 naming the field', async () => {
    for (const [query, message] of [
      ['from=2026-02-30', 'from: there is no such day'],
      ['from=2026-01-01&to=2026-13-01', 'to: there is no such day'],
      ['to=2025-02-29', 'to: there is no such day'],
    ]) {
      const reply = await olivia.get(`/statement.csv?${query}`);
      expect([query, reply.status]).toEqual([query, 400]);
      expect(reply.text).toContain(message);
    }
    // A real leap day is fine.
    expect((await olivia.get('/statement.csv?from=2026-01-01&to=2028-02-29')).status).toBe(200);
  });
});

describe('trust proxy by the proxy’s address', () => {
  const auditedAddress = async (email: string) =>
    (await db.pool.query('SELECT ip FROM portal_login_audit WHERE email = $1 ORDER BY id DESC LIMIT 1', [email])).rows[0]?.ip as string | undefined;

  test('X-Forwarded-For is believed from a listed proxy only', async () => {
    const listed = await startTestPortal('proxy-listed', { trustedProxies: ['127.0.0.0/8'] }, db);
    const unlisted = await startTestPortal('proxy-unlisted', { trustedProxies: ['10.9.8.7'] }, db);
    try {
      await via(listed, '192.0.2.44').signIn('nobody-listed@example.com', 'wrong password 123');
      expect(await auditedAddress('nobody-listed@example.com')).toBe('192.0.2.44');
      await via(unlisted, '192.0.2.45').signIn('nobody-unlisted@example.com', 'wrong password 123');
      expect(await auditedAddress('nobody-unlisted@example.com')).toBe('127.0.0.1');
    } finally {
      await listed.close();
      await unlisted.close();
    }
  });

  test('the old hop count still works, with a deprecation warning naming the new setting', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const redis = new Redis(testRedisUrl(), { lazyConnect: true });
    try {
      const base = { secret: 'test-secret-that-is-long-enough-0123456789', idleTimeoutS: 60, maxSessionS: 60, secureCookies: 'auto' as const, keyPrefix: 'unused:' };
      const throttle = { loginAttempts: 3, loginWindowS: 60, loginBaseDelayS: 1, loginMaxDelayS: 4 };
      const make = (proxies: Partial<PortalSettings>) =>
        createPortalApp({ pool: db.pool, redis, ledger: engineLedger(db.pool, { network: 'mainnet' }), log, settings: { ...base, ...throttle, trustedProxies: [], trustProxyHops: 0, ...proxies } });
      expect(make({ trustProxyHops: 1 }).get('trust proxy')).toBe(1);
      expect(lines.map((l) => JSON.parse(l).msg)).toEqual([expect.stringMatching(/hop count is deprecated.*--trusted-proxies \(FLYMINING_PORTAL_TRUSTED_PROXIES\)/)]);
      make({ trustedProxies: ['10.0.0.1'] });
      make({});
      expect(lines).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  });

  test('the settings take a list of addresses and ranges, refuse bad entries by name, and refuse mixing with the old hop count', () => {
    const env = { FLYMINING_PORTAL_SESSION_SECRET: 'x'.repeat(40) };
    const parse = (argv: string[], extra: Record<string, string> = {}) => readPortalSettings(['node', 'portal', ...argv], { ...env, ...extra });
    expect(parse([], { FLYMINING_PORTAL_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8,loopback, 172.18.0.3' }).trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8', 'loopback', '172.18.0.3']);
    expect(parse([]).trustedProxies).toEqual([]);
    expect(() => parse(['--trusted-proxies', '10.0.0.0/33'])).toThrow(/trustedProxies: "10\.0\.0\.0\/33" is not an IP address/);
    expect(() => parse(['--trusted-proxies', 'proxy.example'])).toThrow(/trustedProxies: "proxy\.example"/);
    expect(() => parse(['--trusted-proxies', '10.0.0.1', '--trust-proxy', '1'])).toThrow(/trustProxyHops: give either --trusted-proxies/);
    // The deprecated hop count alone still parses (the app logs a deprecation warning when it is used).
    expect(parse(['--trust-proxy', '1']).trustProxyHops).toBe(1);
  });

  test('the session secret comes from a file by preference, and the cookie domain shares the sign-in across host names', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portal-secret-'));
    try {
      const file = path.join(dir, 'portal-session-secret');
      writeFileSync(file, `${'s'.repeat(48)}\n`, { mode: 0o600 });
      const fromFile = readPortalSettings(['node', 'portal', '--cookie-domain', 'farm.example'], { FLYMINING_PORTAL_SESSION_SECRET_FILE: file });
      expect(fromFile.secret).toBe('s'.repeat(48));
      expect(fromFile.cookieDomain).toBe('farm.example');
      expect(fromFile.keyPrefix).toBe('flymining:portal:');
      expect(() => readPortalSettings(['node', 'portal'], { FLYMINING_PORTAL_SESSION_SECRET_FILE: path.join(dir, 'missing') })).toThrow(
        /FLYMINING_PORTAL_SESSION_SECRET_FILE: cannot read .*missing \(ENOENT\)/,
      );
      expect(() => readPortalSettings(['node', 'portal', '--cookie-domain', 'farm example'], { FLYMINING_PORTAL_SESSION_SECRET_FILE: file })).toThrow(/cookieDomain: cookie-domain is a host name/);
      expect(() => readPortalSettings(['node', 'portal'], {})).toThrow(/FLYMINING_PORTAL_SESSION_SECRET_FILE \(or FLYMINING_PORTAL_SESSION_SECRET\) is required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
