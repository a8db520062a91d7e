/**
 * Investor portal process: `npm run portal -- [--listen 127.0.0.1:8480]`.
 * Settings come from flags, then FLYMINING_* environment variables, then defaults, validated here at the edge.
 * The session secret is read from the environment only, so it never shows in `ps`.
 */
import { isIP, type AddressInfo } from 'node:net';
import { Command } from 'commander';
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { z } from 'zod';
import { PORTAL_KEY_PREFIX, createLogger, formatIssues, openRedis, readSecretFile, redisAddressSetting, runService } from '@flymining/shared';
import { migratePortal, openPool } from '../db';
import { createPortalApp, type PortalSettings } from './app';
import { engineLedger } from './ledger-adapter';
import { mailerFromEnv } from '../mail';
import { LedgerReads } from './replica-reads';

const positiveInt = (what: string) => z.coerce.number().int(`${what} must be a whole number`).positive(`${what} must be more than 0`);

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR range (10.0.0.0/8, fd00::/8) or one of express's names (loopback, linklocal, uniquelocal). */
function isProxyAddress(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

const proxyList = z
  .string()
  .transform((text) => text.split(',').map((entry) => entry.trim()).filter(Boolean))
  .superRefine((entries, ctx) => {
    for (const entry of entries) {
      if (!isProxyAddress(entry)) ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address, a CIDR range or loopback/linklocal/uniquelocal` });
    }
  });

const settingsSchema = z.object({
  listen: z.string().regex(/^[^:]+:\d{1,5}$/, 'use HOST:PORT, e.g. 127.0.0.1:8480'),
  pgUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  pgReadUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  redisUrl: redisAddressSetting,
  secret: z
    .string({ error: 'FLYMINING_PORTAL_SESSION_SECRET_FILE (or FLYMINING_PORTAL_SESSION_SECRET) is required (at least 32 random characters)' })
    .min(32, 'FLYMINING_PORTAL_SESSION_SECRET must be at least 32 characters'),
  idleTimeoutS: positiveInt('the idle timeout'),
  maxSessionS: positiveInt('the session lifetime'),
  loginAttempts: positiveInt('login attempts'),
  loginWindowS: positiveInt('the login window'),
  loginBaseDelayS: z.coerce.number().positive('the first sign-in delay must be more than 0 seconds').max(3600),
  loginMaxDelayS: positiveInt('the longest sign-in delay').max(3600, 'the longest sign-in delay is at most 3600 s (the owner may have to wait it)'),
  trustedProxies: proxyList,
  trustProxyHops: z.coerce.number().int().min(0, 'trust-proxy is a number of proxy hops (0 for none)').max(10),
  secureCookies: z.enum(['auto', 'always', 'never'], { error: 'secure-cookies is auto, always or never' }),
  network: z.enum(['mainnet', 'testnet', 'regtest'], { error: 'network is mainnet, testnet or regtest' }),
  keyPrefix: z.string().max(64),
  cookieDomain: z
    .string()
    .regex(/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/, 'cookie-domain is a host name such as farm.example')
    .optional(),
})
  .refine((s) => !(s.trustedProxies.length && s.trustProxyHops > 0), {
    path: ['trustProxyHops'],
    message: 'give either --trusted-proxies (FLYMINING_PORTAL_TRUSTED_PROXIES) or the deprecated --trust-proxy hop count, not both',
  })
  .refine((s) => s.loginBaseDelayS <= s.loginMaxDelayS, { path: ['loginBaseDelayS'], message: 'the first sign-in delay must not exceed the longest' });

export type PortalProcessSettings = z.infer<typeof settingsSchema>;

/** The portal's options: flag, help, the environment variable that sets its default, and the default without one. */
const portalOptions: readonly (readonly [flags: string, help: string, envVar: string, fallback?: string])[] = [
  ['--listen <host:port>', 'address to serve on', 'FLYMINING_PORTAL_LISTEN', '127.0.0.1:8480'],
  ['--pg <url>', 'billing database', 'FLYMINING_PG_URL', 'postgres://postgres@127.0.0.1:5432/flymining'],
  ['--pg-read-url <url>', "a streaming replica of it for the ledger pages' reads (writes and sign-in stay on --pg)", 'FLYMINING_PG_READ_URL'],
  ['--redis <url>', 'sessions and login rate limits', 'FLYMINING_REDIS_URL', 'redis://127.0.0.1:6379/0'],
  ['--idle-timeout <s>', 'sign out after this many idle seconds', 'FLYMINING_PORTAL_IDLE_TIMEOUT_S', '1800'],
  ['--max-session <s>', 'sign out this many seconds after sign-in', 'FLYMINING_PORTAL_MAX_SESSION_S', '43200'],
  ['--login-attempts <n>', 'failed sign-ins per email, per address and per known device before delays start', 'FLYMINING_PORTAL_LOGIN_ATTEMPTS', '10'],
  ['--login-window <s>', 'failures are forgotten this long after the last attempt', 'FLYMINING_PORTAL_LOGIN_WINDOW_S', '900'],
  ['--login-base-delay <s>', 'first delay after the free attempts, doubling with each failure', 'FLYMINING_PORTAL_LOGIN_BASE_DELAY_S', '1'],
  ['--login-max-delay <s>', 'longest delay anyone (the owner on a new device too) waits', 'FLYMINING_PORTAL_LOGIN_MAX_DELAY_S', '60'],
  ['--trusted-proxies <list>', 'addresses/CIDRs of the reverse proxies whose X-Forwarded-For/-Proto are believed', 'FLYMINING_PORTAL_TRUSTED_PROXIES', ''],
  ['--trust-proxy <hops>', 'deprecated: trust this many proxy hops, whoever they are (use --trusted-proxies)', 'FLYMINING_PORTAL_TRUST_PROXY', '0'],
  ['--secure-cookies <mode>', 'auto (over HTTPS), always, never', 'FLYMINING_PORTAL_SECURE_COOKIES', 'auto'],
  ['--network <net>', 'Bitcoin network of payout addresses', 'FLYMINING_BTC_NETWORK', 'mainnet'],
  ['--cookie-domain <host>', 'share the sign-in with the other center services under several host names', 'FLYMINING_PORTAL_COOKIE_DOMAIN'],
];

export function readPortalSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): PortalProcessSettings {
  const o = portalOptions
    .reduce((command, [flags, help, envVar, fallback]) => command.option(flags, help, env[envVar] ?? fallback), new Command('portal'))
    .exitOverride()
    .parse(argv)
    .opts<Record<string, string>>();
  const result = settingsSchema.safeParse({
    listen: o.listen,
    pgUrl: o.pg,
    pgReadUrl: o.pgReadUrl || undefined,
    redisUrl: o.redis,
    // From a file (a Docker secret) by preference: an environment variable shows in `docker inspect`.
    secret: env.FLYMINING_PORTAL_SESSION_SECRET_FILE ? readSecretFile(env.FLYMINING_PORTAL_SESSION_SECRET_FILE, 'FLYMINING_PORTAL_SESSION_SECRET_FILE') : env.FLYMINING_PORTAL_SESSION_SECRET,
    idleTimeoutS: o.idleTimeout,
    maxSessionS: o.maxSession,
    loginAttempts: o.loginAttempts,
    loginWindowS: o.loginWindow,
    loginBaseDelayS: o.loginBaseDelay,
    loginMaxDelayS: o.loginMaxDelay,
    trustedProxies: o.trustedProxies,
    trustProxyHops: o.trustProxy,
    secureCookies: o.secureCookies,
    network: o.network,
    keyPrefix: PORTAL_KEY_PREFIX,
    cookieDomain: o.cookieDomain || undefined,
  });
  if (!result.success) {
    throw new Error(`invalid portal settings:\n  ${formatIssues(result.error).join('\n  ')}`);
  }
  return result.data;
}

export interface RunningPortal {
  url: string;
  pool: Pool;
  close(): Promise<void>;
}

export async function startPortal(settings: PortalProcessSettings): Promise<RunningPortal> {
  const log = createLogger('portal');
  const pool = openPool(settings.pgUrl);
  await migratePortal(pool);
  const redis = openRedis(settings.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => log.warn({ err: err.message }, 'Redis connection problem'));
  // Mailed links (password reset) point at the portal as users reach it, never at a request's Host header.
  const portalSettings: PortalSettings = { ...settings, publicUrl: process.env.FLYMINING_PORTAL_URL || undefined };
  const mailer = mailerFromEnv();
  if (!mailer || !portalSettings.publicUrl) log.warn('no FLYMINING_SMTP_URL or FLYMINING_PORTAL_URL: password reset links cannot be mailed');
  const ledger = engineLedger(pool, { network: settings.network });
  // A read replica takes the ledger pages' reads (replica-reads.ts); sign-in, accounts and writes stay on the primary.
  const readPool = settings.pgReadUrl ? openPool(settings.pgReadUrl) : undefined;
  const reads = readPool ? new LedgerReads({ pool, ledger }, { pool: readPool, ledger: engineLedger(readPool, { network: settings.network }) }, log) : undefined;
  const app = createPortalApp({ pool, redis, ledger, reads, settings: portalSettings, log, mailer });
  const [host, port] = settings.listen.split(':') as [string, string];
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const s = app.listen(Number(port), host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host}:${address.port}`;
  log.info(`investor portal on ${url}`);
  return {
    url,
    pool,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
      mailer?.close();
      await pool.end();
      await readPool?.end();
    },
  };
}

if (require.main === module) {
  runService('portal', async () => {
    const portal = await startPortal(readPortalSettings(process.argv));
    process.stdout.write(`investor portal on ${portal.url}\n`);
    return () => portal.close();
  });
}
