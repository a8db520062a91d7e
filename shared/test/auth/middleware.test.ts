/**
 * requireStaff against a real portal: staff sign in there once and are let in here with the same cookie; investors,
 * forged, expired, signed-out, disabled and password-reset sessions are not; tokens by scope; state changes need JSON from our origin.
 */
import { createHmac } from 'node:crypto';
import { createPortalUser, setUserDisabled } from '../../../billing/src/portal/users';
import { HttpClient, PASSWORD, seedInvestor } from '../../../billing/test/portal/harness';
import { waitFor } from '../influx/helpers';
import { call, cookieHeader, startProtectedApp, TOKEN_COOKIE, type ProtectedApp } from './harness';

let app: ProtectedApp;
const ALLOWED = 'https://ops.farm.example';

beforeAll(async () => {
  app = await startProtectedApp('auth', {}, [ALLOWED]);
  await createPortalUser(app.portal.db.pool, { email: 'ops@example.com', password: PASSWORD, role: 'staff' });
  await createPortalUser(app.portal.db.pool, { email: 'gone@example.com', password: PASSWORD, role: 'staff' });
  await seedInvestor(app.portal.db, 'ivan');
});

afterAll(async () => {
  await app?.close();
});

async function signedIn(email: string): Promise<string> {
  const browser = new HttpClient(app.portal.url);
  const reply = await browser.signIn(email);
  expect(reply.status).toBe(303);
  return cookieHeader(browser.cookies);
}

describe('portal sessions', () => {
  test('staff signed in to the portal are let in with the same cookie; investors get 403; nobody gets 401', async () => {
    const staff = await signedIn('ops@example.com');
    const ok = await call(`${app.url}/read/alerting:read`, { cookie: staff });
    expect(ok).toMatchObject({ status: 200, text: 'who: ops@example.com' });
    // A staff session holds every scope, the writing one included.
    expect((await call(`${app.url}/write`, { method: 'POST', cookie: staff, contentType: 'application/json', body: '{}' })).status).toBe(200);

    const investor = await signedIn('ivan@example.com');
    const refused = await call(`${app.url}/read/tvwall:read`, { cookie: investor });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toMatchObject({ error: 'forbidden', reason: 'staff only' });

    const nobody = await call(`${app.url}/read/tvwall:read`);
    expect(nobody.status).toBe(401);
    expect(nobody.headers.get('www-authenticate')).toContain('Bearer');
    expect(JSON.parse(nobody.text)).toMatchObject({ error: 'authentication required', login: `${app.portal.url}/login` });
  });

  test('a browser without a session gets a page linking to the portal sign-in; /healthz stays open', async () => {
    const page = await call(`${app.url}/`, { accept: 'text/html,application/xhtml+xml' });
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain(`<a href="${app.portal.url}/login">`);
    expect((await call(`${app.url}/healthz`)).status).toBe(200);
  });

  test('forged cookies are refused: altered id, altered signature, signed with another secret', async () => {
    const staff = await signedIn('ops@example.com');
    const value = decodeURIComponent(/flymining\.sid=([^;]+)/.exec(staff)![1]!);
    const [id, signature] = [value.slice(2, value.lastIndexOf('.')), value.slice(value.lastIndexOf('.') + 1)];
    const otherId = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
    const forgedSignature = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
    const otherSecret = createHmac('sha256', 'some-other-secret-of-32-characters!!').update(id).digest('base64').replace(/=+$/, '');
    for (const forged of [`s:${otherId}.${signature}`, `s:${id}.${forgedSignature}`, `s:${id}.${otherSecret}`, id]) {
      const reply = await call(`${app.url}/read/tvwall:read`, { cookie: `flymining.sid=${encodeURIComponent(forged)}` });
      expect(reply.status).toBe(401);
    }
    // The genuine cookie still works: the refusals above were about the forgery, not the session.
    expect((await call(`${app.url}/read/tvwall:read`, { cookie: staff })).status).toBe(200);
  });

  test('signing out of the portal and disabling the account end access here at once, as in the portal', async () => {
    const browser = new HttpClient(app.portal.url);
    await browser.signIn('ops@example.com');
    expect((await call(`${app.url}/read/tvwall:read`, { cookie: cookieHeader(browser.cookies) })).status).toBe(200);
    const cookie = cookieHeader(browser.cookies);
    await browser.submit('/admin', '/logout', {});
    expect((await call(`${app.url}/read/tvwall:read`, { cookie })).status).toBe(401);

    const goneBrowser = new HttpClient(app.portal.url);
    await goneBrowser.signIn('gone@example.com');
    const gone = cookieHeader(goneBrowser.cookies);
    expect((await call(`${app.url}/read/tvwall:read`, { cookie: gone })).status).toBe(200);
    await setUserDisabled(app.portal.db.pool, 'gone@example.com', true);
    expect((await call(`${app.url}/read/tvwall:read`, { cookie: gone })).status).toBe(401);
    // The portal refuses the same session.
    expect((await goneBrowser.get('/admin')).location).toBe('/login');
  });

  test("a password reset (the account's session epoch goes up) ends its sessions here too, not other accounts'", async () => {
    await createPortalUser(app.portal.db.pool, { email: 'reset@example.com', password: PASSWORD, role: 'staff' });
    const before = await signedIn('reset@example.com');
    const other = await signedIn('ops@example.com');
    expect((await call(`${app.url}/read/tvwall:read`, { cookie: before })).status).toBe(200);
    // What billing/src/portal/password-reset.ts does with the new password.
    await app.portal.db.pool.query("UPDATE portal_users SET session_epoch = session_epoch + 1 WHERE email = 'reset@example.com'");
    expect((await call(`${app.url}/read/tvwall:read`, { cookie: before })).status).toBe(401);
    expect(app.logText()).toContain('password-reset');
    expect((await call(`${app.url}/read/tvwall:read`, { cookie: other })).status).toBe(200);
    // Signed in again after the reset: let in.
    expect((await call(`${app.url}/read/tvwall:read`, { cookie: await signedIn('reset@example.com') })).status).toBe(200);
  });
});

