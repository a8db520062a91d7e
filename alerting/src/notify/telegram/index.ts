/**
 * Telegram notifier: one Bot API sendMessage per notice, HTML text with an "Acknowledge" button. A page routed to
 * the on-call rota goes to that person's chat with the bot instead of the configured chat.
 */
import { escapeHtml } from '@flymining/shared';
import { z } from 'zod';
import type { IntegrationDefinition } from '../integration';
import { acknowledgementLine, alertLine, noticeTitle, onCallLine, type Notice, type NoticeContext, type Notifier } from '../notice';
import { DELIVERED, checkError, isRetryableStatus, type NotifyResult } from '../retry';
import { readSecretField } from '../secret';

export const TELEGRAM_TOKEN_ENV = 'FLYMINING_TELEGRAM_BOT_TOKEN_FILE';
/** Telegram refuses longer texts (sendMessage: 1-4096 characters). */
export const TELEGRAM_MAX_TEXT = 4096;
const BOT_TOKEN = /^\d+:[A-Za-z0-9_-]+$/;
const CHAT_ID = /^(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,31})$/;

/**
 * A receiver's `telegram:` section. The bot token is a secret: it comes from bot_token_file or, without one, from
 * the file named by FLYMINING_TELEGRAM_BOT_TOKEN_FILE, and is only ever put into the request path.
 */
export const telegramSchema = z
  .strictObject({
    bot_token_file: z.string().min(1).optional(),
    chat_id: z.union([z.number().int(), z.string().regex(CHAT_ID, 'a chat id is a number (e.g. -1001234567890) or @channelname')]).transform(String),
    api_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://api.telegram.org'),
    parse_mode: z.literal('HTML').default('HTML'),
  })
  .transform((section, ctx) => {
    const file = section.bot_token_file ?? process.env[TELEGRAM_TOKEN_ENV];
    if (file === undefined) {
      ctx.addIssue({ code: 'custom', message: `give bot_token_file (a file holding the bot token) or set ${TELEGRAM_TOKEN_ENV}`, path: ['bot_token_file'] });
      return z.NEVER;
    }
    const token = readSecretField(ctx, file, 'bot_token_file', section.bot_token_file === undefined ? TELEGRAM_TOKEN_ENV : 'bot_token_file');
    if (token === undefined) return z.NEVER;
    if (!BOT_TOKEN.test(token.reveal())) {
      ctx.addIssue({ code: 'custom', message: `${file} does not hold a bot token (digits, a colon, then letters, digits, _ or -, as BotFather gives it)`, path: ['bot_token_file'] });
      return z.NEVER;
    }
    const { bot_token_file: _file, ...rest } = section;
    return { ...rest, api_url: rest.api_url.replace(/\/+$/, ''), bot_token: token };
  });
export type TelegramConfig = z.infer<typeof telegramSchema>;

/**
 * The message text (HTML): who it is for, the title in bold, one line per alert, the last acknowledgement. Alert
 * lines that would pass Telegram's limit are left out and counted in a last line.
 */
export function telegramText(notice: Notice, context: NoticeContext, now = Date.now()): string {
  const head: string[] = [];
  if (context.onCall) head.push(`<b>${escapeHtml(onCallLine(context.onCall))}</b>`);
  head.push(`<b>${escapeHtml(noticeTitle(notice))}</b>`, '');
  const acknowledged = acknowledgementLine(notice);
  const tail = acknowledged ? ['', `<i>${escapeHtml(acknowledged)}</i>`] : [];
  const lines = [...notice.firing, ...notice.resolved].map((a) => escapeHtml(`${a.state === 'resolved' ? '✅' : '•'} ${alertLine(a, now)}`));
  const more = (hidden: number): string => `…and ${hidden} more alerts`;
  // Length of the text with the first n lines (each line adds itself and a newline), plus the count of the rest.
  const fixed = [...head, ...tail].join('\n').length;
  const lengthWith = (n: number, linesLength: number): number => fixed + linesLength + (n < lines.length ? more(lines.length - n).length + 1 : 0);
  const allLength = lines.reduce((sum, l) => sum + l.length + 1, 0);
  let shown = lines.length;
  if (lengthWith(lines.length, allLength) > TELEGRAM_MAX_TEXT) {
    let used = 0;
    shown = 0;
    while (shown + 1 < lines.length && lengthWith(shown + 1, used + lines[shown]!.length + 1) <= TELEGRAM_MAX_TEXT) used += lines[shown++]!.length + 1;
  }
  const body = lines.slice(0, shown);
  if (shown < lines.length) body.push(more(lines.length - shown));
  return [...head, ...body, ...tail].join('\n').slice(0, TELEGRAM_MAX_TEXT);
}

