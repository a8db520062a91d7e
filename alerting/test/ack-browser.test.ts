/**
 * Issue #10, acknowledge links in a real browser (Debian's chromium through playwright-core): a page on another
 * site that auto-submits a form to the acknowledge URL, even with the link's own fields, is refused; the mailed
 * link opened and its button pressed acknowledges, naming the receiver address.
 */
import http from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { createApi } from '../src/api';
import { freePort, linkSecretFile, raise, redisUrl, startServiceUnderTest, testAuth, waitFor, type ServiceUnderTest, type TestAuth } from './helpers';

const REDIS_DB = 10; // this file's own Redis database, flushed at start
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('acknowledge link in a browser', () => {
  let running: ServiceUnderTest;
  let auth: TestAuth;
  let server: Server;
  let evil: Server;
  let browser: Browser;
  let api: string;

  beforeAll(async () => {
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    running = await startServiceUnderTest(
      REDIS_DB,
      (redis, smtp) => `
redis: ${redis}
evaluation_interval: 100ms
external_url: ${api}
link_secret_file: ${linkSecretFile()}
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: oncall, group_by: [container], group_wait: 100ms, group_interval: 500ms, repeat_interval: 1h }
receivers: [{ name: oncall, email: { to: [oncall@farm.example], smarthost: '${smtp}' } }]
`,
    );
    auth = await testAuth(redisUrl(REDIS_DB));
    server = createApi(running.service, { authenticator: auth.authenticator }).listen(port, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    evil?.close();
    server?.closeAllConnections();
    server?.close();
    auth?.close();
    await running?.close();
  });

  const acknowledged = async (): Promise<boolean | undefined> =>
    ((await (await fetch(`${api}/api/groups`, { headers: auth.headers })).json()) as Array<{ acknowledged: boolean }>)[0]?.acknowledged;

  test('a cross-site auto-submitted form is refused; the mailed link and its button acknowledge', async () => {
    await raise(running.redis, [
      { code: 'FAN_STOPPED', severity: 'critical', minerId: 'C17-R1-S1-1', location: { site: 'north-1', container: 'C17', rack: 'R1', shelf: 'S1', slot: '1' }, part: 'fan 1', message: 'fan 1 stopped', since: Date.now() },
    ]);
    await waitFor(() => running.mailbox.mails.length === 1, 10_000, 'the page');
    const link = new URL(new RegExp(`${api.replace(/\./g, '\\.')}/ack/\\S+`).exec(running.mailbox.mails[0]!.text ?? '')![0]);

    // Another site (localhost is another origin than 127.0.0.1) posting the link's own fields.
    const fields = [...link.searchParams].map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/"/g, '&quot;')}">`).join('');
    evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" action="${api}${link.pathname}">${fields}</form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const attacker = await browser.newPage();
    const refused = attacker.waitForResponse((r) => r.url() === `${api}${link.pathname}` && r.request().method() === 'POST');
    await attacker.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
    expect((await refused).status()).toBe(403);
    await attacker.waitForLoadState();
    expect(await attacker.textContent('p')).toMatch(/^Refused: a request from http:\/\/localhost:\d+ cannot acknowledge/);
    expect(await acknowledged()).toBe(false);

    const staff = await browser.newPage();
    await staff.goto(link.toString());
    expect(await staff.textContent('p')).toContain('Acknowledge');
    await Promise.all([staff.waitForURL(`${api}${link.pathname}`), staff.click('button[type=submit]')]);
    expect(await staff.textContent('p')).toMatch(/^Acknowledged by oncall@farm\.example/);
    expect(await acknowledged()).toBe(true);
  });
});