describe('session timeouts', () => {
  let short: ProtectedApp;
  beforeAll(async () => {
    // Idle 6 s (the Redis key's TTL), absolute 12 s since sign-in: far apart, so a slow poll under load cannot pass for either.
    short = await startProtectedApp('auth-timeouts', { idleTimeoutS: 6, maxSessionS: 12 });
    await createPortalUser(short.portal.db.pool, { email: 'ops@example.com', password: PASSWORD, role: 'staff' });
  });
  afterAll(async () => {
    await short?.close();
  });

  const status = async (cookie: string) => (await call(`${short.url}/read/tvwall:read`, { cookie })).status;

  test('an idle session is refused once the portal would refuse it', async () => {
    const browser = new HttpClient(short.portal.url);
    await browser.signIn('ops@example.com');
    const cookie = cookieHeader(browser.cookies);
    const signedInAt = Date.now();
    expect(await status(cookie)).toBe(200);
    await waitFor('the idle session to be refused', async () => (await status(cookie)) === 401, 15_000);
    expect(Date.now() - signedInAt).toBeGreaterThanOrEqual(5_500);
    expect((await browser.get('/admin')).status).toBe(303);
  });

  test('a session in use is refused after the absolute lifetime, while the portal still holds it', async () => {
    const browser = new HttpClient(short.portal.url);
    await browser.signIn('ops@example.com');
    const cookie = cookieHeader(browser.cookies);
    const signedInAt = Date.now();
    // Kept active in the portal for 9 s (each visit pushes the 6 s idle deadline back), then left alone: the session
    // stays in Redis until about 15 s, so a refusal between 12 s and then is this check's own, not the idle timeout's.
    await waitFor(
      'the session to reach its absolute lifetime',
      async () => {
        if (Date.now() - signedInAt < 9_000) await browser.get('/admin');
        return (await status(cookie)) === 401;
      },
      20_000,
    );
    expect(Date.now() - signedInAt).toBeGreaterThanOrEqual(11_500);
    expect(await short.portal.redis.keys(`${short.portal.settings.keyPrefix}sess:*`)).not.toEqual([]);
    expect((await browser.get('/admin')).location).toMatch(/\/login/);
  });
});

