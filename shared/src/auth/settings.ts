/**
 * Settings of the staff authentication that center services share (alerting API, TV wall), from the environment,
 * validated here; secrets from the environment or a *_FILE, never from a flag (they would show in `ps`).
 */
import { z } from 'zod';
import { redisAddressSetting } from '../redis-address';
import { readSecretFile } from '../secrets';
import { dottedPath, formatIssues } from '../text/issues';
import { PORTAL_KEY_PREFIX } from './portal-session';

export interface AuthSettings {
  /** Redis holding the tokens (and the portal's sessions). */
  redisUrl: string;
  /** Portal sessions are accepted only when the portal's secret is given; tokens work either way. */
  portal?: {
    secret: string;
    maxSessionS: number;
    keyPrefix: string;
    /** The portal's database: whether the account is still enabled and staff is read there on every request. */
    pgUrl: string;
  };
  /** Where browsers are sent to sign in, e.g. http://farm-center:8480/login. */
  loginUrl?: string;
  /** Origins besides the service's own that may send state-changing requests (e.g. the TLS proxy's https origin). */
  allowedOrigins: string[];
}

const originSchema = z
  .string()
  .url()
  .refine((text) => new URL(text).origin === text.replace(/\/$/, ''), 'an origin is scheme://host[:port] with nothing after it');

const schema = z.object({
  redisUrl: redisAddressSetting,
  secret: z.string().min(32, 'the portal session secret must be at least 32 characters').optional(),
  maxSessionS: z.coerce.number().int('a whole number of seconds').positive('more than 0 seconds'),
  pgUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  loginUrl: z.string().url('an absolute http(s) URL of the portal, e.g. http://farm-center:8480').regex(/^https?:\/\//i, 'an http(s) URL').optional(),
  allowedOrigins: z.array(originSchema),
});

const ENV_NAMES: Record<string, string> = {
  redisUrl: 'FLYMINING_REDIS_URL',
  secret: 'FLYMINING_PORTAL_SESSION_SECRET(_FILE)',
  maxSessionS: 'FLYMINING_PORTAL_MAX_SESSION_S',
  pgUrl: 'FLYMINING_PG_URL',
  loginUrl: 'FLYMINING_PORTAL_URL',
  allowedOrigins: 'FLYMINING_AUTH_ALLOWED_ORIGINS',
};

/**
 * FLYMINING_REDIS_URL, FLYMINING_PORTAL_SESSION_SECRET or FLYMINING_PORTAL_SESSION_SECRET_FILE,
 * FLYMINING_PORTAL_MAX_SESSION_S (43200, as the portal), FLYMINING_PG_URL, FLYMINING_PORTAL_URL (the portal's
 * address as browsers reach it) and FLYMINING_AUTH_ALLOWED_ORIGINS (comma-separated). Errors name the variable.
 */
export function readAuthSettings(env: NodeJS.ProcessEnv = process.env): AuthSettings {
  const secretFile = env.FLYMINING_PORTAL_SESSION_SECRET_FILE;
  const secret = secretFile ? readSecretFile(secretFile, 'FLYMINING_PORTAL_SESSION_SECRET_FILE') : env.FLYMINING_PORTAL_SESSION_SECRET || undefined;
  const result = schema.safeParse({
    redisUrl: env.FLYMINING_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    secret,
    maxSessionS: env.FLYMINING_PORTAL_MAX_SESSION_S ?? '43200',
    pgUrl: env.FLYMINING_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/flymining',
    loginUrl: env.FLYMINING_PORTAL_URL ? loginPageOf(env.FLYMINING_PORTAL_URL) : undefined,
    allowedOrigins: (env.FLYMINING_AUTH_ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
  });
  if (!result.success) {
    // Never echo a value: the secret is one of them.
    const lines = formatIssues(result.error, {
      locate: (path) => `${ENV_NAMES[String(path[0])] ?? dottedPath(path)}${path.length > 1 ? ` entry ${String(path[1])}` : ''}`,
    });
    throw new Error(`invalid authentication settings:\n  ${lines.join('\n  ')}`);
  }
  const s = result.data;
  return {
    redisUrl: s.redisUrl,
    portal: s.secret === undefined ? undefined : { secret: s.secret, maxSessionS: s.maxSessionS, keyPrefix: PORTAL_KEY_PREFIX, pgUrl: s.pgUrl },
    loginUrl: s.loginUrl,
    allowedOrigins: s.allowedOrigins.map((o) => o.replace(/\/$/, '')),
  };
}

/** The portal's /login page; a text that is no URL is passed on as it is, for the schema to refuse by name. */
function loginPageOf(portalUrl: string): string {
  try {
    return new URL('/login', portalUrl).toString();
  } catch {
    return portalUrl;
  }
}
