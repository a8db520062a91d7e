/**
 * The investor portal as an express application: security middleware, sign-in (password, optional TOTP),
 * the investor pages and the staff pages. main.ts gives it its settings, database, Redis and ledger.
 */
import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit, ipKeyGenerator, type RateLimitRequestHandler } from 'express-rate-limit';
import helmet from 'helmet';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { RedisStore as RateLimitStore, type RedisReply } from 'rate-limit-redis';
import type { Logger } from '@flymining/shared';
import { csrfToken, requireCsrfToken } from './csrf';
import { loginForm, problems, totpForm } from './forms';
import { page, type PageChrome, type SafeHtml } from './html';
import { accountRoutes, investorRoutes } from './investor-routes';
import type { PortalLedger } from './ledger-view';
import { sessionMiddleware, type SessionSettings } from './session';
import { staffRoutes } from './staff-routes';
import { auditLogin, checkPassword, checkTotpCode, findUserById, normalizeEmail, type LoginOutcome, type PortalUser } from './users';
import { loginBody, messageBody, totpBody } from './views';

export interface PortalSettings extends SessionSettings {
  /** Longest a session lasts after sign-in, however active. */
  maxSessionS: number;
  /** Failed sign-ins allowed per client address, and per email, in each window. */
  loginAttempts: number;
  loginWindowS: number;
  /** express "trust proxy": hops of reverse proxies whose X-Forwarded-* headers are believed (0: none). */
  trustProxyHops: number;
}

export interface PortalDeps {
  pool: Pool;
  redis: Redis;
  ledger: PortalLedger;
  settings: PortalSettings;
  log: Logger;
}

/** Renders a full page with this response's nonce, CSRF token and the signed-in user. */
export function render(req: Request, res: Response, title: string, body: SafeHtml, status = 200, extra: Partial<PageChrome> = {}): void {
  const s = req.session;
  const flash = s.flash;
  if (flash) delete s.flash;
  res
    .status(status)
    .type('html')
    .send(
      page(
        {
          title,
          nonce: String(res.locals.cspNonce),
          csrfToken: csrfToken(req),
          user: s.userId !== undefined && s.email && s.role ? { email: s.email, role: s.role } : undefined,
          flash,
          ...extra,
        },
        body,
      ),
    );
}

export function flash(req: Request, kind: 'ok' | 'error', text: string): void {
  req.session.flash = { kind, text };
}

function loginLimiter(redis: Redis, settings: PortalSettings, name: string, key: (req: Request) => string, onLimited: (req: Request, res: Response) => void): RateLimitRequestHandler {
  return rateLimit({
    windowMs: settings.loginWindowS * 1000,
    limit: settings.loginAttempts,
    // Successful sign-ins (redirects) do not use up the allowance; failures (401) do.
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: key,
    store: new RateLimitStore({
      prefix: `${settings.keyPrefix}login-${name}:`,
      sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
    }),
    handler: (req, res) => onLimited(req, res),
  });
}

/** A new session id whenever privilege changes, so an id planted before sign-in (session fixation) is worthless. */
function regenerateSession(req: Request): Promise<void> {
  return new Promise<void>((resolve, reject) => req.session.regenerate((err: unknown) => (err ? reject(err) : resolve())));
}

async function signIn(req: Request, user: PortalUser): Promise<void> {
  await regenerateSession(req);
  const s = req.session;
  s.userId = user.id;
  s.email = user.email;
  s.role = user.role;
  s.investorId = user.investorId;
  s.signedInAt = Date.now();
}

