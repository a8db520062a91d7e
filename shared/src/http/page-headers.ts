/**
 * The security headers of the HTML pages the center serves (investor portal, TV wall): a fresh CSP nonce per
 * response in res.locals.cspNonce, and helmet with a strict CSP (nothing by default, the page's own <style> by that
 * nonce, no framing, no <base>), frameguard deny and same-origin referrers. What differs between the pages is given.
 * Not exported from the package index (that would pull helmet towards the browser bundle): import it by path.
 */
import { randomBytes } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import helmet from 'helmet';

export interface PageHeaderOptions {
  /** CSP script-src, e.g. ["'none'"] for a page without scripts or ["'self'"] for this server's bundle. */
  scriptSrc: string[];
  /** CSP connect-src; none when absent (default-src 'none' applies). */
  connectSrc?: string[];
  /** CSP img-src. */
  imgSrc: string[];
  /** CSP font-src; none when absent (default-src 'none' applies). */
  fontSrc?: string[];
  /** CSP form-action. */
  formAction: string[];
  /** Strict-Transport-Security, or false to leave it to a TLS proxy in front. */
  hsts: false | { maxAge: number; includeSubDomains: boolean };
}

/** The middleware, in order: the nonce, then helmet. Use with app.use(pageHeaders(...)). */
export function pageHeaders(options: PageHeaderOptions): RequestHandler[] {
  const nonce: RequestHandler = (_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString('base64');
    next();
  };
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: options.scriptSrc,
        styleSrc: [(_req, res) => `'nonce-${String((res as Response).locals.cspNonce)}'`],
        ...(options.connectSrc && { connectSrc: options.connectSrc }),
        imgSrc: options.imgSrc,
        ...(options.fontSrc && { fontSrc: options.fontSrc }),
        formAction: options.formAction,
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    strictTransportSecurity: options.hsts,
    referrerPolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' },
  });
  return [nonce, headers];
}
