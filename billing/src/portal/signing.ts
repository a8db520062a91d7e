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
