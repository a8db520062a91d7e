/** Slack notifier: an incoming-webhook message with blocks, coloured by severity (green once resolved). */
import type { ReceiverConfig } from '../../config';
import type { Notice } from '../../pipeline/dedup';
import { acknowledgementLine, alertLine, noticeTitle, severityOfNotice, type NoticeContext, type Notifier } from '../notice';

type SlackConfig = NonNullable<ReceiverConfig['slack']>;

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
  return { ...(channel ? { channel } : {}), text: title, attachments: [{ color: SLACK_COLOURS[severityOfNotice(notice)], blocks }] };
}

export class SlackNotifier implements Notifier {
  constructor(private readonly config: SlackConfig) {}

  async send(notice: Notice, context: NoticeContext): Promise<void> {
    const response = await fetch(this.config.webhook_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(slackPayload(notice, context, this.config.channel)),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`Slack webhook answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  }
}
