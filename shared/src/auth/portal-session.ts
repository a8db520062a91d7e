/**
 * Reads the investor portal's session (express-session in Redis, signed cookie) from another center service, so
 * staff who signed in to the portal once are known there too. It accepts exactly what the portal would: a cookie
 * signed with the portal's secret, a session still in Redis (the idle timeout is its key's TTL), not past the absolute lifetime since sign-in, of an account that still exists, is enabled and is staff,
 * signed in since the account's last password reset (session_epoch) (the portal checks the account on every request; a disabled account's sessions end there at once).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { z } from 'zod';

/** The portal's session cookie (billing/src/portal/session.ts sets it under this name). */
export const PORTAL_SESSION_COOKIE = 'flymining.sid';
/** The portal's Redis key prefix; its sessions are under `${prefix}sess:`. */
export const PORTAL_KEY_PREFIX = 'flymining:portal:';

export type PortalAccount = { userId: number; email: string; role: 'staff' | 'investor' };

export type SessionCheck =
  | { ok: true; account: PortalAccount }
  | { ok: false; reason: 'no-cookie' | 'bad-signature' | 'no-session' | 'expired' | 'not-signed-in' | 'account-gone' | 'password-reset' };

const storedSessionSchema = z.object({
  userId: z.number().int().optional(),
  signedInAt: z.number().optional(),
  /** The account's session_epoch at sign-in (absent in sessions from before it existed: 0). */
  sessionEpoch: z.number().int().optional(),
});

export interface PortalSessionOptions {
  /** The portal's FLYMINING_PORTAL_SESSION_SECRET. */
  secret: string;
  /** The portal's FLYMINING_PORTAL_MAX_SESSION_S: no session is older than this since sign-in. */
  maxSessionS: number;
  keyPrefix?: string;
}

/** The value of one cookie in a Cookie header (first occurrence), percent-decoded; undefined when absent or garbled. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** express-session's cookie: "s:" + id + "." + base64 HMAC-SHA256(id). The id, if the signature is right. */
export function unsignSessionCookie(value: string, secret: string): string | undefined {
  if (!value.startsWith('s:')) return undefined;
  const signed = value.slice(2);
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const id = signed.slice(0, dot);
  const expected = Buffer.from(createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, ''));
  const given = Buffer.from(signed.slice(dot + 1));
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : undefined;
}

export class PortalSessionVerifier {
  private readonly sessionPrefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly pool: Pool,
    private readonly options: PortalSessionOptions,
  ) {
    this.sessionPrefix = `${options.keyPrefix ?? PORTAL_KEY_PREFIX}sess:`;
  }

  async check(cookieHeader: string | undefined, now = Date.now()): Promise<SessionCheck> {
    const value = cookieValue(cookieHeader, PORTAL_SESSION_COOKIE);
    if (value === undefined) return { ok: false, reason: 'no-cookie' };
    const id = unsignSessionCookie(value, this.options.secret);
    if (id === undefined) return { ok: false, reason: 'bad-signature' };
    const raw = await this.redis.get(this.sessionPrefix + id);
    if (raw === null) return { ok: false, reason: 'no-session' };
    let parsed: z.infer<typeof storedSessionSchema>;
    try {
      const result = storedSessionSchema.safeParse(JSON.parse(raw));
      if (!result.success) return { ok: false, reason: 'no-session' };
      parsed = result.data;
    } catch {
      return { ok: false, reason: 'no-session' };
    }
    if (parsed.userId === undefined || parsed.signedInAt === undefined) return { ok: false, reason: 'not-signed-in' };
    // The idle timeout is the key's TTL (gone above): the stored cookie.expires is not updated when the portal's
    // rolling sessions only touch the TTL, so it must not be read as the idle deadline.
    if (now - parsed.signedInAt > this.options.maxSessionS * 1000) {
      return { ok: false, reason: 'expired' };
    }
    // The account as it is now, not as it was at sign-in: disabled or demoted accounts lose access at once.
    // A password reset raises the account's session_epoch: every session signed in before it has ended.
    const { rows } = await this.pool.query<{ email: string; role: 'staff' | 'investor'; session_epoch: number }>(
      'SELECT email, role, session_epoch FROM portal_users WHERE id = $1 AND NOT disabled',
      [parsed.userId],
    );
    const row = rows[0];
    if (!row) return { ok: false, reason: 'account-gone' };
    if (row.session_epoch !== (parsed.sessionEpoch ?? 0)) return { ok: false, reason: 'password-reset' };
    return { ok: true, account: { userId: parsed.userId, email: row.email, role: row.role } };
  }
}
