/**
 * Issue #10: acknowledgements and silences tie to staff accounts. A staff member signed in to a real portal
 * (billing's test harness: real PostgreSQL and Redis) uses the alerting API with the portal's cookie, is recorded
 * as the creator of a silence, and is named on an acknowledgement made through a notice's link; an investor's
 * session is refused.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator, PortalSessionVerifier, TokenStore, createLogger } from '@flymining/shared';
import type Redis from 'ioredis';
import { createPortalUser } from '../../billing/src/portal/users';
import { HttpClient, PASSWORD, seedInvestor, startTestPortal, type PortalUnderTest } from '../../billing/test/portal/harness';
import { createApi } from '../src/api';
import type { AlertingService } from '../src/service';
import { linkSecretFile, raise, startServiceUnderTest, waitFor, type Mailbox, type ServiceUnderTest } from './helpers';

const REDIS_DB = 8; // this file's own Redis database, flushed at start

describe('staff signed in to the portal', () => {
  let portal: PortalUnderTest;
  let redis: Redis;
  let mailbox: Mailbox;
  let service: AlertingService;
  let running: ServiceUnderTest;
  let server: Server;
  let api: string;

  beforeAll(async () => {
    portal = await startTestPortal('alerting-staff');
    await createPortalUser(portal.db.pool, { email: 'ops@farm.example', password: PASSWORD, role: 'staff' });
    await seedInvestor(portal.db, 'ivan');
    running = await startServiceUnderTest(REDIS_DB, (redisAt, smtp) => `
redis: ${redisAt}
evaluation_interval: 100ms
external_url: http://alerts.example:9430
link_secret_file: ${linkSecretFile()}
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: oncall, group_by: [container], group_wait: 100ms, group_interval: 500ms, repeat_interval: 1h }
receivers: [{ name: oncall, email: { to: [oncall@farm.example], smarthost: '${smtp}' } }]
`);
    ({ redis, mailbox, service } = running);
    const { secret, maxSessionS, keyPrefix } = portal.settings;
    const authenticator = new Authenticator({
      tokens: new TokenStore(portal.redis),
      sessions: new PortalSessionVerifier(portal.redis, portal.db.pool, { secret, maxSessionS, keyPrefix }),
      log: createLogger('alerting-auth-test', 'silent'),
    });
    server = createApi(service, { authenticator }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await running?.close();
    await portal?.close();
  });

  async function cookieOf(email: string): Promise<string> {
    const browser = new HttpClient(portal.url);
    expect((await browser.signIn(email)).status).toBe(303);
    return [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  test('the portal cookie opens the API, names the silence creator and the acknowledger; an investor gets 403', async () => {
    const staff = await cookieOf('ops@farm.example');
    const investor = await cookieOf('ivan@example.com');
    expect((await fetch(`${api}/api/alerts`, { headers: { cookie: investor } })).status).toBe(403);
    expect((await fetch(`${api}/api/alerts`, { headers: { cookie: staff } })).status).toBe(200);

    const created = await fetch(`${api}/api/silences`, {
      method: 'POST',
      headers: { cookie: staff, 'content-type': 'application/json', origin: api },
      body: JSON.stringify({ matchers: ['container="C99"'], duration: '1h', comment: 'unused container', createdBy: 'someone else' }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { createdBy: string }).createdBy).toBe('ops@farm.example');

    await raise(redis, [
      { code: 'FAN_STOPPED', severity: 'critical', minerId: 'C16-R1-S1-1', location: { site: 'north-1', container: 'C16', rack: 'R1', shelf: 'S1', slot: '1' }, part: 'fan 1', message: 'fan 1 stopped', since: Date.now() },
    ]);
    await waitFor(() => mailbox.mails.length === 1, 10_000, 'the page');
    const link = new URL(/http:\/\/alerts\.example:9430\/ack\/\S+/.exec(mailbox.mails[0]!.text ?? '')![0]);
    const posted = await fetch(`${api}${link.pathname}`, { method: 'POST', headers: { cookie: staff, origin: api }, body: new URLSearchParams(link.search) });
    expect(posted.status).toBe(200);
    const [group] = (await (await fetch(`${api}/api/groups`, { headers: { cookie: staff } })).json()) as Array<{ acknowledged: boolean; acknowledgedBy: string }>;
    expect(group).toMatchObject({ acknowledged: true, acknowledgedBy: 'ops@farm.example' });
  });
});
