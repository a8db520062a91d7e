/**
 * Sessions live in Redis (connect-redis) so that a portal restart or a second instance keeps everyone signed in,
 * and a session ends for good when its key expires.
 */
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import type { RequestHandler } from 'express';
import type Redis from 'ioredis';
import { PORTAL_SESSION_COOKIE } from '@flymining/shared';

export type PortalRole = 'investor' | 'staff';

declare module 'express-session' {
  interface SessionData {
    /** The primary's WAL position after this session's last ledger write (replica-reads.ts). */
    readAfterLsn: string;
    userId: number;
    email: string;
    role: PortalRole;
    /** Set for investors: the only investor whose data this session may read. */
    investorId: string | null;
    /** Password accepted, TOTP code still due. */
    pendingTotpUserId: number;
    /** The known device the password came from, if any: the TOTP step is throttled on it alone. */
    pendingTotpDevice: string;
    /** A second factor being set up on the account page, in force only once a code from it is confirmed. */
    totpEnrolmentSecret: string;
    signedInAt: number;
    /** The account's session_epoch at sign-in: a password reset raises it, which ends this session. */
    sessionEpoch: number;
    /** The same for the password step while the TOTP code is still due. */
    pendingTotpEpoch: number;
    flash: { kind: 'ok' | 'error'; text: string };
  }
}

/**
 * connect-redis 9 talks to node-redis v5; the portal shares ioredis with the rate limiter, so this adapter maps
 * the few calls the store makes onto ioredis.
 */
function nodeRedisFacade(redis: Redis): object {
  return {
    get: (key: string) => redis.get(key),
    set: (key: string, value: string, options?: { expiration?: { type: 'EX'; value: number } }) =>
      options?.expiration ? redis.set(key, value, 'EX', options.expiration.value) : redis.set(key, value),
    expire: (key: string, seconds: number) => redis.expire(key, seconds),
    del: (keys: string[]) => redis.del(...keys),
    mGet: (keys: string[]) => redis.mget(...keys),
    async *scanIterator(options: { MATCH: string; COUNT: number }) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', options.MATCH, 'COUNT', options.COUNT);
        cursor = next;
        yield keys;
      } while (cursor !== '0');
    },
  };
}

export interface SessionSettings {
  secret: string;
  idleTimeoutS: number;
  /** `auto`: Secure when the request came over HTTPS (directly or per X-Forwarded-Proto behind a trusted proxy). */
  secureCookies: 'auto' | 'always' | 'never';
  keyPrefix: string;
  /**
   * Cookie Domain (FLYMINING_PORTAL_COOKIE_DOMAIN), for a TLS proxy serving the center under several host names
   * (portal.farm.example, alerts.farm.example → farm.example) so the other services accept the same sign-in.
   * Unset: the portal's own host only, which already covers every port of it (cookies are not port-bound).
   */
  cookieDomain?: string;
}

/** Other center services read the same cookie (shared/src/auth), so its name is defined there. */
export const SESSION_COOKIE = PORTAL_SESSION_COOKIE;

export function sessionMiddleware(redis: Redis, settings: SessionSettings): RequestHandler {
  return session({
    name: SESSION_COOKIE,
    store: new RedisStore({ client: nodeRedisFacade(redis), prefix: `${settings.keyPrefix}sess:` }),
    secret: settings.secret,
    resave: false,
    saveUninitialized: false,
    // Each request pushes the idle deadline back; an idle session expires in the browser and in Redis alike.
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: settings.secureCookies === 'auto' ? 'auto' : settings.secureCookies === 'always',
      maxAge: settings.idleTimeoutS * 1000,
      path: '/',
      domain: settings.cookieDomain,
    },
  });
}
