/**
 * A protected express app in front of a real portal (billing's test harness: real PostgreSQL, real Redis), with the
 * authenticator's log kept in memory so tests can check what an operator would read, and what never shows there.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import type { PortalSettings } from '../../../billing/src/portal/app';
import { startTestPortal, type PortalUnderTest } from '../../../billing/test/portal/harness';
import { Authenticator, PortalSessionVerifier, principalOf, describePrincipal, requireStaff, tokenLinkSignIn, TokenStore, type AuthScope } from '../../src/auth';

export interface ProtectedApp {
  portal: PortalUnderTest;
  tokens: TokenStore;
  url: string;
  /** Everything the authenticator logged, as text. */
  logText(): string;
  close(): Promise<void>;
}

export const TOKEN_COOKIE = 'flymining.test_token';

/** Routes: GET /read/<scope> and POST /write answer `who: <principal>`; /healthz is open. */
export async function startProtectedApp(name: string, portalOverrides: Partial<PortalSettings> = {}, allowedOrigins: string[] = []): Promise<ProtectedApp> {
  const portal = await startTestPortal(name, portalOverrides);
  const tokens = new TokenStore(portal.redis, `${portal.settings.keyPrefix}tokens`);
  let logged = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  const authenticator = new Authenticator({
    tokens,
    sessions: new PortalSessionVerifier(portal.redis, portal.db.pool, {
      secret: portal.settings.secret,
      maxSessionS: portal.settings.maxSessionS,
      keyPrefix: portal.settings.keyPrefix,
    }),
    log: pino({ level: 'debug' }, sink),
    loginUrl: `${portal.url}/login`,
    allowedOrigins,
    tokenCookie: TOKEN_COOKIE,
  });
  const app = express();
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  app.use(express.json());
  app.use(tokenLinkSignIn({ scope: 'tvwall:read', authenticator }));
  const who = (_req: express.Request, res: express.Response) => res.type('text').send(`who: ${describePrincipal(principalOf(res)!)}`);
  for (const scope of ['tvwall:read', 'alerting:read', 'alerting:write'] as AuthScope[]) {
    app.get(`/read/${scope}`, requireStaff({ scope, authenticator }), who);
  }
  app.get('/', requireStaff({ scope: 'tvwall:read', authenticator }), who);
  app.post('/write', requireStaff({ scope: 'alerting:write', authenticator }), who);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    portal,
    tokens,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    logText: () => logged,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await portal.close();
    },
  };
}

/** The Cookie header a browser would send after signing in to the portal (cookies are not port-bound). */
export function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

export async function call(
  url: string,
  options: { method?: string; cookie?: string; bearer?: string; authorization?: string; accept?: string; contentType?: string; origin?: string; body?: string } = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  if (options.authorization) headers.authorization = options.authorization;
  if (options.accept) headers.accept = options.accept;
  if (options.contentType) headers['content-type'] = options.contentType;
  if (options.origin) headers.origin = options.origin;
  const res = await fetch(url, { method: options.method ?? 'GET', headers, body: options.body, redirect: 'manual' });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
