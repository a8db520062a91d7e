/**
 * `requireStaff({ scope, authenticator })`: express middleware letting through staff signed in to the portal
 * (any scope) and clients holding a bearer token with the scope; everyone else gets 401 (not authenticated) or
 * 403 (authenticated, not allowed). State-changing requests also need a JSON body and, when the browser sends an
 * Origin, this service's own origin or an allowed one, so a cross-site form or fetch cannot act with a staff
 * member's cookie. Tokens and cookies are never logged; refusals are logged with their reason.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import Redis from 'ioredis';
import { Pool } from 'pg';
import type { Logger } from '../log';
import { openRedis } from '../redis-address';
import { escapeHtml } from '../text/html';
import { cookieValue, PortalSessionVerifier } from './portal-session';
import type { AuthSettings } from './settings';
import { scopeGrants, TokenStore, type AuthScope } from './tokens';

/** Who a request was let through for; alerting records it on acknowledgements and silences. */
export type Principal = { kind: 'staff'; userId: number; email: string } | { kind: 'token'; name: string; scopes: AuthScope[] };

export type AuthDecision = { ok: true; principal: Principal } | { ok: false; status: 401 | 403; reason: string };

export interface AuthenticatorOptions {
  tokens: TokenStore;
  /** Without it, only tokens are accepted. */
  sessions?: PortalSessionVerifier;
  log: Logger;
  /** The portal's sign-in page, linked from the 401 page browsers get. */
  loginUrl?: string;
  /** Origins besides the request's own allowed to send state-changing requests. */
  allowedOrigins?: readonly string[];
  /** A cookie that may carry a token (the TV wall's screens; see tokenLinkSignIn). */
  tokenCookie?: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class Authenticator {
  constructor(readonly options: AuthenticatorOptions) {}

  /** Decides on a request: the bearer header first (a wrong one is not overridden by a cookie), then cookies. */
  async decide(req: Request, scope: AuthScope): Promise<AuthDecision> {
    const header = req.get('authorization');
    if (header !== undefined) {
      const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
      if (!bearer?.[1]) return { ok: false, status: 401, reason: 'Authorization header is not "Bearer <token>"' };
      return this.decideToken(bearer[1], scope);
    }
    const fromCookie = this.options.tokenCookie ? cookieValue(req.get('cookie'), this.options.tokenCookie) : undefined;
    if (fromCookie !== undefined) {
      const decision = await this.decideToken(fromCookie, scope);
      if (decision.ok) return decision;
    }
    if (!this.options.sessions) return { ok: false, status: 401, reason: 'a bearer token is required' };
    const session = await this.options.sessions.check(req.get('cookie'));
    if (!session.ok) return { ok: false, status: 401, reason: session.reason === 'no-cookie' ? 'sign in to the portal or send a bearer token' : `portal session refused (${session.reason})` };
    if (session.account.role !== 'staff') return { ok: false, status: 403, reason: 'staff only' };
    return { ok: true, principal: { kind: 'staff', userId: session.account.userId, email: session.account.email } };
  }

  async decideToken(token: string, scope: AuthScope): Promise<AuthDecision> {
    const check = await this.options.tokens.verify(token);
    if (!check.ok) return { ok: false, status: 401, reason: check.reason === 'expired' ? 'token expired' : 'unknown or revoked token' };
    if (!scopeGrants(check.token.scopes, scope)) return { ok: false, status: 403, reason: `token ${check.token.name} lacks scope ${scope}` };
    return { ok: true, principal: { kind: 'token', name: check.token.name, scopes: check.token.scopes } };
  }

  /** Why a state-changing request may not go ahead whoever sends it (CSRF), or undefined. */
  crossSiteRefusal(req: Request): { status: 403 | 415; reason: string } | undefined {
    if (SAFE_METHODS.has(req.method)) return undefined;
    // A cross-site <form> can only send simple content types; JSON needs a CORS preflight we never grant.
    if (!req.is('application/json')) return { status: 415, reason: 'state-changing requests need Content-Type: application/json' };
    const origin = req.get('origin');
    if (origin === undefined) return undefined;
    const own = `${req.protocol}://${req.get('host') ?? ''}`;
    if (origin === own || (this.options.allowedOrigins ?? []).includes(origin)) return undefined;
    return { status: 403, reason: `requests from origin ${origin} are not allowed` };
  }
}

export function describePrincipal(principal: Principal): string {
  return principal.kind === 'staff' ? principal.email : `token:${principal.name}`;
}

/** The principal requireStaff let this request through for. */
export function principalOf(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

export interface RequireStaffOptions {
  scope: AuthScope;
  authenticator: Authenticator;
}

export function requireStaff({ scope, authenticator }: RequireStaffOptions): RequestHandler {
  const { log } = authenticator.options;
  return (req: Request, res: Response, next: NextFunction) => {
    const refuse = (status: 401 | 403 | 415, reason: string): void => {
      log.warn({ method: req.method, path: req.path, ip: req.ip, status, reason }, 'request refused');
      refusal(req, res, status, reason, authenticator.options.loginUrl);
    };
    const crossSite = authenticator.crossSiteRefusal(req);
    if (crossSite) return refuse(crossSite.status, crossSite.reason);
    authenticator.decide(req, scope).then(
      (decision) => {
        if (!decision.ok) return refuse(decision.status, decision.reason);
        res.locals.principal = decision.principal;
        next();
      },
      (err: unknown) => next(err),
    );
  };
}

/** JSON for programs; for a browser asking for a page, a page that says where to sign in. */
function refusal(req: Request, res: Response, status: 401 | 403 | 415, reason: string, loginUrl: string | undefined): void {
  res.set('cache-control', 'no-store');
  if (status === 401) res.set('www-authenticate', 'Bearer realm="flymining"');
  if (req.method === 'GET' && req.accepts(['json', 'html']) === 'html') {
    const title = status === 401 ? 'Sign-in required' : 'Not allowed';
    const how =
      status === 401 && loginUrl
        ? `<p><a href="${escapeHtml(loginUrl)}">Sign in to the FlyMining portal</a> with a staff account, then come back to this page.</p>`
        : '';
    res
      .status(status)
      .type('html')
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${escapeHtml(reason)}.</p>${how}</body></html>`);
    return;
  }
  res.status(status).json({ error: status === 401 ? 'authentication required' : status === 403 ? 'forbidden' : 'unsupported media type', reason, ...(status === 401 && loginUrl ? { login: loginUrl } : {}) });
}

/** Longest a browser keeps a cookie (Chrome caps Max-Age at 400 days). */
const MAX_COOKIE_AGE_S = 400 * 86_400;

/**
 * For screens that cannot sign in: opening `/?token=...` once checks the token, stores it in an HttpOnly
 * SameSite=Strict cookie (`authenticator.options.tokenCookie`) and redirects to the same URL without it, so the
 * token leaves the address bar and the history. Mount it before requireStaff.
 */
export function tokenLinkSignIn({ scope, authenticator }: RequireStaffOptions): RequestHandler {
  const cookieName = authenticator.options.tokenCookie;
  if (!cookieName) throw new Error('tokenLinkSignIn needs the authenticator to have a tokenCookie');
  return (req: Request, res: Response, next: NextFunction) => {
    const url = new URL(req.originalUrl, 'http://placeholder');
    const token = url.searchParams.get('token');
    if (req.method !== 'GET' || token === null) return next();
    url.searchParams.delete('token');
    authenticator.decideToken(token, scope).then(
      (decision) => {
        if (!decision.ok) {
          authenticator.options.log.warn({ path: req.path, ip: req.ip, status: decision.status, reason: decision.reason }, 'token link refused');
          return refusal(req, res, decision.status, decision.reason, authenticator.options.loginUrl);
        }
        res.cookie(cookieName, token, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: MAX_COOKIE_AGE_S * 1000 });
        res.set('cache-control', 'no-store').redirect(303, url.pathname + url.search);
      },
      (err: unknown) => next(err),
    );
  };
}

/** An Authenticator with its own Redis and PostgreSQL connections, from readAuthSettings(); close() ends them. */
export function openAuthenticator(
  settings: AuthSettings,
  log: Logger,
  extra: Pick<AuthenticatorOptions, 'tokenCookie'> = {},
): { authenticator: Authenticator; close(): Promise<void> } {
  const redis = openRedis(settings.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'auth: Redis connection problem'));
  const pool = settings.portal ? new Pool({ connectionString: settings.portal.pgUrl, max: 4 }) : undefined;
  pool?.on('error', (err: Error) => log.warn({ err: err.message }, 'auth: PostgreSQL connection problem'));
  const sessions = settings.portal && pool ? new PortalSessionVerifier(redis, pool, settings.portal) : undefined;
  if (!sessions) log.warn('auth: no portal session secret (FLYMINING_PORTAL_SESSION_SECRET[_FILE]): only bearer tokens are accepted');
  const authenticator = new Authenticator({
    tokens: new TokenStore(redis),
    sessions,
    log,
    loginUrl: settings.loginUrl,
    allowedOrigins: settings.allowedOrigins,
    ...extra,
  });
  return {
    authenticator,
    async close() {
      redis.disconnect();
      await pool?.end();
    },
  };
}
