/** Slack notifier: an incoming-webhook message with blocks, coloured by severity (green once resolved). */
import { z } from 'zod';
import type { IntegrationDefinition } from '../integration';
import { acknowledgementLine, alertLine, noticeTitle, severityOfNotice, type Notice, type NoticeContext, type Notifier } from '../notice';
import { checkError, checkHttpResponse, type NotifyResult } from '../retry';

/** A receiver's `slack:` section. The webhook URL is a secret (it carries the token): never logged. */
export const slackSchema = z.strictObject({
  webhook_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  channel: z.string().optional(),
});
export type SlackConfig = z.infer<typeof slackSchema>;

export const SLACK_COLOURS: Record<string, string> = { critical: '#d40e0d', warning: '#f2a900', info: '#439fe0', resolved: '#2eb67d' };
const MAX_LINES = 20; // Slack truncates long sections; the rest is counted, and the email has the full digest

export function slackPayload(notice: Notice, context: NoticeContext, channel?: string, now = Date.now()): Record<string, unknown> {
  const title = noticeTitle(notice);
  const lines = [...notice.firing, ...notice.resolved].map((a) => `${a.state === 'resolved' ? ':white_check_mark:' : '•'} ${alertLine(a, now)}`);
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push(`…and ${lines.length - MAX_LINES} more`);
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: shown.join('\n').slice(0, 2900) } },
  ];
  const acknowledged = acknowledgementLine(notice);
  if (acknowledged) blocks.push({ type: 'context', elements: [{ type: 'plain_text', text: acknowledged.slice(0, 2900) }] });
  if (context.ackUrl) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Acknowledge' }, url: context.ackUrl }] });
  // A mention in the top-level text notifies the on-call person in the channel.
  const mention = context.onCall?.slack ? `<@${context.onCall.slack}> ` : '';
  return { ...(channel ? { channel } : {}), text: `${mention}${title}`, attachments: [{ color: SLACK_COLOURS[severityOfNotice(notice)], blocks }] };
}

export class SlackNotifier implements Notifier {
  constructor(private readonly config: SlackConfig) {}

  async notify(notice: Notice, context: NoticeContext): Promise<NotifyResult> {
    try {
      const response = await fetch(this.config.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(slackPayload(notice, context, this.config.channel)),
        signal: AbortSignal.timeout(10_000),
      });
      return await checkHttpResponse(response, 'Slack webhook');
    } catch (e) {
      return checkError(e);
    }
  }
}

export const slackIntegration: IntegrationDefinition<'slack', SlackConfig> = {
  name: 'slack',
  schema: slackSchema,
  create: (config) => new SlackNotifier(config),
  recipient: (config, receiverName) => `Slack ${config.channel ?? `webhook of ${receiverName}`}`,
};
