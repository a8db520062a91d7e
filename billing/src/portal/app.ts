/**
 * The investor portal as an express application: security middleware, sign-in (password, optional TOTP),
 * the investor pages and the staff pages. main.ts gives it its settings, database, Redis and ledger (deps.ts);
 * pages are answered through respond.ts, which the routers use too, so no router imports this file.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { pageHeaders } from '@flymining/shared/src/http/page-headers';
import { csrfProtection, csrfToken } from './csrf';
import { knownDeviceFor, rememberDevice } from './device';
import { loginForm, problems, totpForm } from './forms';
import { html, type SafeHtml } from './html';
import { accountRoutes, investorRoutes } from './investor-routes';
import { ledgerFor, retryText, signInThrottle, type PortalDeps } from './deps';
import { render } from './respond';
import { sessionMiddleware } from './session';
import { staffRoutes } from './staff-routes';
import { auditLogin, checkPassword, checkTotpCode, findUserById, normalizeEmail, type LoginOutcome, type PortalUser } from './users';
import { loginBody, messageBody, totpBody } from './views';
import { verifyLink } from './signing';
import { STATEMENT_LINK_PURPOSE } from '../statements/issue';
import { setDailyCreditMails, UNSUBSCRIBE_PATH, UNSUBSCRIBE_PURPOSE } from '../notices';
import { statementPdf } from '../statements/render';
import { passwordResetRoutes } from './password-reset';

export type { PortalDeps, PortalSettings } from './deps';

/** The throttle key of a client address (IPv6 by its /56, as a user's whole network is one client). */
const addressKey = (req: Request): string => `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;

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
  s.sessionEpoch = user.sessionEpoch;
}

export function createPortalApp(deps: PortalDeps): express.Express {
  const { pool, redis, settings, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  if (settings.trustedProxies.length) app.set('trust proxy', settings.trustedProxies);
  else {
    app.set('trust proxy', settings.trustProxyHops);
    if (settings.trustProxyHops > 0) {
      log.warn(
        { trustProxyHops: settings.trustProxyHops },
        'trusting proxies by hop count is deprecated: any client can then claim any address; name the proxies with --trusted-proxies (FLYMINING_PORTAL_TRUSTED_PROXIES)',
      );
    }
  }
  const secureCookie = (req: Request): boolean => (settings.secureCookies === 'auto' ? req.secure : settings.secureCookies === 'always');

  app.use(
    pageHeaders({
      // No scripts at all; the only style is the page's own <style> element carrying this response's nonce.
      scriptSrc: ["'none'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      // Browsers keep HSTS only from HTTPS responses, so sending it always is harmless on plain HTTP.
      hsts: { maxAge: 31536000, includeSubDomains: true },
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
    csrfProtection(settings, (req, res) => {
      log.warn({ path: req.path, ip: req.ip }, 'request refused: missing or wrong CSRF token');
      render(req, res, 'Form expired', messageBody('This form has expired or did not come from this site. Go back, reload the page and try again.'), 403);
    }),
  );

  const throttle = signInThrottle(deps);
  /** Answers an attempt made before its delay is over: 429, Retry-After, audited. */
  const refuseThrottled = async (req: Request, res: Response, email: string, retryAfterMs: number, body: (errors: string[]) => SafeHtml): Promise<void> => {
    // Recorded before answering, so the audit trail is complete when the client sees the refusal.
    await auditLogin(pool, { email, outcome: 'rate_limited', ip: req.ip, userAgent: req.get('user-agent') }).catch((err: unknown) =>
      log.warn({ err }, 'could not record a throttled sign-in'),
    );
    res.set('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
    render(req, res, 'Sign in', body([retryText(retryAfterMs)]), 429);
  };

  const audit = (req: Request, email: string, outcome: LoginOutcome, userId?: number): Promise<void> =>
    auditLogin(pool, { email, userId, outcome, ip: req.ip, userAgent: req.get('user-agent') });

  app.get('/login', (req, res) => {
    if (req.session.userId !== undefined) return res.redirect(303, '/');
    const note = req.query.expired ? ['Your session has ended. Please sign in again.'] : req.query.reset ? ['Your password is changed. Sign in with it.'] : [];
    render(req, res, 'Sign in', loginBody(csrfToken(req), note));
  });

  app.post('/login', async (req, res) => {
    const form = loginForm.safeParse(req.body);
    if (!form.success) return render(req, res, 'Sign in', loginBody(csrfToken(req), problems(form.error), String(req.body?.email ?? '')), 400);
    const { email, password } = form.data;
    // A browser the account signed in from before is throttled on its own; everyone else per email and address.
    const device = knownDeviceFor(req, settings.secret, email);
    const keys = device ? [`device:${device}`] : [`email:${normalizeEmail(email)}`, addressKey(req)];
    const attempt = await throttle.begin(keys);
    if (!attempt.allowed) return refuseThrottled(req, res, email, attempt.retryAfterMs, (errors) => loginBody(csrfToken(req), errors, email));
    const check = await checkPassword(pool, email, password);
    if (!check.ok) {
      await audit(req, email, 'bad_credentials');
      // One message for an unknown email and a wrong password alike.
      return render(req, res, 'Sign in', loginBody(csrfToken(req), ['Email or password is incorrect.'], email), 401);
    }
    await throttle.succeeded(keys);
    if (check.user.totpEnabled) {
      await regenerateSession(req);
      req.session.pendingTotpUserId = check.user.id;
      req.session.pendingTotpEpoch = check.user.sessionEpoch;
      if (device) req.session.pendingTotpDevice = device;
      await audit(req, email, 'totp_required', check.user.id);
      return res.redirect(303, '/login/totp');
    }
    await signIn(req, check.user);
    rememberDevice(req, res, settings.secret, check.user.email, secureCookie(req), device);
    await audit(req, email, 'signed_in', check.user.id);
    res.redirect(303, check.user.role === 'staff' ? '/admin' : '/');
  });

  app.get('/login/totp', (req, res) => {
    if (req.session.pendingTotpUserId === undefined) return res.redirect(303, '/login');
    render(req, res, 'Two-factor sign-in', totpBody(csrfToken(req), []));
  });

  app.post('/login/totp', async (req, res) => {
    const pendingId = req.session.pendingTotpUserId;
    if (pendingId === undefined) return res.redirect(303, '/login');
    const form = totpForm.safeParse(req.body);
    if (!form.success) return render(req, res, 'Two-factor sign-in', totpBody(csrfToken(req), problems(form.error)), 400);
    // A stolen password does not buy unlimited guesses at the 6 digits: per account (and address), or per known device.
    const device = req.session.pendingTotpDevice;
    const keys = device ? [`device:${device}`] : [`totp:${pendingId}`, addressKey(req)];
    const attempt = await throttle.begin(keys);
    const found = await findUserById(pool, pendingId);
    // A password reset since the password step voids that step.
    const user = found && found.sessionEpoch === (req.session.pendingTotpEpoch ?? 0) ? found : undefined;
    if (!attempt.allowed) return refuseThrottled(req, res, user?.email ?? '', attempt.retryAfterMs, (errors) => totpBody(csrfToken(req), errors));
    if (!user || !(await checkTotpCode(pool, pendingId, form.data.code))) {
      await audit(req, user?.email ?? '', 'bad_totp', user?.id);
      return render(req, res, 'Two-factor sign-in', totpBody(csrfToken(req), ['That code is not valid. Enter the current code.']), 401);
    }
    await throttle.succeeded(keys);
    await signIn(req, user);
    rememberDevice(req, res, settings.secret, user.email, secureCookie(req), device);
    await audit(req, user.email, 'signed_in', user.id);
    res.redirect(303, user.role === 'staff' ? '/admin' : '/');
  });

  app.post('/logout', (req, res) => {
    req.session.destroy(() => res.redirect(303, '/login'));
  });

  app.use('/password-reset', passwordResetRoutes(deps));

  // A statement mailed as a signed link: the link itself is the authorisation (one investor, one month, until it expires).
  app.get('/statements/link', async (req, res) => {
    const link = verifyLink(settings.secret, STATEMENT_LINK_PURPOSE, req.query, ['i', 'm']);
    if (!link.ok) {
      log.warn({ path: req.path, ip: req.ip, reason: link.reason }, 'statement link refused');
      const text =
        link.reason === 'expired'
          ? 'This download link has expired. Sign in and open Statements to download the statement.'
          : 'This download link is not valid: open the link from the mail as it was sent, or sign in and open Statements.';
      return render(req, res, 'Statement', messageBody(text, { href: '/login', label: 'Sign in' }), link.reason === 'expired' ? 410 : 403);
    }
    const { i: investorId, m: month } = link.claims.fields as { i: string; m: string };
    const statement = await ledgerFor(deps, req).monthlyStatement(investorId, month);
    res.type('application/pdf').attachment(`flymining-statement-${investorId}-${month}.pdf`).send(await statementPdf(statement));
  });

  // The unsubscribe link of a daily-credit mail: a page with one button (a mail scanner following the link changes
  // nothing), the POST switches the mails off. The signed link is the authorisation; it does not expire.
  const unsubscribeLink = (query: Record<string, unknown>) => verifyLink(settings.secret, UNSUBSCRIBE_PURPOSE, query, ['i']);
  const refuseUnsubscribe = (req: Request, res: Response): void =>
    render(req, res, 'Daily credit mails', messageBody('This link is not valid: open the link from the mail as it was sent, or sign in and change it on your Account page.', { href: '/login', label: 'Sign in' }), 403);
  app.get(UNSUBSCRIBE_PATH, (req, res) => {
    const link = unsubscribeLink(req.query);
    if (!link.ok) return refuseUnsubscribe(req, res);
    const hidden = (['i', 'e', 's'] as const).map((name) => html`<input type="hidden" name="${name}" value="${String(req.query[name])}">`);
    render(
      req,
      res,
      'Daily credit mails',
      html`<section><p>Stop the mail FlyMining sends after each credited day? Your credits and monthly statements are not affected.</p>
      <form method="post" action="${UNSUBSCRIBE_PATH}"><input type="hidden" name="_csrf" value="${csrfToken(req)}">${hidden}
      <button class="primary" type="submit">Stop daily credit mails</button></form></section>`,
    );
  });
  app.post(UNSUBSCRIBE_PATH, async (req, res) => {
    const link = unsubscribeLink(req.body ?? {});
    if (!link.ok) return refuseUnsubscribe(req, res);
    await setDailyCreditMails(pool, link.claims.fields.i!, false, 'unsubscribe-link');
    render(req, res, 'Daily credit mails', messageBody('Done: you will get no more daily credit mails. You can switch them on again on your Account page.'));
  });

  // Everything below needs a signed-in user whose account still exists, is enabled, and whose password was not
  // reset since this session signed in (sessions from before the epoch existed count as epoch 0).
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    try {
      const id = req.session.userId;
      const user = id === undefined ? undefined : await findUserById(pool, id);
      if (!user || user.sessionEpoch !== (req.session.sessionEpoch ?? 0)) {
        if (id !== undefined) await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
        return res.redirect(303, user ? '/login?expired=1' : '/login');
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
    // The client's own mistakes (a form over the size limit, a bad %-escape in the path, ...) are 4xx, not ours.
    const status = clientErrorStatus(err);
    if (status !== undefined) {
      log.info({ status, path: req.path, reason: (err as Error).message }, 'request refused');
      if (!res.headersSent) res.status(status).type('text').send(clientErrorText(status));
      return;
    }
    log.error({ err, path: req.path }, 'portal request failed');
    if (res.headersSent) return;
    res.status(500).type('text').send('Something went wrong on our side. Please try again later.');
  });
  return app;
}

/** The 4xx status carried by an error from express or body-parser (http-errors), if it is one. */
function clientErrorStatus(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && code >= 400 && code < 500 ? code : undefined;
}

function clientErrorText(status: number): string {
  if (status === 413) return 'That form is too large. Shorten what you entered and try again.';
  if (status === 415) return 'That kind of request body is not accepted here.';
  return 'That request could not be understood. Go back and try again.';
}
