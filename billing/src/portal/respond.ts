/** Answering with a page: render (nonce, CSRF token, signed-in user, the one-time flash) and setting the flash. */
import type { Request, Response } from 'express';
import { csrfToken } from './csrf';
import { page, type PageChrome, type SafeHtml } from './html';

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