export function createPortalApp(deps: PortalDeps): express.Express {
  const { pool, redis, settings, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', settings.trustProxyHops);

  app.use((_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString('base64');
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          // No scripts at all; the only style is the page's own <style> element carrying this response's nonce.
          scriptSrc: ["'none'"],
          styleSrc: [(_req, res) => `'nonce-${String((res as Response).locals.cspNonce)}'`],
          imgSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      // Browsers keep HSTS only from HTTPS responses, so sending it always is harmless on plain HTTP.
      strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true },
      referrerPolicy: { policy: 'same-origin' },
      frameguard: { action: 'deny' },
    }),
  );
  app.use((_req, res, next) => {
    // Pages show balances and addresses: never keep them in shared or back-button caches.
    res.set('Cache-Control', 'no-store');
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.type('text').send('ok');
  });

  app.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }));
  app.use(sessionMiddleware(redis, settings));

  // A session past its absolute lifetime ends, even if it was used a minute ago.
  app.use((req, res, next) => {
    const s = req.session;
    if (s.signedInAt !== undefined && Date.now() - s.signedInAt > settings.maxSessionS * 1000) {
      req.session.destroy(() => res.redirect(303, '/login?expired=1'));
      return;
    }
    next();
  });

  app.use(
    requireCsrfToken((req, res) => {
      log.warn({ path: req.path, ip: req.ip }, 'request refused: missing or wrong CSRF token');
      render(req, res, 'Form expired', messageBody('This form has expired or did not come from this site. Go back, reload the page and try again.'), 403);
    }),
  );

  const onLimited = async (req: Request, res: Response): Promise<void> => {
    const email = typeof req.body?.email === 'string' ? req.body.email : '';
    // Recorded before answering, so the audit trail is complete when the client sees the refusal.
    await auditLogin(pool, { email, outcome: 'rate_limited', ip: req.ip, userAgent: req.get('user-agent') }).catch((err: unknown) =>
      log.warn({ err }, 'could not record a rate-limited sign-in'),
    );
    const minutes = Math.ceil(settings.loginWindowS / 60);
    render(req, res, 'Sign in', loginBody(csrfToken(req), [`Too many sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`], email), 429);
  };
  const limitByAddress = loginLimiter(redis, settings, 'ip', (req) => ipKeyGenerator(req.ip ?? 'unknown'), onLimited);
  // Per account too, so that many addresses together cannot guess one investor's password.
  const limitByEmail = loginLimiter(redis, settings, 'email', (req) => normalizeEmail(typeof req.body?.email === 'string' ? req.body.email : ''), onLimited);

  // And per account at the TOTP step: a stolen password does not buy unlimited guesses at the 6 digits.
  const limitTotpByUser = loginLimiter(redis, settings, 'totp', (req) => String(req.session.pendingTotpUserId ?? ''), onLimited);

  const audit = (req: Request, email: string, outcome: LoginOutcome, userId?: number): Promise<void> =>
    auditLogin(pool, { email, userId, outcome, ip: req.ip, userAgent: req.get('user-agent') });

  app.get('/login', (req, res) => {
    if (req.session.userId !== undefined) return res.redirect(303, '/');
    const note = req.query.expired ? ['Your session has ended. Please sign in again.'] : [];
    render(req, res, 'Sign in', loginBody(csrfToken(req), note));
  });

  app.post('/login', limitByAddress, limitByEmail, async (req, res, next) => {
    try {
      const form = loginForm.safeParse(req.body);
      if (!form.success) return render(req, res, 'Sign in', loginBody(csrfToken(req), problems(form.error), String(req.body?.email ?? '')), 400);
      const { email, password } = form.data;
      const check = await checkPassword(pool, email, password);
      if (!check.ok) {
        await audit(req, email, 'bad_credentials');
        // One message for an unknown email and a wrong password alike.
        return render(req, res, 'Sign in', loginBody(csrfToken(req), ['Email or password is incorrect.'], email), 401);
      }
      if (check.user.totpEnabled) {
        await regenerateSession(req);
        req.session.pendingTotpUserId = check.user.id;
        await audit(req, email, 'totp_required', check.user.id);
        return res.redirect(303, '/login/totp');
      }
      await signIn(req, check.user);
      await audit(req, email, 'signed_in', check.user.id);
      res.redirect(303, check.user.role === 'staff' ? '/admin' : '/');
    } catch (err) {
      next(err);
    }
  });

  app.get('/login/totp', (req, res) => {
    if (req.session.pendingTotpUserId === undefined) return res.redirect(303, '/login');
    render(req, res, 'Two-factor sign-in', totpBody(csrfToken(req), []));
  });

  app.post('/login/totp', limitByAddress, limitTotpByUser, async (req, res, next) => {
    try {
      const pendingId = req.session.pendingTotpUserId;
      if (pendingId === undefined) return res.redirect(303, '/login');
      const form = totpForm.safeParse(req.body);
      if (!form.success) return render(req, res, 'Two-factor sign-in', totpBody(csrfToken(req), problems(form.error)), 400);
      const user = await findUserById(pool, pendingId);
      if (!user || !(await checkTotpCode(pool, pendingId, form.data.code))) {
        await audit(req, user?.email ?? '', 'bad_totp', user?.id);
        return render(req, res, 'Two-factor sign-in', totpBody(csrfToken(req), ['That code is not valid. Enter the current code.']), 401);
      }
      delete req.session.pendingTotpUserId;
      await signIn(req, user);
      await audit(req, user.email, 'signed_in', user.id);
      res.redirect(303, user.role === 'staff' ? '/admin' : '/');
    } catch (err) {
      next(err);
    }
  });

  app.post('/logout', (req, res) => {
    req.session.destroy(() => res.redirect(303, '/login'));
  });

  // Everything below needs a signed-in user whose account still exists and is enabled.
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    try {
      const id = req.session.userId;
      const user = id === undefined ? undefined : await findUserById(pool, id);
      if (!user) {
        if (id !== undefined) await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
        return res.redirect(303, '/login');
      }
      res.locals.user = user;
      next();
    } catch (err) {
      next(err);
    }
  });

  app.use('/account', accountRoutes(deps));
  app.use('/admin', staffRoutes(deps));
  app.use('/', investorRoutes(deps));

  app.use((req: Request, res: Response) => {
    render(req, res, 'Not found', messageBody('There is no such page.', { href: '/', label: 'Back to the start' }), 404);
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    log.error({ err, path: req.path }, 'portal request failed');
    if (res.headersSent) return;
    res.status(500).type('text').send('Something went wrong on our side. Please try again later.');
  });
  return app;
}