describe('bearer tokens', () => {
  test('a token works for its scopes only; write includes read; revoked and expired tokens are refused', async () => {
    const { token } = await app.tokens.add('wall-1', ['tvwall:read']);
    expect(await call(`${app.url}/read/tvwall:read`, { bearer: token })).toMatchObject({ status: 200, text: 'who: token:wall-1' });
    const wrongScope = await call(`${app.url}/read/alerting:read`, { bearer: token });
    expect(wrongScope.status).toBe(403);
    expect(JSON.parse(wrongScope.text).reason).toBe('token wall-1 lacks scope alerting:read');

    const { token: writer } = await app.tokens.add('pager-bot', ['alerting:write']);
    expect((await call(`${app.url}/read/alerting:read`, { bearer: writer })).status).toBe(200);
    expect((await call(`${app.url}/write`, { method: 'POST', bearer: writer, contentType: 'application/json', body: '{}' })).status).toBe(200);
    expect((await call(`${app.url}/read/tvwall:read`, { bearer: writer })).status).toBe(403);

    expect(await app.tokens.revoke('wall-1')).toBe(true);
    expect((await call(`${app.url}/read/tvwall:read`, { bearer: token })).status).toBe(401);

    const { token: shortLived } = await app.tokens.add('brief', ['tvwall:read'], { lifetimeMs: 1_000 });
    expect((await call(`${app.url}/read/tvwall:read`, { bearer: shortLived })).status).toBe(200);
    await waitFor('the token to expire', async () => (await call(`${app.url}/read/tvwall:read`, { bearer: shortLived })).status === 401, 10_000);

    for (const authorization of [`Bearer ${token}x`, 'Bearer fmt_made-up', `Basic ${Buffer.from('a:b').toString('base64')}`, 'Bearer']) {
      expect((await call(`${app.url}/read/tvwall:read`, { authorization })).status).toBe(401);
    }
  });

  test('a wrong bearer header is not rescued by a staff cookie sent alongside', async () => {
    const staff = await signedIn('ops@example.com');
    expect((await call(`${app.url}/read/tvwall:read`, { cookie: staff, authorization: 'Bearer fmt_wrong' })).status).toBe(401);
  });

  test('a screen opening /?token= once gets an HttpOnly SameSite=Strict cookie and a URL without the token', async () => {
    const { token } = await app.tokens.add('wall-lobby', ['tvwall:read']);
    const first = await call(`${app.url}/?token=${encodeURIComponent(token)}&zoom=2`);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/?zoom=2');
    const setCookie = first.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(new RegExp(`^${TOKEN_COOKIE.replace('.', '\\.')}=`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const cookie = setCookie.split(';')[0]!;
    expect(await call(`${app.url}/?zoom=2`, { cookie })).toMatchObject({ status: 200, text: 'who: token:wall-lobby' });

    expect((await call(`${app.url}/?token=fmt_not-a-token`)).status).toBe(401);
    await app.tokens.revoke('wall-lobby');
    expect((await call(`${app.url}/`, { cookie })).status).toBe(401);
  });
});

describe('state-changing requests', () => {
  test('need JSON, and an Origin (when sent) that is ours or allowed', async () => {
    const staff = await signedIn('ops@example.com');
    const post = (contentType: string, origin?: string) => call(`${app.url}/write`, { method: 'POST', cookie: staff, contentType, origin, body: contentType.includes('json') ? '{}' : 'a=1' });
    // What a cross-site <form> can send.
    for (const simple of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      expect((await post(simple)).status).toBe(415);
    }
    expect((await post('application/json', 'https://evil.example')).status).toBe(403);
    expect((await post('application/json', 'null')).status).toBe(403);
    expect((await post('application/json', app.url)).status).toBe(200);
    expect((await post('application/json', ALLOWED)).status).toBe(200);
    expect((await post('application/json')).status).toBe(200);
  });
});

test('no token or cookie value ever appears in the log, while refusals are logged with their reason', async () => {
  const staff = await signedIn('ops@example.com');
  const { token } = await app.tokens.add('log-check', ['alerting:read']);
  await call(`${app.url}/read/tvwall:read`, { bearer: token }); // 403, logged
  await call(`${app.url}/read/alerting:read`, { bearer: `${token}0` }); // 401, logged
  await call(`${app.url}/?token=${encodeURIComponent(token)}`); // wrong scope for the link, logged
  await call(`${app.url}/write`, { method: 'POST', cookie: staff, contentType: 'application/json', origin: 'https://evil.example', body: '{}' });
  await call(`${app.url}/read/tvwall:read`, { cookie: `${staff}x` });
  const log = app.logText();
  expect(log).toContain('token log-check lacks scope tvwall:read');
  expect(log).toContain('requests from origin https://evil.example are not allowed');
  const sessionCookie = decodeURIComponent(/flymining\.sid=([^;]+)/.exec(staff)![1]!);
  for (const secret of [token, token.slice(4, 20), sessionCookie, sessionCookie.slice(2, 20)]) {
    expect(log).not.toContain(secret);
  }
});

test('behind a proxy with several host names, the portal cookie carries the configured Domain and is accepted here', async () => {
  const proxied = await startProtectedApp('auth-domain', { cookieDomain: 'farm.example' });
  try {
    await createPortalUser(proxied.portal.db.pool, { email: 'ops@example.com', password: PASSWORD, role: 'staff' });
    const browser = new HttpClient(proxied.portal.url);
    await browser.signIn('ops@example.com');
    const sessionCookie = browser.lastSetCookie.find((line) => line.startsWith('flymining.sid='));
    expect(sessionCookie).toMatch(/; Domain=farm\.example;/);
    expect((await call(`${proxied.url}/read/alerting:read`, { cookie: cookieHeader(browser.cookies) })).status).toBe(200);
  } finally {
    await proxied.close();
  }
});
