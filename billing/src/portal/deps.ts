/** What the portal app and its routers are given (settings, database, Redis, ledger), and the sign-in throttle built from it. */
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { Logger } from '@flymining/shared';
import type { InvestorMailer } from '../mail';
import type { Request } from 'express';
import type { PortalLedger } from './ledger-view';
import type { LedgerReads } from './replica-reads';
import type { SessionSettings } from './session';
import { SignInThrottle } from './throttle';

export interface PortalSettings extends SessionSettings {
  /** Longest a session lasts after sign-in, however active. */
  maxSessionS: number;
  /** Failed sign-ins per email, per client address and per known device before delays start. */
  loginAttempts: number;
  /** Failures are forgotten this long after the last attempt. */
  loginWindowS: number;
  /** The first delay after the free attempts; it doubles with each further failure ... */
  loginBaseDelayS: number;
  /** ... up to this: the longest anyone, the account's owner included, is ever made to wait. */
  loginMaxDelayS: number;
  /**
   * Addresses or CIDR ranges of the reverse proxies whose X-Forwarded-For/-Proto are believed (express "trust
   * proxy"; also loopback, linklocal, uniquelocal). Empty: none, unless the deprecated hop count is set.
   */
  trustedProxies: string[];
  /** Deprecated: trust this many hops of proxies, whoever they are. Ignored when trustedProxies is set. */
  trustProxyHops: number;
  /** The portal as users reach it (https://...): mailed links point there, never at the request's Host header. */
  publicUrl?: string;
}

export interface PortalDeps {
  pool: Pool;
  redis: Redis;
  ledger: PortalLedger;
  settings: PortalSettings;
  log: Logger;
  /** Mails password-reset links; without it a reset cannot be mailed (logged). */
  mailer?: InvestorMailer;
  /** With a read replica: where each request's ledger reads go (replica-reads.ts). Without: all on `ledger`. */
  reads?: LedgerReads;
}

const requestLedgers = new WeakMap<Request, PortalLedger>();

/**
 * The ledger one request works with: its pages from the read replica when there is one, writes on the primary. One
 * view per request, so all of a page is read from one server.
 */
export function ledgerFor({ ledger, reads }: Pick<PortalDeps, 'ledger' | 'reads'>, req: Request): PortalLedger {
  if (!reads) return ledger;
  let view = requestLedgers.get(req);
  if (!view) requestLedgers.set(req, (view = reads.forSession(req.session)));
  return view;
}

/** The sign-in throttle (progressive delays; see throttle.ts), shared by sign-in and the account page. */
export function signInThrottle({ redis, settings }: Pick<PortalDeps, 'redis' | 'settings'>): SignInThrottle {
  return new SignInThrottle(redis, `${settings.keyPrefix}throttle:`, {
    freeAttempts: settings.loginAttempts,
    baseDelayS: settings.loginBaseDelayS,
    maxDelayS: settings.loginMaxDelayS,
    windowS: settings.loginWindowS,
  });
}

/** "Try again in 4 seconds." */
export function retryText(retryAfterMs: number): string {
  const seconds = Math.ceil(retryAfterMs / 1000);
  return `Too many attempts. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
}
