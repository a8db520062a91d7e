/**
 * The known-device cookie: set at each successful sign-in, signed with the session secret, naming the account and a
 * random device id. A correct password from a browser holding it is never held up by the per-email or per-address
 * delays an attacker may have run up; that browser's failures are throttled on its own device id instead. The
 * cookie grants nothing by itself: the password (and TOTP code) are still checked.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { normalizeEmail } from './users';
import { cookieValue, signature, signatureMatches } from './signing';

export const DEVICE_COOKIE = 'flymining.device';
/** How long a browser stays a known device after its last successful sign-in. */
export const DEVICE_LIFETIME_DAYS = 180;
const PURPOSE = 'device';

interface DeviceClaim {
  email: string;
  deviceId: string;
  issuedAt: number;
}

/** The device id of this browser if it holds a valid, unexpired device cookie for this email. */
export function knownDeviceFor(req: Request, secret: string, email: string): string | undefined {
  const raw = cookieValue(req, DEVICE_COOKIE);
  const dot = raw?.lastIndexOf('.') ?? -1;
  if (!raw || dot < 0) return undefined;
  const payload = raw.slice(0, dot);
  if (!signatureMatches(secret, PURPOSE, payload, raw.slice(dot + 1))) return undefined;
  let claim: DeviceClaim;
  try {
    claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DeviceClaim;
  } catch {
    return undefined;
  }
  const fresh = typeof claim.issuedAt === 'number' && Date.now() - claim.issuedAt < DEVICE_LIFETIME_DAYS * 86_400_000;
  return fresh && claim.email === normalizeEmail(email) && typeof claim.deviceId === 'string' ? claim.deviceId : undefined;
}

/** Marks this browser as a known device of the account (keeping its device id if it already had one). */
export function rememberDevice(req: Request, res: Response, secret: string, email: string, secure: boolean, deviceId?: string): void {
  const claim: DeviceClaim = { email: normalizeEmail(email), deviceId: deviceId ?? randomBytes(16).toString('base64url'), issuedAt: Date.now() };
  const payload = Buffer.from(JSON.stringify(claim)).toString('base64url');
  res.cookie(DEVICE_COOKIE, `${payload}.${signature(secret, PURPOSE, payload)}`, {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/login',
    maxAge: DEVICE_LIFETIME_DAYS * 86_400_000,
  });
}
