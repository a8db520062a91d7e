/**
 * Password reset by mailed link. Asking for a link always answers the same (no account enumeration) and is
 * throttled like sign-in. The link is signed (purpose `password-reset`: the account, a random nonce, the expiry),
 * expires after `RESET_LINK_MINUTES`, and works once: setting the new password uses up its row in
 * portal_password_resets (and every other unused link of the account) in the same transaction as the new hash,
 * and ends every session of the account (its session_epoch goes up).
 */
import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { inTransaction } from '../db';
import { csrfToken } from './csrf';
import { retryText, signInThrottle, type PortalDeps } from './deps';
import { problems } from './forms';
import { csrfField, html, type SafeHtml } from './html';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords';
import { render } from './respond';
import { signLink, verifyLink } from './signing';
import { normalizeEmail } from './users';
import { messageBody } from './views';

export const RESET_LINK_MINUTES = 60;
const PURPOSE = 'password-reset';
const FIELDS = ['u', 'n'] as const;

const requestForm = z.object({ email: z.string().trim().min(3, 'Enter your email address').max(320, 'That email address is too long') });
const newPasswordForm = z
  .object({
    password: z.string().min(MIN_PASSWORD_LENGTH, `Password: at least ${MIN_PASSWORD_LENGTH} characters`).max(1024, 'Password: at most 1024 characters'),
    confirm: z.string(),
  })
  .refine((f) => f.password === f.confirm, { message: 'The two passwords differ', path: ['confirm'] });

const SENT = 'If a portal account uses that address, a link to choose a new password is on its way. It works once, for an hour.';

function requestBody(csrf: string, errors: readonly string[] = []): SafeHtml {
  return html`<section>${errors.length ? html`<ul class="errors" role="alert">${errors.map((e) => html`<li>${e}</li>`)}</ul>` : ''}
  <p>Enter the email address of your account; we mail you a link to choose a new password.</p>
  <form method="post" action="/password-reset">${csrfField(csrf)}
    <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
    <p><button class="primary" type="submit">Mail me a link</button></p></form></section>`;
}

function newPasswordBody(csrf: string, link: Record<string, string>, errors: readonly string[] = []): SafeHtml {
  return html`<section>${errors.length ? html`<ul class="errors" role="alert">${errors.map((e) => html`<li>${e}</li>`)}</ul>` : ''}
  <form method="post" action="/password-reset/confirm">${csrfField(csrf)}${Object.entries(link).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
    <label for="password">New password (at least ${MIN_PASSWORD_LENGTH} characters)</label><input id="password" name="password" type="password" autocomplete="new-password" required>
    <label for="confirm">The same again</label><input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
    <p><button class="primary" type="submit">Set the new password</button></p></form></section>`;
}

