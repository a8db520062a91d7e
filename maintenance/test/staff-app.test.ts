/**
 * The staff server over HTTP against real PostgreSQL and Redis tokens: who may read and act, take and close
 * changing the ticket, two technicians taking one ticket, refusals that name the field, a hostile body, and a
 * technician's note that carries markup shown as text.
 */
import { syncTickets } from '../src';
import { at, firing } from './alerts';
import { startStaffServer, type StaffServer } from './staff-server';

let s: StaffServer;
let writer: string;
let reader: string;
let ticketId: number;

beforeAll(async () => {
  s = await startStaffServer('app');
  writer = await s.tokens.token('maintenance:write');
  reader = await s.tokens.token('maintenance:read');
});
afterAll(async () => s?.close());

beforeEach(async () => {
  await s.db.pool.query('TRUNCATE maintenance.tickets, maintenance.machines RESTART IDENTITY CASCADE');
  const now = Date.now();
  const { opened } = await syncTickets(s.db.pool, [firing('C07-R2-S3-4', 'FAN_STOPPED', 'fan 2', now - 3_600_000)], now - 3_590_000);
  ticketId = opened[0]!;
});

async function call(path: string, options: { token?: string; method?: string; body?: unknown; rawBody?: string; contentType?: string; accept?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.accept) headers.accept = options.accept;
  const res = await fetch(`${s.url}${path}`, { method: options.method ?? (options.body !== undefined || options.rawBody !== undefined ? 'POST' : 'GET'), headers, body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

test('/healthz is open; the API and the pages need a token or a staff session', async () => {
  expect((await call('/healthz')).status).toBe(200);
  expect((await call('/api/tickets')).status).toBe(401);
  const page = await call('/', { accept: 'text/html' });
  expect(page.status).toBe(401);
  expect(page.text).toContain('Sign-in required');
  expect((await call('/api/tickets', { token: 'not-a-token' })).status).toBe(401);
  const list = await call('/api/tickets', { token: reader });
  expect(list.status).toBe(200);
  expect((JSON.parse(list.text) as Array<{ id: number }>).map((t) => t.id)).toEqual([ticketId]);
});

test('a token with maintenance:read only is refused an action (403) and the ticket stays open', async () => {
  const refused = await call(`/api/tickets/${ticketId}/take`, { token: reader, body: { by: 'mallory' } });
  expect(refused.status).toBe(403);
  expect(refused.json().reason).toMatch(/lacks scope maintenance:write/);
  expect((await call(`/api/tickets/${ticketId}`, { token: reader })).json()).toMatchObject({ ticket: { state: 'open', takenBy: null } });
});

test('take then close through the API: in repair, the repair recorded with its parts, fixed once the fault has cleared', async () => {
  const taken = await call(`/api/tickets/${ticketId}/take`, { token: writer, body: { by: 'alice' } });
  expect(taken.status).toBe(200);
  expect(taken.json()).toMatchObject({ state: 'in_repair', takenBy: 'alice', acknowledgedBy: 'alice' });
  const closed = await call(`/api/tickets/${ticketId}/close`, {
    token: writer,
    body: { by: 'alice', action: 'replace_fan', parts: [{ kind: 'fan', removedSerial: 'FAN-OLD-7', installedSerial: 'FAN-NEW-7' }], notes: 'bearing gone', minutesOnSite: 20 },
  });
  expect(closed.status).toBe(200);
  // The exporter still sees the old fan stopped: fixed once the fault clears, which the next sync sees.
  expect(closed.json()).toMatchObject({ waitingForClear: true, ticket: { state: 'in_repair' } });
  await syncTickets(s.db.pool, [], Date.now());
  expect((await call(`/api/tickets/${ticketId}`, { token: reader })).json()).toMatchObject({ ticket: { state: 'fixed', fixedBy: 'alice' } });
  const detail = (await call(`/api/tickets/${ticketId}`, { token: reader })).json() as { repairs: Array<Record<string, unknown>>; events: Array<{ kind: string }> };
  expect(detail.repairs).toEqual([expect.objectContaining({ by: 'alice', action: 'replace_fan', minutesOnSite: 20, parts: [{ kind: 'fan', removedSerial: 'FAN-OLD-7', installedSerial: 'FAN-NEW-7' }] })]);
  expect(detail.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['opened', 'acknowledged', 'taken', 'repair', 'fixed']));
  // The board's serial history and the backlog both show it.
  expect((await call('/api/parts/FAN-OLD-7', { token: reader })).json()).toMatchObject({ repairs: [{ ticketId }] });
  expect(((await call('/api/tickets', { token: reader })).json() as unknown as unknown[]).length).toBe(0);
});

test('two technicians taking the same ticket at once: one gets it, the other 409 naming who has it', async () => {
  const [a, b] = await Promise.all([
    call(`/api/tickets/${ticketId}/take`, { token: writer, body: { by: 'alice' } }),
    call(`/api/tickets/${ticketId}/take`, { token: writer, body: { by: 'bob' } }),
  ]);
  expect([a.status, b.status].sort()).toEqual([200, 409]);
  const winner = a.status === 200 ? 'alice' : 'bob';
  const loser = a.status === 200 ? b : a;
  expect(loser.json().error).toBe(`ticket #${ticketId} is already in repair by ${winner}`);
});

test('bad input is a 400 that names the field; unknown ticket 404', async () => {
  const badMinutes = await call(`/api/tickets/${ticketId}/close`, { token: writer, body: { action: 'replace_fan', minutesOnSite: -5 } });
  expect(badMinutes.status).toBe(400);
  expect(badMinutes.json().error).toMatch(/^minutesOnSite: /);
  const badAction = await call(`/api/tickets/${ticketId}/close`, { token: writer, body: { action: 'hit_it' } });
  expect(badAction.status).toBe(400);
  expect(badAction.json().error).toMatch(/^action: one of reseat, replace_fan/);
  const badSerial = await call(`/api/tickets/${ticketId}/close`, { token: writer, body: { action: 'replace_fan', parts: [{ kind: 'fan', removedSerial: 'A B' }] } });
  expect(badSerial.json().error).toMatch(/^parts\.0\.removedSerial: /);
  const badId = await call('/api/tickets/12abc', { token: reader });
  expect(badId.status).toBe(400);
  expect(badId.json().error).toMatch(/ticket id: a whole number/);
  expect((await call('/api/tickets?state=lost', { token: reader })).json().error).toMatch(/^state: one of backlog/);
  expect((await call('/api/tickets/999999', { token: reader })).status).toBe(404);
  const form = await call(`/api/tickets/${ticketId}/take`, { token: writer, rawBody: 'by=alice', contentType: 'application/x-www-form-urlencoded' });
  expect(form.status).toBe(415);
  expect((await call(`/api/tickets/${ticketId}/take`, { token: writer, rawBody: '{"by":', })).json().error).toBe('body is not valid JSON');
});

test('a hostile huge body is refused with 413 and changes nothing', async () => {
  const huge = await call(`/api/tickets/${ticketId}/note`, { token: writer, body: { by: 'x', text: 'A'.repeat(2_000_000) } });
  expect(huge.status).toBe(413);
  expect(huge.json().error).toBe('body larger than 16 kB');
  const detail = (await call(`/api/tickets/${ticketId}`, { token: reader })).json() as { events: Array<{ kind: string }> };
  expect(detail.events.some((e) => e.kind === 'note')).toBe(false);
});

test('markup in a note is shown as text on the ticket page, under a CSP without inline script', async () => {
  const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)> "quoted" & done`;
  expect((await call(`/api/tickets/${ticketId}/note`, { token: writer, body: { by: 'eve<b>', text: hostile } })).status).toBe(200);
  const res = await fetch(`${s.url}/tickets/${ticketId}`, { headers: { authorization: `Bearer ${reader}` } });
  const page = await res.text();
  expect(res.status).toBe(200);
  expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &amp; done');
  expect(page).toContain('eve&lt;b&gt;');
  expect(page).not.toContain('<script>alert');
  expect(page).not.toContain('<img src=x');
  expect(page.match(/<script\b[^>]*>/g)).toEqual(['<script src="/assets/staff.js" defer>']);
});

test('the pages list the open ticket with its place; the summary for the TV wall names who is on call', async () => {
  const list = await call('/?container=C07', { token: reader });
  expect(list.text).toContain(`href="/tickets/${ticketId}"`);
  expect(list.text).toContain('C07 R2 S3 #4');
  expect((await call('/?container=C99', { token: reader })).text).toContain('No tickets.');
  expect((await call('/api/summary', { token: reader })).json()).toMatchObject({ backlog: { open: 1 }, onCall: null });
  await s.db.pool.query(`INSERT INTO maintenance.rota_settings (id, time_zone, handover, shift, anchor, escalate_after_s) VALUES (1, 'Europe/Oslo', '08:00', 'weekly', '2026-01-05', 900) ON CONFLICT (id) DO NOTHING`);
  await s.db.pool.query(`INSERT INTO maintenance.staff (name) VALUES ('Kari') ON CONFLICT DO NOTHING`);
  await s.db.pool.query(`INSERT INTO maintenance.rota_members (position, name) VALUES (0, 'Kari') ON CONFLICT DO NOTHING`);
  const summary = (await call('/api/summary', { token: reader })).json() as { onCall: { name: string; until: string } };
  expect(summary.onCall.name).toBe('Kari');
  expect(Date.parse(summary.onCall.until)).toBeGreaterThan(Date.now());
  const override = await call('/api/rota/overrides', { token: writer, body: { name: 'Nobody', from: '2030-01-01T08:00', to: '2030-01-02T08:00' } });
  expect(override.status).toBe(404);
  expect(override.json().error).toMatch(/"Nobody" is not on the staff list/);
  const badTime = await call('/api/rota/overrides', { token: writer, body: { name: 'Kari', from: 'tomorrow', to: '2030-01-02T08:00' } });
  expect(badTime.json().error).toMatch(/^from: "tomorrow" is not a time/);
});
