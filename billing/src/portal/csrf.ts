/**
 * CSRF protection without server state before sign-in.
 *
 * Signed in (or half-way, waiting for the TOTP code), the token is an HMAC of the session id: forms of one session
 * are useless in another. Before sign-in there is no session, and none is made (a session per cookieless GET of
 * /login would fill Redis): the browser gets a random nonce in an HttpOnly cookie and the form carries the HMAC of
 * that nonce (a signed double-submit cookie). A cross-site page can neither read the cookie nor compute the HMAC.
 * SameSite=Lax cookies already stop most cross-site posts; the token also covers old browsers.
 */
import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { cookieValue, signature, signatureMatches } from './signing';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Holds the pre-sign-in nonce; not a session (nothing is stored for it). */
export const CSRF_NONCE_COOKIE = 'flymining.csrf';
const NONCE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const PURPOSE = 'csrf';

export interface CsrfSettings {
  secret: string;
  secureCookies: 'auto' | 'always' | 'never';
}

interface CsrfState {
  token(): string;
}

function hasSession(req: Request): boolean {
  return req.session.userId !== undefined || req.session.pendingTotpUserId !== undefined;
}

function nonceFromCookie(req: Request): string | undefined {
  const value = cookieValue(req, CSRF_NONCE_COOKIE);
  return value && NONCE_SHAPE.test(value) ? value : undefined;
}

/** What the token is bound to: the session if there is one, else the browser's nonce cookie (if any). */
function bindingOf(req: Request, nonce: string | undefined): string | undefined {
  if (hasSession(req)) return `session:${req.sessionID}`;
  return nonce && `nonce:${nonce}`;
}

/** The token to put in this response's forms (sets the nonce cookie when the browser has none yet). */
export function csrfToken(req: Request): string {
  const state = req.res?.locals.csrf as CsrfState | undefined;
  if (!state) throw new Error('csrfProtection() must run before csrfToken()');
  return state.token();
}

/** Gives every request its token, and refuses state-changing requests whose token does not match. */
export function csrfProtection(settings: CsrfSettings, onRejected: (req: Request, res: Response) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    let nonce = nonceFromCookie(req);
    const state: CsrfState = {
      token() {
        if (!hasSession(req) && !nonce) {
          nonce = randomBytes(32).toString('base64url');
          res.cookie(CSRF_NONCE_COOKIE, nonce, {
            httpOnly: true,
            sameSite: 'lax',
            secure: settings.secureCookies === 'auto' ? req.secure : settings.secureCookies === 'always',
            path: '/',
          });
        }
        return signature(settings.secret, PURPOSE, bindingOf(req, nonce)!);
      },
    };
    res.locals.csrf = state;
    if (SAFE_METHODS.has(req.method)) return next();
    const body: unknown = req.body;
    const given = body && typeof body === 'object' && '_csrf' in body ? body._csrf : req.get('x-csrf-token');
    // Without a session or a nonce cookie there is nothing the token could match: refused.
    const binding = bindingOf(req, nonce);
    if (binding && signatureMatches(settings.secret, PURPOSE, binding, given)) return next();
    onRejected(req, res);
  };
}