/** The sendMessage request body. */
export function telegramMessage(notice: Notice, context: NoticeContext, chatId: string, now = Date.now()): Record<string, unknown> {
  return {
    chat_id: context.onCall?.telegram ?? chatId,
    text: telegramText(notice, context, now),
    parse_mode: 'HTML',
    disable_web_page_preview: true,
    ...(context.ackUrl ? { reply_markup: { inline_keyboard: [[{ text: 'Acknowledge', url: context.ackUrl }]] } } : {}),
  };
}

/** What the Bot API answers (https://core.telegram.org/bots/api#making-requests). */
const botAnswer = z.object({
  ok: z.boolean(),
  error_code: z.number().int().optional(),
  description: z.string().optional(),
  parameters: z.object({ retry_after: z.number().optional() }).optional(),
});

export class TelegramNotifier implements Notifier {
  /** Telegram's flood control: after a 429 nothing is sent before this time (its retry_after), only counted as failed. */
  private notBefore = 0;

  constructor(private readonly config: TelegramConfig) {}

  async notify(notice: Notice, context: NoticeContext): Promise<NotifyResult> {
    const wait = this.notBefore - Date.now();
    if (wait > 0) return { ok: false, retry: true, reason: `Telegram asked to wait (retry_after), ${Math.ceil(wait / 1000)} s left` };
    const token = this.config.bot_token.reveal();
    let result: NotifyResult;
    try {
      const response = await fetch(`${this.config.api_url}/bot${token}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(telegramMessage(notice, context, this.config.chat_id)),
        signal: AbortSignal.timeout(10_000),
      });
      result = this.answerOf(response.status, await response.text());
    } catch (e) {
      result = checkError(e);
    }
    // An error message or a proxy's error page may quote the request URL, which holds the token.
    return result.ok ? result : { ...result, reason: result.reason.split(token).join('<token>') };
  }

  private answerOf(status: number, body: string): NotifyResult {
    let parsed: z.infer<typeof botAnswer> | undefined;
    try {
      const result = botAnswer.safeParse(JSON.parse(body));
      if (result.success) parsed = result.data;
    } catch {
      // not JSON: a proxy's error page; the HTTP status decides
    }
    if (parsed?.ok && status < 300) return DELIVERED;
    const code = parsed?.error_code ?? status;
    const retryAfter = parsed?.parameters?.retry_after;
    if (code === 429 && retryAfter !== undefined) this.notBefore = Date.now() + retryAfter * 1000;
    const description = parsed?.description ?? body.slice(0, 200);
    return { ok: false, retry: isRetryableStatus(code), reason: `Telegram answered ${code}${description ? `: ${description}` : ''}${retryAfter !== undefined ? ` (retry after ${retryAfter} s)` : ''}` };
  }
}

export const telegramIntegration: IntegrationDefinition<'telegram', TelegramConfig> = {
  name: 'telegram',
  schema: telegramSchema,
  create: (config) => new TelegramNotifier(config),
  recipient: (config) => `Telegram chat ${config.chat_id}`,
};
