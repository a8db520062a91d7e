/**
 * HMAC-SHA256 with the portal's session secret, for the values the portal hands to browsers without keeping them
 * (the pre-sign-in CSRF token, the device cookie). Each use names its purpose, so a value signed for one can never
 * pass as another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

export function signature(secret: string, purpose: string, value: string): string {
  return createHmac('sha256', secret).update(`${purpose}\0${value}`).digest('base64url');
}

/** Constant-time comparison of two strings (false for anything that is not a string). */
export function sameString(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function signatureMatches(secret: string, purpose: string, value: string, given: unknown): boolean {
  return sameString(signature(secret, purpose, value), given);
}

/** One cookie's raw value from the request's Cookie header. */
export function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** What a signed link carries besides its signature: its own fields (short names), and when it stops working. */
export interface LinkClaims {
  fields: Record<string, string>;
  /** Unix seconds; null for a link that does not expire (an unsubscribe link). */
  expiresAtS: number | null;
}

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'incomplete' | 'forged' | 'expired' };

/** The signed text: purpose, then each field as name=value in name order, then the expiry ('-' for none). */
function linkText(claims: LinkClaims): string {
  const fields = Object.keys(claims.fields)
    .sort()
    .map((name) => `${name}=${claims.fields[name]}`);
  return [...fields, `e=${claims.expiresAtS ?? '-'}`].join('\n');
}

/**
 * Query parameters of a link the portal accepts without a session: the fields, `e` (expiry) and `s`, an HMAC of
 * them all for this purpose. Changing any field, the expiry or the purpose makes the signature wrong.
 */
export function signLink(secret: string, purpose: string, claims: LinkClaims): URLSearchParams {
  if ('e' in claims.fields || 's' in claims.fields) throw new Error('signed link fields must not be named e or s');
  const params = new URLSearchParams(claims.fields);
  params.set('e', claims.expiresAtS === null ? '-' : String(claims.expiresAtS));
  params.set('s', signature(secret, `link:${purpose}`, linkText(claims)));
  return params;
}

/** Checks a signed link's parameters: every named field present, the signature this portal's, not expired at `nowMs`. */
export function verifyLink(secret: string, purpose: string, query: Record<string, unknown>, fieldNames: readonly string[], nowMs = Date.now()): LinkCheck {
  const fields: Record<string, string> = {};
  for (const name of fieldNames) {
    const value = query[name];
    if (typeof value !== 'string' || value === '' || value.length > 200) return { ok: false, reason: 'incomplete' };
    fields[name] = value;
  }
  const { e, s } = query;
  if (typeof e !== 'string' || !/^(-|\d{1,12})$/.test(e) || typeof s !== 'string') return { ok: false, reason: 'incomplete' };
  const claims: LinkClaims = { fields, expiresAtS: e === '-' ? null : Number(e) };
  if (!signatureMatches(secret, `link:${purpose}`, linkText(claims), s)) return { ok: false, reason: 'forged' };
  if (claims.expiresAtS !== null && nowMs >= claims.expiresAtS * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
