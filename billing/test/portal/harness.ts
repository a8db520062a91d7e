/**
 * Test harness for the portal: a fresh migrated database, Redis database 13 under a per-run key prefix, the real
 * express app listening on a spare port, and a small cookie-keeping HTTP client built on fetch.
 */
import type { Server } from 'node:http';
import type { LedgerReads } from '../../src/portal/replica-reads';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createContract, createInvestor } from '../../src/api';
import { createPortalApp, type PortalSettings } from '../../src/portal/app';
import { engineLedger } from '../../src/portal/ledger-adapter';
import { migratePortal } from '../../src/db';
import { createPortalUser, type PortalUser } from '../../src/portal/users';
import { createLogger } from '@flymining/shared';
import { smtpMailer, type InvestorMailer } from '../../src/mail';
import { openTestMailbox, type TestMailbox } from '../mailbox';
import { createTestDatabase, type TestDatabase } from '../pg';

export const REDIS_DB = 13;

export function testRedisUrl(): string {
  const base = process.env.FLYMINING_TEST_REDIS_URL?.replace(/\/\d*$/, '') ?? 'redis://127.0.0.1:6379';
  return `${base}/${REDIS_DB}`;
}

export interface PortalUnderTest {
  db: TestDatabase;
  redis: Redis;
  url: string;
  settings: PortalSettings;
  close(): Promise<void>;
}

/** Runs `use` against a portal of its own (see startTestPortal), closed afterwards whatever the outcome. */
export async function withTestPortal<T>(name: string, overrides: Partial<PortalSettings>, db: TestDatabase | undefined, use: (portal: PortalUnderTest) => Promise<T>): Promise<T> {
  const portal = await startTestPortal(name, overrides, db);
  try {
    return await use(portal);
  } finally {
    await portal.close();
  }
}

export async function startTestPortal(name: string, overrides: Partial<PortalSettings> = {}, db?: TestDatabase, mailer?: InvestorMailer, reads?: LedgerReads): Promise<PortalUnderTest> {
  const database = db ?? (await createTestDatabase(name));
  await migratePortal(database.pool);
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 2 });
  const settings: PortalSettings = {
    secret: 'test-secret-that-is-long-enough-0123456789',
    idleTimeoutS: 600,
    maxSessionS: 3600,
    secureCookies: 'auto',
    keyPrefix: `flymining:portal-test:${name}:${process.pid}:${Date.now().toString(36)}:`,
    loginAttempts: 20,
    loginWindowS: 600,
    loginBaseDelayS: 1,
    loginMaxDelayS: 4,
    trustedProxies: [],
    trustProxyHops: 0,
    ...overrides,
  };
  const app = createPortalApp({ pool: database.pool, redis, ledger: engineLedger(database.pool, { network: 'mainnet' }), reads, settings, log: createLogger('portal-test', 'error'), mailer });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Mailed links point at the portal's public URL, known only now that it listens.
  settings.publicUrl ??= url;
  return {
    db: database,
    redis,
    url,
    settings,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const keys = await redis.keys(`${settings.keyPrefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      if (!db) await database.drop();
    },
  };
}

/** A portal that mails through a real SMTP server (a test mailbox); close() stops all three. */
export async function startMailingPortal(name: string): Promise<{ portal: PortalUnderTest; mailbox: TestMailbox; close(): Promise<void> }> {
  const mailbox = await openTestMailbox();
  const mailer = smtpMailer(mailbox.url, 'FlyMining <portal@flymining.test>');
  try {
    const portal = await startTestPortal(name, {}, undefined, mailer);
    return {
      portal,
      mailbox,
      async close() {
        await portal.close();
        mailer.close();
        await mailbox.close();
      },
    };
  } catch (err) {
    mailer.close();
    await mailbox.close();
    throw err;
  }
}

export const PASSWORD = 'a long enough password 1';

/** One investor with one contract and a portal account; returns the account. */
export async function seedInvestor(
  db: TestDatabase,
  id: string,
  options: { contractId?: string; ths?: string; startDay?: string } = {},
): Promise<PortalUser> {
  await createInvestor(db.pool, { id, name: `Investor ${id}`, email: `${id}@example.com` });
  await createContract(db.pool, {
    id: options.contractId ?? `${id}-c1`,
    investorId: id,
    hashrateThs: options.ths ?? '100',
    startDay: options.startDay ?? '2026-01-01',
    endDay: '2027-12-31',
  });
  return createPortalUser(db.pool, { email: `${id}@example.com`, password: PASSWORD, role: 'investor', investorId: id });
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

/** Keeps cookies like a browser (only name=value; attributes are checked by the tests that care). */
export class HttpClient {
  readonly cookies = new Map<string, string>();
  lastSetCookie: string[] = [];

  constructor(readonly baseUrl: string, private readonly extraHeaders: Record<string, string> = {}) {}

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Reply> {
    const headers: Record<string, string> = { ...this.extraHeaders };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(this.baseUrl + path, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    this.lastSetCookie = res.headers.getSetCookie();
    for (const line of this.lastSetCookie) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (/expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get('location') };
  }

  get(path: string): Promise<Reply> {
    return this.request('GET', path);
  }

  post(path: string, form: Record<string, string>): Promise<Reply> {
    return this.request('POST', path, form);
  }

  /** GETs the page holding a form and posts it with that page's hidden fields (CSRF token, request key). */
  async submit(formPage: string, action: string, fields: Record<string, string>): Promise<Reply> {
    const page = await this.get(formPage);
    return this.post(action, { ...hiddenFieldsIn(page.text), ...fields });
  }

  async signIn(email: string, password = PASSWORD): Promise<Reply> {
    return this.submit('/login', '/login', { email, password });
  }
}

export function csrfTokenIn(pageHtml: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(pageHtml);
  if (!m?.[1]) throw new Error(`no CSRF token in page:\n${pageHtml.slice(0, 500)}`);
  return m[1];
}

export function hiddenFieldsIn(pageHtml: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of pageHtml.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!;
  return fields;
}

/** Debian's chromium, headless (playwright-core cannot download a browser here). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new browser context signed in through the sign-in form; the page is on the account's start page. */
export async function browserSignIn(browser: Browser, portalUrl: string, email: string, password = PASSWORD): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${portalUrl}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit].primary')]);
  return { context, page };
}
