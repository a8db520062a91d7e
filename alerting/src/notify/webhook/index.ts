/**
 * Generic webhook notifier: POSTs a JSON body shaped like Alertmanager's webhook payload (version "4"), so tools
 * that take Alertmanager webhooks read it. Optionally with a bearer token and an HMAC signature of the body.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { durationField } from '../../duration';
import type { Alert } from '../../types';
import type { IntegrationDefinition } from '../integration';
import type { Notice, NoticeContext, Notifier } from '../notice';
import { checkError, checkHttpResponse, type NotifyResult } from '../retry';
import { readSecretField } from '../secret';

export const SIGNATURE_HEADER = 'X-FlyMining-Signature';
export const TIMESTAMP_HEADER = 'X-FlyMining-Timestamp';

/**
 * A receiver's `webhook:` section. The URL comes from staff config, yet only http(s) is taken (no file:, no
 * other schemes a fetch might follow). The token and the HMAC key are secrets read from files.
 */
export const webhookSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .refine((u) => !new URL(u).username && !new URL(u).password, 'no credentials in the URL: use bearer_token_file'),
    bearer_token_file: z.string().min(1).optional(),
    hmac_secret_file: z.string().min(1).optional(),
    /** Alerts beyond this many are left out of the body and counted in truncatedAlerts. */
    max_alerts: z.number().int().min(1).max(10_000).default(100),
    timeout: durationField.default(10_000),
  })
  .transform((section, ctx) => {
    const bearer = section.bearer_token_file === undefined ? undefined : readSecretField(ctx, section.bearer_token_file, 'bearer_token_file');
    const hmac = section.hmac_secret_file === undefined ? undefined : readSecretField(ctx, section.hmac_secret_file, 'hmac_secret_file');
    if ((section.bearer_token_file !== undefined && !bearer) || (section.hmac_secret_file !== undefined && !hmac)) return z.NEVER;
    return { url: section.url, max_alerts: section.max_alerts, timeout: section.timeout, bearer_token: bearer, hmac_secret: hmac };
  });
export type WebhookConfig = z.infer<typeof webhookSchema>;

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Alertmanager's "zero time" while the alert fires. */
  endsAt: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: '4';
  status: 'firing' | 'resolved';
  receiver: string;
  groupKey: string;
  truncatedAlerts: number;
  commonLabels: Record<string, string>;
  alerts: WebhookAlert[];
  ackUrl?: string;
  onCall?: NoticeContext['onCall'];
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function webhookAlert(a: Alert): WebhookAlert {
  return {
    status: a.state === 'resolved' ? 'resolved' : 'firing',
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    startsAt: new Date(a.firedAt ?? a.activeAt).toISOString(),
    endsAt: a.state === 'resolved' && a.resolvedAt !== undefined ? new Date(a.resolvedAt).toISOString() : ZERO_TIME,
    fingerprint: a.fingerprint,
  };
}

export function webhookPayload(notice: Notice, context: NoticeContext, maxAlerts: number): WebhookPayload {
  const all = [...notice.firing, ...notice.resolved];
  const common = Object.fromEntries(Object.entries(all[0]?.labels ?? {}).filter(([name, value]) => all.every((a) => a.labels[name] === value)));
  return {
    version: '4',
    status: notice.firing.length > 0 ? 'firing' : 'resolved',
    receiver: notice.receiver.name,
    groupKey: notice.group.key,
    truncatedAlerts: Math.max(0, all.length - maxAlerts),
    commonLabels: common,
    alerts: all.slice(0, maxAlerts).map(webhookAlert),
    ...(context.ackUrl ? { ackUrl: context.ackUrl } : {}),
    ...(context.onCall ? { onCall: context.onCall } : {}),
  };
}

/**
 * The signature header's value: HMAC-SHA256 over "<timestamp>.<raw body>" (the timestamp in Unix seconds, as
 * sent in X-FlyMining-Timestamp), hex. Signing the timestamp lets a receiver refuse an old request replayed.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookNotifier implements Notifier {
  constructor(private readonly config: WebhookConfig) {}

  async notify(notice: Notice, context: NoticeContext): Promise<NotifyResult> {
    const body = JSON.stringify(webhookPayload(notice, context, this.config.max_alerts));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'FlyMining-Alerting' };
    if (this.config.bearer_token) headers.authorization = `Bearer ${this.config.bearer_token.reveal()}`;
    if (this.config.hmac_secret) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      headers[TIMESTAMP_HEADER] = timestamp;
      headers[SIGNATURE_HEADER] = webhookSignature(this.config.hmac_secret.reveal(), timestamp, body);
    }
    try {
      // No redirects: a 3xx would send the token and the alerts to a place the config does not name.
      const response = await fetch(this.config.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.config.timeout) });
      return await checkHttpResponse(response, 'Webhook');
    } catch (e) {
      return checkError(e);
    }
  }
}

export const webhookIntegration: IntegrationDefinition<'webhook', WebhookConfig> = {
  name: 'webhook',
  schema: webhookSchema,
  create: (config) => new WebhookNotifier(config),
  recipient: (config) => `webhook ${new URL(config.url).origin}`,
};
