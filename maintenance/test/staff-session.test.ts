/**
 * Staff signed in to the investor portal (billing's test harness: real PostgreSQL and Redis) use the maintenance
 * pages with the portal's cookie: their actions are recorded under their account, whatever name the body gives;
 * an investor's session is refused; a cross-site request with the cookie is refused before it acts.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator, PortalSessionVerifier, TokenStore, createLogger } from '@flymining/shared';
import { createPortalUser } from '../../billing/src/portal/users';
import { HttpClient, PASSWORD, seedInvestor, startTestPortal, type PortalUnderTest } from '../../billing/test/portal/harness';
import type { TestDatabase } from '../../billing/test/pg';
import { syncTickets } from '../src';
import { createStaffApp } from '../src/staff/app';
import { firing } from './alerts';
import { createMaintenanceDatabase } from './db';

let db: TestDatabase;
let portal: PortalUnderTest;
let server: Server;
let url: string;

beforeAll(async () => {
  db = await createMaintenanceDatabase('session');
  portal = await startTestPortal('maintenance-session', {}, db);
  await createPortalUser(db.pool, { email: 'tech@farm.example', password: PASSWORD, role: 'staff' });
  await seedInvestor(db, 'ivan');
  const { secret, maxSessionS, keyPrefix } = portal.settings;
  const authenticator = new Authenticator({
    tokens: new TokenStore(portal.redis, `${keyPrefix}tokens`),
    sessions: new PortalSessionVerifier(portal.redis, db.pool, { secret, maxSessionS, keyPrefix }),
    log: createLogger('maintenance-session-test', 'silent'),
  });
  server = createStaffApp({ pool: db.pool, authenticator }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await portal?.close();
  await db?.drop();
});

async function cookieOf(email: string): Promise<string> {
  const browser = new HttpClient(portal.url);
  expect((await browser.signIn(email)).status).toBe(303);
  return [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

test('the portal cookie opens the pages and acts as the signed-in account; an investor gets 403; another origin is refused', async () => {
  const now = Date.now();
  const id = (await syncTickets(db.pool, [firing('C09-R1-S1-3', 'PSU_FAULT', '', now - 60_000)], now)).opened[0]!;
  const staff = await cookieOf('tech@farm.example');
  const investor = await cookieOf('ivan@example.com');

  expect((await fetch(`${url}/`, { headers: { cookie: investor } })).status).toBe(403);
  const page = await fetch(`${url}/tickets/${id}`, { headers: { cookie: staff } });
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('tech@farm.example');
  expect(html).not.toContain('name="by"'); // a signed-in account is not asked who it is

  const crossSite = await fetch(`${url}/api/tickets/${id}/take`, { method: 'POST', headers: { cookie: staff, 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{}' });
  expect(crossSite.status).toBe(403);
  const take = await fetch(`${url}/api/tickets/${id}/take`, { method: 'POST', headers: { cookie: staff, 'content-type': 'application/json', origin: url }, body: JSON.stringify({ by: 'somebody else' }) });
  expect(take.status).toBe(200);
  expect(await take.json()).toMatchObject({ state: 'in_repair', takenBy: 'tech@farm.example' });
});
