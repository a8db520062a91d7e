/**
 * Email notifier (nodemailer over SMTP): text and HTML, the subject naming site, container and fault. Many alerts
 * in one notice become a digest: a table sorted by place instead of one paragraph each.
 */
import { escapeHtml } from '@flymining/shared';
import nodemailer, { type Transporter } from 'nodemailer';
import { z } from 'zod';
import type { Alert } from '../../types';
import type { IntegrationDefinition } from '../integration';
import { acknowledgementLine, alertLine, noticeTitle, onCallLine, slotText, type Notice, type NoticeContext, type Notifier } from '../notice';
import { DELIVERED, checkError, type NotifyResult } from '../retry';

/** A receiver's `email:` section. */
export const emailSchema = z.strictObject({
  to: z.array(z.email()).min(1),
  from: z.string().min(3).default('FlyMining alerts <alerts@flymining.local>'),
  smarthost: z.url({ protocol: /^smtps?$/, error: 'must be smtp://host:port or smtps://host:port' }),
  /** More alerts than this in one notice become a digest: a table instead of one section each. */
  digest_over: z.number().int().min(1).default(5),
});
export type EmailConfig = z.infer<typeof emailSchema>;

const byPlace = (a: Alert, b: Alert): number =>
  (a.labels.container ?? '').localeCompare(b.labels.container ?? '') || (a.labels.miner ?? '').localeCompare(b.labels.miner ?? '', 'en', { numeric: true });

export function renderEmail(notice: Notice, context: NoticeContext, digestOver: number, now = Date.now()): { subject: string; text: string; html: string } {
  const subject = `${context.onCall && context.onCall.level > 0 ? '[ESCALATED] ' : ''}${noticeTitle(notice)}`;
  const sections: Array<[string, Alert[]]> = [
    ['Firing', [...notice.firing].sort(byPlace)],
    ['Resolved', [...notice.resolved].sort(byPlace)],
  ];
  const text: string[] = [subject, ''];
  const html: string[] = [`<h2 style="font-family:sans-serif">${escapeHtml(subject)}</h2>`];
  for (const [title, alerts] of sections) {
    if (alerts.length === 0) continue;
    text.push(`${title} (${alerts.length}):`);
    html.push(`<h3 style="font-family:sans-serif">${title} (${alerts.length})</h3>`);
    if (alerts.length > digestOver) {
      html.push('<table border="1" cellpadding="4" style="border-collapse:collapse;font-family:sans-serif"><tr><th>severity</th><th>fault</th><th>place</th><th>since</th></tr>');
      for (const a of alerts) {
        const since = new Date(a.firedAt ?? a.activeAt).toISOString();
        text.push(`  ${a.labels.severity ?? ''}\t${a.labels.fault ?? a.labels.alertname}\t${slotText(a) || a.labels.container}\t${since}`);
        html.push(`<tr><td>${escapeHtml(a.labels.severity ?? '')}</td><td>${escapeHtml(a.labels.fault ?? a.labels.alertname ?? '')}</td><td>${escapeHtml(slotText(a) || a.labels.container || '')}</td><td>${since}</td></tr>`);
      }
      html.push('</table>');
    } else {
      html.push('<ul style="font-family:sans-serif">');
      for (const a of alerts) {
        text.push(`  - ${alertLine(a, now)}`);
        html.push(`<li>${escapeHtml(alertLine(a, now))}</li>`);
      }
      html.push('</ul>');
    }
    text.push('');
  }
  // Escalated: say why this person gets it (the first mail went to somebody else).
  const addressed = context.onCall && `${onCallLine(context.onCall)}${context.onCall.level > 0 ? ': nobody acknowledged this page in time.' : '.'}`;
  if (addressed) {
    text.push(addressed);
    html.push(`<p style="font-family:sans-serif">${escapeHtml(addressed)}</p>`);
  }
  const acknowledged = acknowledgementLine(notice);
  if (acknowledged) {
    text.push(acknowledged);
    html.push(`<p style="font-family:sans-serif">${escapeHtml(acknowledged)}</p>`);
  }
  if (context.ackUrl) {
    text.push(`Acknowledge (stops reminders until this group changes): ${context.ackUrl}`);
    html.push(`<p style="font-family:sans-serif"><a href="${escapeHtml(context.ackUrl)}">Acknowledge</a> — stops reminders until this group changes.</p>`);
  }
  return { subject, text: text.join('\n'), html: html.join('\n') };
}

export class EmailNotifier implements Notifier {
  private readonly transport: Transporter;

  constructor(private readonly config: EmailConfig) {
    // Plain SMTP on a local relay is the common farm setup; TLS is used when the server offers it.
    const url = new URL(config.smarthost);
    this.transport = nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 25)),
      secure: url.protocol === 'smtps:',
      auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  /** An SMTP 5xx (unknown mailbox, relaying refused) is permanent; a 4xx (greylisting, mailbox busy) is retried. */
  async notify(notice: Notice, context: NoticeContext): Promise<NotifyResult> {
    const mail = renderEmail(notice, context, this.config.digest_over);
    try {
      // A page for the on-call rota goes to that person when the rota has their address.
      await this.transport.sendMail({ from: this.config.from, to: context.onCall?.email ?? this.config.to, ...mail });
      return DELIVERED;
    } catch (e) {
      return checkError(e);
    }
  }

  close(): void {
    this.transport.close();
  }
}

export const emailIntegration: IntegrationDefinition<'email', EmailConfig> = {
  name: 'email',
  schema: emailSchema,
  create: (config) => new EmailNotifier(config),
  recipient: (config) => config.to.join(', '),
};
