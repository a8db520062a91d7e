/**
 * The Telegram receiver against a local HTTP server speaking the Bot API (POST /bot<token>/sendMessage, answers
 * {ok, result} or {ok: false, error_code, description, parameters.retry_after}), driven through the real service:
 * a fault arrives as an HTML message with an Acknowledge button; flood control (429 + retry_after) is waited out
 * and the message delivered; a blocked bot (403) is tried once; the token never reaches a log line or Redis.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import pino from 'pino';
import { refusalProblems } from '../../shared/test/problems';
import { ConfigError, parseConfig } from '../src/config';
import type { Notice } from '../src/notify/notice';
import { slackPayload } from '../src/notify/slack';
import { EmailNotifier } from '../src/notify/email';
import { TELEGRAM_MAX_TEXT, TelegramNotifier, telegramSchema } from '../src/notify/telegram';
import { AlertingService } from '../src/service';
import type { Alert } from '../src/types';
import { config, evaluationCycles, fault, noticeCount, secretFileWith, freePort, linkSecretFile, raise, startMailbox, startOwnRedis, waitFor, type OwnRedis } from './helpers';

interface BotRequest {
  path: string;
  at: number;
  body: Record<string, unknown>;
}

/** A Bot API of our own: answers from `answers` in turn (then ok), and 404 for a path without the right token. */
interface BotApi {
  url: string;
  requests: BotRequest[];
  answers: Array<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

async function startBotApi(token: string): Promise<BotApi> {
  const api: BotApi = { url: '', requests: [], answers: [], close: async () => undefined };
  let messageId = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const reply = (status: number, body: Record<string, unknown>): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'POST' || req.url !== `/bot${token}/sendMessage`) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
      api.requests.push({ path: req.url, at: Date.now(), body: JSON.parse(raw) as Record<string, unknown> });
      const answer = api.answers.shift();
      if (answer) return reply(answer.status, answer.body);
      reply(200, { ok: true, result: { message_id: ++messageId, chat: { id: Number((JSON.parse(raw) as { chat_id: string }).chat_id) } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () => new Promise((resolve) => server.close(() => resolve()));
  return api;
}


function problemsOf(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  return refusalProblems(() => parseConfig(yaml, 'alerting.yaml', env), ConfigError, 'the config');
}

/** A firing alert as the pipeline makes it, for notices built by hand. */
function alertOf(i: number, message = `fan ${i} stopped`): Alert {
  return {
    fingerprint: `fp${i}`,
    labels: { alertname: 'FanFailure', severity: 'critical', site: 'north-1', container: 'C01', rack: 'R1', shelf: 'S1', slot: String(i), miner: `C01-R1-S1-${i}`, fault: 'FAN_STOPPED' },
    annotations: { message },
    state: 'firing',
    activeAt: Date.now() - 120_000,
    firedAt: Date.now() - 120_000,
    flaps: 0,
  };
}

function noticeOf(alerts: Alert[], integration: Notice['integration'] = 'telegram'): Notice {
  return {
    logKey: `oncall/${integration}/g`,
    receiver: { name: 'oncall' },
    integration,
    group: { key: '{}:{container="C01"}', id: 'g' },
    firing: alerts,
    resolved: [],
    firingHash: 'h',
    repeat: false,
    lastSentAt: 0,
    quiet: false,
    kept: [],
  };
}

const TOKEN = `${1_000_000 + Math.floor(Math.random() * 1_000_000)}:${randomBytes(18).toString('base64url')}`;
const tokenFile = secretFileWith(TOKEN);

describe('Telegram receiver through the service', () => {
  let own: OwnRedis;
  let redis: Redis;
  let bot: BotApi;
  let service: AlertingService | undefined;
  /** Everything the service logged in this test, at debug level. */
  const logged: string[] = [];

  /** The test's log has these messages (with the reasons of failures), and no part of the token. */
  function expectLogged(...messages: string[]): void {
    const log = logged.join('');
    for (const m of messages) expect(log).toContain(m);
    expect(log).not.toContain(TOKEN.split(':')[1]);
  }
  const linkSecret = linkSecretFile();

  async function startService(apiUrl = bot.url): Promise<AlertingService> {
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) });
    const started = new AlertingService(
      config(`
redis: ${own.url}
evaluation_interval: 100ms
external_url: https://alerts.farm.example
link_secret_file: ${linkSecret}
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: oncall, group_by: [site, container, alertname], group_wait: 100ms, group_interval: 300ms, repeat_interval: 1h }
receivers:
  - name: oncall
    telegram: { bot_token_file: ${tokenFile}, chat_id: -1001234567890, api_url: '${apiUrl}' }
`),
      logger,
      { retryBaseMs: 100 },
    );
    await started.start();
    return started;
  }

  const notices = (outcome: 'sent' | 'failed' | 'rejected'): Promise<number> => noticeCount(service!, outcome);
  const cycles = (n: number): Promise<void> => evaluationCycles(service!, n);

  beforeAll(async () => {
    own = await startOwnRedis();
    redis = new Redis(own.url);
    bot = await startBotApi(TOKEN);
  });

  beforeEach(async () => {
    await redis.flushdb();
    bot.requests.length = 0;
    bot.answers.length = 0;
    logged.length = 0;
  });

  afterEach(async () => {
    // Whatever a test made the service write to Redis (log entries, retry reasons) must not hold the token either.
    const stored = JSON.stringify([await redis.hgetall('flymining:alerting:nflog'), await redis.hgetall('flymining:alerting:retry')]);
    expect(stored).not.toContain(TOKEN.split(':')[1]);
    await service?.stop();
    service = undefined;
  });

  afterAll(async () => {
    redis.disconnect();
    await bot.close();
    await own.stop();
  });

  test('a raised fault arrives as an HTML message to the configured chat, with an Acknowledge button', async () => {
    service = await startService();
    await raise(redis, [{ ...fault('C03-R1-S1-4', 'FAN_STOPPED', 'C03'), message: 'fan <1> & "2" stopped' }]);
    await waitFor(() => bot.requests.length === 1, 5000, 'the Telegram message');
    const { body } = bot.requests[0]!;
    expect(body).toMatchObject({ chat_id: '-1001234567890', parse_mode: 'HTML', disable_web_page_preview: true });
    expect(body.text).toMatch(/^<b>\[FIRING:1\] north-1 container C03 FAN_STOPPED: rack R1 shelf S1 slot 4 fan 1 \(C03-R1-S1-4\)<\/b>\n/);
    expect(body.text).toContain('fan &lt;1&gt; &amp; &quot;2&quot; stopped');
    const keyboard = (body.reply_markup as { inline_keyboard: Array<Array<{ text: string; url: string }>> }).inline_keyboard;
    expect(keyboard).toEqual([[{ text: 'Acknowledge', url: expect.stringMatching(/^https:\/\/alerts\.farm\.example\/.+/) }]]);
    await waitFor(async () => (await notices('sent')) === 1, 5000, 'the notice counted as sent');
  });

  test('a 429 with retry_after is waited out, then the message is delivered once', async () => {
    bot.answers.push({ status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } } });
    service = await startService();
    await raise(redis, [fault('C05-R1-S1-1', 'FAN_STOPPED', 'C05')]);
    await waitFor(() => bot.requests.length === 2, 10_000, 'the request after the 429');
    // The dispatcher's own back-off starts at 100 ms; Telegram's retry_after (1 s) wins.
    expect(bot.requests[1]!.at - bot.requests[0]!.at).toBeGreaterThanOrEqual(1000);
    await waitFor(async () => (await notices('sent')) === 1, 5000, 'the notice counted as sent');
    await cycles(5);
    expect(bot.requests).toHaveLength(2);
    expect(await notices('rejected')).toBe(0);
    expect(String(bot.requests[1]!.body.text)).toContain('C05-R1-S1-1');
    expectLogged('kept for retry', 'Telegram answered 429: Too Many Requests: retry after 1', 'notice sent');
  });

  test('a 403 "bot was blocked by the user" is tried once and recorded as failed with the description', async () => {
    bot.answers.push(...Array.from({ length: 20 }, () => ({ status: 403, body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' } })));
    service = await startService();
    await raise(redis, [fault('C07-R1-S1-1', 'FAN_STOPPED', 'C07')]);
    await waitFor(async () => (await notices('rejected')) === 1, 5000, 'the rejection');
    await cycles(15); // retries would start after 100 ms and double: several would fall in 15 cycles
    expect(bot.requests).toHaveLength(1);
    const entries = Object.values(await redis.hgetall('flymining:alerting:nflog')).map((v) => JSON.parse(v) as { failed?: string });
    expect(entries).toEqual([expect.objectContaining({ failed: 'Telegram answered 403: Forbidden: bot was blocked by the user' })]);
    expectLogged('notice rejected by the receiver', 'bot was blocked by the user');
  });

  test('an unreachable Bot API is retried and its error logged without the token', async () => {
    const closedPort = await freePort();
    service = await startService(`http://127.0.0.1:${closedPort}`);
    await raise(redis, [fault('C09-R1-S1-1', 'FAN_STOPPED', 'C09')]);
    await waitFor(async () => (await notices('failed')) >= 2, 10_000, 'two failed attempts');
    expect(await notices('rejected')).toBe(0);
    expectLogged('kept for retry', 'fetch failed');
  });
});

describe('Telegram notifier', () => {
  let bot: BotApi;
  const telegram = (chatId = '-100777'): TelegramNotifier =>
    new TelegramNotifier(telegramSchema.parse({ bot_token_file: tokenFile, chat_id: chatId, api_url: bot.url }));

  beforeAll(async () => {
    bot = await startBotApi(TOKEN);
  });

  beforeEach(() => {
    bot.requests.length = 0;
  });

  afterAll(() => bot.close());

  test('a notice of 300 alerts fits in 4096 characters and counts the alerts it leaves out', async () => {
    const alerts = Array.from({ length: 300 }, (_, i) => alertOf(i + 1, `fan ${i + 1} stopped <rpm 0>`));
    expect(await telegram().notify(noticeOf(alerts), {})).toEqual({ ok: true });
    const text = String(bot.requests[0]!.body.text);
    expect(text.length).toBeLessThanOrEqual(TELEGRAM_MAX_TEXT);
    expect(text.length).toBeGreaterThan(TELEGRAM_MAX_TEXT - 200); // filled, not cut short
    const shown = text.split('\n').filter((l) => l.startsWith('• ')).length;
    expect(text).toMatch(new RegExp(`\\n…and ${300 - shown} more alerts$`));
    expect(shown).toBeGreaterThan(10);
    expect(text).not.toContain('<rpm');
  });

  test('a page for the on-call person goes to their chat and says so; an escalation names the level', async () => {
    await telegram().notify(noticeOf([alertOf(1)]), { onCall: { name: 'Ana <night>', level: 0, telegram: '4242' } });
    await telegram().notify(noticeOf([alertOf(1)]), { onCall: { name: 'Bo', level: 2, telegram: '5353' } });
    await telegram().notify(noticeOf([alertOf(1)]), { onCall: { name: 'Cy', level: 0 } }); // no Telegram chat: the configured one
    expect(bot.requests.map((r) => [r.body.chat_id, String(r.body.text).split('\n')[0]])).toEqual([
      ['4242', '<b>On call: Ana &lt;night&gt;</b>'],
      ['5353', '<b>Escalated to Bo (level 2)</b>'],
      ['-100777', '<b>On call: Cy</b>'],
    ]);
  });

  test('a proxy error page quoting the request path is retried, and its reason carries no token', async () => {
    const proxy = http.createServer((req, res) => void res.writeHead(502).end(`<html>bad gateway for ${req.url}</html>`));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const notifier = new TelegramNotifier(telegramSchema.parse({ bot_token_file: tokenFile, chat_id: 1, api_url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` }));
      expect(await notifier.notify(noticeOf([alertOf(1)]), {})).toEqual({ ok: false, retry: true, reason: 'Telegram answered 502: <html>bad gateway for /bot<token>/sendMessage</html>' });
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test('config: the token comes from bot_token_file or FLYMINING_TELEGRAM_BOT_TOKEN_FILE; errors name the field, never the token', () => {
    const yaml = (section: string): string => `route: { receiver: oncall }\nreceivers:\n  - name: oncall\n    telegram: ${section}\n`;
    // Read from the process environment (what loadConfig passes): parseConfig's env argument does not reach receiver sections.
    process.env.FLYMINING_TELEGRAM_BOT_TOKEN_FILE = tokenFile;
    let fromEnv: ReturnType<typeof parseConfig>;
    try {
      fromEnv = parseConfig(yaml('{ chat_id: 42 }'), 'alerting.yaml');
    } finally {
      delete process.env.FLYMINING_TELEGRAM_BOT_TOKEN_FILE;
    }
    expect(fromEnv.receivers[0]!.telegram).toMatchObject({ chat_id: '42', api_url: 'https://api.telegram.org' });
    expect(JSON.stringify(fromEnv)).not.toContain(TOKEN);

    const notAToken = secretFileWith('hunter2-not-a-token');
    expect(problemsOf(yaml(`{ bot_token_file: ${notAToken}, chat_id: 42 }`))).toEqual([
      expect.stringMatching(/^alerting\.yaml:4:\d+: receivers\[0\]\.telegram\.bot_token_file: .* does not hold a bot token/),
    ]);
    expect(problemsOf(yaml(`{ bot_token_file: ${notAToken}, chat_id: 42 }`)).join('\n')).not.toContain('hunter2');
    expect(problemsOf(yaml('{ bot_token_file: /nonexistent/bot.token, chat_id: 42 }'))).toEqual([expect.stringMatching(/bot_token_file: .*cannot read \/nonexistent\/bot\.token \(ENOENT\)/)]);
    expect(problemsOf(yaml('{ chat_id: 42 }'))).toEqual([expect.stringMatching(/telegram\.bot_token_file: give bot_token_file .* or set FLYMINING_TELEGRAM_BOT_TOKEN_FILE/)]);
    expect(problemsOf(yaml(`{ bot_token_file: ${tokenFile}, chat_id: 'general chat' }`))).toEqual([expect.stringMatching(/telegram\.chat_id: /)]);
    expect(problemsOf(yaml(`{ bot_token_file: ${tokenFile}, chat_id: 42, api_url: 'file:///etc/passwd' }`))).toEqual([expect.stringMatching(/telegram\.api_url: must be an http\(s\) URL/)]);
  });
});

describe('on-call addressing of email and Slack', () => {
  test('email goes to the on-call person\'s address instead of the configured one', async () => {
    const mailbox = await startMailbox();
    const email = new EmailNotifier({ to: ['team@farm.example'], from: 'alerts@farm.example', smarthost: mailbox.url, digest_over: 5 });
    try {
      expect(await email.notify(noticeOf([alertOf(1)], 'email'), { onCall: { name: 'Ana', level: 0, email: 'ana@farm.example' } })).toEqual({ ok: true });
      expect(await email.notify(noticeOf([alertOf(2)], 'email'), { onCall: { name: 'Bo', level: 1 } })).toEqual({ ok: true });
      await waitFor(() => mailbox.mails.length === 2, 5000, 'two mails');
      const recipients = mailbox.mails.map((m) => (Array.isArray(m.to) ? m.to : [m.to]).flatMap((a) => a?.value.map((v) => v.address)));
      expect(recipients.sort()).toEqual([['ana@farm.example'], ['team@farm.example']]);
    } finally {
      email.close();
      await mailbox.close();
    }
  });

  test('Slack mentions the on-call person at the start of the message', () => {
    expect(slackPayload(noticeOf([alertOf(1)], 'slack'), { onCall: { name: 'Ana', level: 0, slack: 'U024BE7LH' } }).text).toMatch(/^<@U024BE7LH> \[FIRING:1\]/);
    expect(slackPayload(noticeOf([alertOf(1)], 'slack'), { onCall: { name: 'Bo', level: 0 } }).text).toMatch(/^\[FIRING:1\]/);
  });
});
