/**
 * Mail to investors (statements ready, daily credits, password resets) through nodemailer, and the signed links in
 * those mails. The links are signed with the portal's session secret (each kind under its own purpose), so the
 * portal can check a link the CLI or the scheduler made.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { readSecretFile } from '@flymining/shared';
import { signLink, type LinkClaims } from './portal/signing';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
}

export interface InvestorMailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** An SMTP mailer: smtp://[user:pass@]host:port (TLS when offered) or smtps://. */
export function smtpMailer(smtpUrl: string, from: string): InvestorMailer {
  const url = new URL(smtpUrl);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error(`FLYMINING_SMTP_URL: "${url.protocol}" is not smtp: or smtps:`);
  const transport: Transporter = nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 25)),
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    // One connection reused for a month's statements instead of one per mail.
    pool: true,
    maxConnections: 2,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(message) {
      await transport.sendMail({ from, ...message });
    },
    close: () => transport.close(),
  };
}

/** FLYMINING_SMTP_URL and FLYMINING_BILLING_MAIL_FROM; undefined when no SMTP server is set. */
export function mailerFromEnv(env: NodeJS.ProcessEnv = process.env): InvestorMailer | undefined {
  if (!env.FLYMINING_SMTP_URL) return undefined;
  return smtpMailer(env.FLYMINING_SMTP_URL, env.FLYMINING_BILLING_MAIL_FROM || 'FlyMining <statements@flymining.local>');
}

/** Where investors reach the portal and the secret its links are signed with. */
export interface PortalLinks {
  baseUrl: string;
  secret: string;
}

/** A full URL to `path` on the portal carrying a signed link. */
export function signedUrl(links: PortalLinks, path: string, purpose: string, claims: LinkClaims): string {
  return `${links.baseUrl.replace(/\/+$/, '')}${path}?${signLink(links.secret, purpose, claims).toString()}`;
}

/** FLYMINING_PORTAL_URL and the portal's session secret (FLYMINING_PORTAL_SESSION_SECRET_FILE or ..._SECRET). */
export function portalLinksFromEnv(env: NodeJS.ProcessEnv = process.env): PortalLinks {
  const baseUrl = env.FLYMINING_PORTAL_URL;
  if (!baseUrl || !/^https?:\/\//.test(baseUrl)) throw new Error('FLYMINING_PORTAL_URL: set it to the portal as investors reach it (https://...) so mailed links work');
  const secret = env.FLYMINING_PORTAL_SESSION_SECRET_FILE
    ? readSecretFile(env.FLYMINING_PORTAL_SESSION_SECRET_FILE, 'FLYMINING_PORTAL_SESSION_SECRET_FILE')
    : env.FLYMINING_PORTAL_SESSION_SECRET;
  if (!secret || secret.length < 32) throw new Error('FLYMINING_PORTAL_SESSION_SECRET_FILE: the portal\'s secret (at least 32 characters) signs mailed links');
  return { baseUrl, secret };
}