/** The link's own parameters, kept in the form so the POST is checked exactly like the GET. */
const linkParams = (source: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(['u', 'n', 'e', 's'].map((k) => [k, typeof source[k] === 'string' ? (source[k] as string) : '']));

export function passwordResetRoutes(deps: PortalDeps): Router {
  const { pool, settings, log, mailer } = deps;
  const throttle = signInThrottle(deps);
  const router = Router();

  router.get('/', (req, res) => render(req, res, 'Forgot your password?', requestBody(csrfToken(req))));

  router.post('/', async (req, res) => {
    const form = requestForm.safeParse(req.body);
    if (!form.success) return render(req, res, 'Forgot your password?', requestBody(csrfToken(req), problems(form.error)), 400);
    const email = normalizeEmail(form.data.email);
    const keys = [`reset:${email}`, `reset-ip:${req.ip ?? 'unknown'}`];
    const attempt = await throttle.begin(keys);
    if (!attempt.allowed) {
      res.set('Retry-After', String(Math.ceil(attempt.retryAfterMs / 1000)));
      return render(req, res, 'Forgot your password?', requestBody(csrfToken(req), [retryText(attempt.retryAfterMs)]), 429);
    }
    // Every request counts as a failure for the throttle, so the mailbox cannot be flooded either.
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM portal_users WHERE email = $1 AND NOT disabled', [email]);
    const user = rows[0];
    if (user && mailer && settings.publicUrl) {
      const nonce = randomBytes(32).toString('base64url');
      const expiresAtS = Math.floor(Date.now() / 1000) + RESET_LINK_MINUTES * 60;
      await pool.query('INSERT INTO portal_password_resets (nonce, user_id, expires_at, requested_ip) VALUES ($1, $2, to_timestamp($3), $4)', [
        nonce,
        user.id,
        expiresAtS,
        req.ip ?? null,
      ]);
      const link = `${settings.publicUrl.replace(/\/+$/, '')}/password-reset/confirm?${signLink(settings.secret, PURPOSE, { fields: { u: user.id, n: nonce }, expiresAtS })}`;
      // Not awaited: the answer takes as long whether or not the account exists.
      void mailer
        .send({
          to: email,
          subject: 'FlyMining: choose a new password',
          text: `Someone (we hope you) asked to reset the password of your FlyMining portal account.\n\nChoose a new password: ${link}\n\nThe link works once, for ${RESET_LINK_MINUTES} minutes. If you did not ask, ignore this mail: your password stays as it is.`,
          html: `<p>Someone (we hope you) asked to reset the password of your FlyMining portal account.</p><p><a href="${link}">Choose a new password</a></p><p>The link works once, for ${RESET_LINK_MINUTES} minutes. If you did not ask, ignore this mail: your password stays as it is.</p>`,
        })
        .catch((err: Error) => log.warn({ err: err.message }, 'password reset mail not sent'));
    } else if (user) {
      log.warn('password reset asked but the portal has no SMTP server or public URL (FLYMINING_SMTP_URL, FLYMINING_PORTAL_URL)');
    }
    render(req, res, 'Forgot your password?', messageBody(SENT, { href: '/login', label: 'Back to sign-in' }));
  });

  /** The link checked: signature, expiry, and its row neither used nor expired. */
  const checkLink = async (req: Request, res: Response, source: Record<string, unknown>): Promise<{ userId: string; nonce: string } | undefined> => {
    const link = verifyLink(settings.secret, PURPOSE, source, FIELDS);
    const { u: userId = '', n: nonce = '' } = link.ok ? link.claims.fields : {};
    const usable =
      link.ok &&
      (await pool.query('SELECT 1 FROM portal_password_resets WHERE nonce = $1 AND user_id::text = $2 AND used_at IS NULL AND expires_at > now()', [nonce, userId])).rowCount === 1;
    if (usable) return { userId, nonce };
    log.warn({ ip: req.ip, reason: link.ok ? 'used or expired' : link.reason }, 'password reset link refused');
    const text =
      link.ok || link.reason === 'expired'
        ? 'This link has been used already or has expired. Ask for a new one.'
        : 'This link is not valid: open the link from the mail as it was sent, or ask for a new one.';
    render(req, res, 'Choose a new password', messageBody(text, { href: '/password-reset', label: 'Ask for a new link' }), link.ok || link.reason === 'expired' ? 410 : 403);
    return undefined;
  };

  router.get('/confirm', async (req, res) => {
    if (!(await checkLink(req, res, req.query))) return;
    render(req, res, 'Choose a new password', newPasswordBody(csrfToken(req), linkParams(req.query)));
  });

  router.post('/confirm', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const link = await checkLink(req, res, body);
    if (!link) return;
    const form = newPasswordForm.safeParse(body);
    if (!form.success) return render(req, res, 'Choose a new password', newPasswordBody(csrfToken(req), linkParams(body), problems(form.error)), 400);
    const hash = await hashPassword(form.data.password);
    const changed = await inTransaction(pool, async (tx) => {
      // Using the link up and setting the password happen together; a second use finds no unused row.
      const used = await tx.query('UPDATE portal_password_resets SET used_at = now() WHERE nonce = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > now()', [link.nonce, link.userId]);
      if (used.rowCount !== 1) return false;
      await tx.query('UPDATE portal_password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL', [link.userId]);
      // A new epoch ends every session of the account (a stolen cookie stops working): the portal and the other
      // services reading its sessions (shared/src/auth) compare it on each request.
      await tx.query('UPDATE portal_users SET password_hash = $2, session_epoch = session_epoch + 1 WHERE id = $1', [link.userId, hash]);
      return true;
    });
    if (!changed) return render(req, res, 'Choose a new password', messageBody('This link has been used already. Ask for a new one.', { href: '/password-reset', label: 'Ask for a new link' }), 410);
    log.info({ userId: link.userId }, 'password reset by mailed link; every session of the account ended');
    // No session before sign-in (this browser's own, if any, ends too): the sign-in page says it from the query.
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.redirect(303, '/login?reset=1');
  });

  return router;
}
