/**
 * CSRF protection by synchronizer token: each session holds a random token, every form posts it back in `_csrf`,
 * and any state-changing request without the matching token is refused before it reaches a route.
 * SameSite=Lax cookies already stop most cross-site posts; the token also covers same-site attackers and old browsers.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function csrfToken(req: Request): string {
  const s = req.session;
  s.csrfToken ??= randomBytes(32).toString('base64url');
  return s.csrfToken;
}

function tokensMatch(expected: string | undefined, given: unknown): boolean {
  if (typeof expected !== 'string' || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function requireCsrfToken(onRejected: (req: Request, res: Response) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method)) return next();
    const body: unknown = req.body;
    const given = body && typeof body === 'object' && '_csrf' in body ? body._csrf : req.get('x-csrf-token');
    if (tokensMatch(req.session.csrfToken, given)) return next();
    onRejected(req, res);
  };
}
