/**
 * Miner actions at the center over real HTTP, PostgreSQL and Redis tokens: who may queue, read and cancel them
 * (401/403/413/415 as the other staff endpoints), one request per container by the inventory, refusals naming the
 * field, the audit trail; and the edges' pull API: a token edge-<container> sees and claims only its container's
 * requests, a request is handed out once (even to two claims at the same instant), never after it expired, and the
 * results an edge posts are bounded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadInventory, type Inventory } from '@flymining/shared';
import { startStaffServer, type StaffServer } from './staff-server';

const INVENTORY = `site: test-site
containers:
  - name: C01
    racks:
      - name: R1
        shelves:
          - name: S1
            slots:
              - { slot: 1, host: 10.0.1.11, model: Antminer S19 Pro }
              - { slot: 2, host: 10.0.1.12, model: Antminer S19 Pro }
  - name: C02
    racks:
      - name: R1
        shelves:
          - name: S1
            slots:
              - { slot: 1, host: 10.0.2.11, model: Antminer S19 Pro }
              - { slot: 2, host: 10.0.2.12, model: Antminer S19 Pro }
`;

let s: StaffServer;
let dir: string;
let inventory: Inventory;
let operator: string;
let viewer: string;
let maintenanceWriter: string;
let edgeC01: string;
let edgeC02: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-control-api-'));
  writeFileSync(path.join(dir, 'farm.yaml'), INVENTORY);
  inventory = loadInventory(path.join(dir, 'farm.yaml'));
  s = await startStaffServer('control_api', { control: { inventory: () => inventory } });
  operator = await s.tokens.token('control:write');
  viewer = await s.tokens.token('control:read');
  maintenanceWriter = await s.tokens.token('maintenance:write');
  edgeC01 = (await s.tokens.store.add('edge-C01', ['control:edge'])).token;
  edgeC02 = (await s.tokens.store.add('edge-C02', ['control:edge'])).token;
});
afterAll(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await s.db.pool.query('TRUNCATE maintenance.control_request RESTART IDENTITY CASCADE');
});

async function call(pathAndQuery: string, options: { token?: string; method?: string; body?: unknown; rawBody?: string; contentType?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const hasBody = options.body !== undefined || options.rawBody !== undefined;
  if (hasBody) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await fetch(`${s.url}${pathAndQuery}`, {
    method: options.method ?? (hasBody ? 'POST' : 'GET'),
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, any> };
}

const queue = (body: unknown, token = operator) => call('/api/control/requests', { token, body });

test('queuing needs control:write: no token 401, control:read or maintenance:write 403, a form post 415, a huge body 413', async () => {
  const blink = { targets: ['C01-R1-S1-1'], action: { kind: 'blink' }, reason: 'which one is it' };
  expect((await call('/api/control/requests', { body: blink })).status).toBe(401);
  const readOnly = await queue(blink, viewer);
  expect(readOnly.status).toBe(403);
  expect(readOnly.json().reason).toMatch(/lacks scope control:write/);
  expect((await queue(blink, maintenanceWriter)).status).toBe(403);
  expect((await call('/api/control/requests', { token: operator, rawBody: 'targets=C01-R1-S1-1&action=reboot', contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
  const huge = await call('/api/control/requests', { token: operator, body: { ...blink, reason: 'x'.repeat(20_000) } });
  expect(huge.status).toBe(413);
  // Nothing of it was queued, and reading needs control:read.
  expect((await call('/api/control/requests')).status).toBe(401);
  expect((await call('/api/control/requests', { token: maintenanceWriter })).status).toBe(403);
  expect((await call('/api/control/requests', { token: viewer })).json().requests).toEqual([]);
});

test('one request per container by the inventory: 202 with the ids, each with its own words, and an audit entry naming who and what', async () => {
  const queued = await queue({ targets: ['C01-R1-S1-1', 'C02/R1', 'C01-R1-S1-2'], action: { kind: 'power', target: { watts: 2800 } }, reason: 'ticket #12', dryRun: true });
  expect(queued.status).toBe(202);
  const made = queued.json().requests as Array<{ id: number; container: string; targets: string[]; miners: number }>;
  expect(made.map((r) => [r.container, r.targets, r.miners])).toEqual([
    ['C01', ['C01-R1-S1-1', 'C01-R1-S1-2'], 2],
    ['C02', ['C02/R1'], 2],
  ]);
  const one = (await call(`/api/control/requests/${made[1]!.id}`, { token: viewer })).json();
  expect(one).toMatchObject({ container: 'C02', status: 'queued', dryRun: true, description: 'power 2800 W', reason: 'ticket #12', action: { kind: 'power', target: { watts: 2800 } }, results: [] });
  expect(Date.parse(one.expiresAt) - Date.parse(one.createdAt)).toBe(10 * 60_000);
  expect(one.requestedBy).toBe('token:maintenance-control_api-1'); // the operator's token, made first
  expect(one.events).toEqual([expect.objectContaining({ kind: 'created', actor: one.requestedBy, detail: 'dry run: power 2800 W on C02/R1 (2 miners) because: ticket #12' })]);

  const all = await queue({ allIn: ['C02'], action: { kind: 'reboot' }, reason: 'hung', by: 'Ola at the wall screen' });
  expect(all.json().requests).toEqual([expect.objectContaining({ container: 'C02', targets: ['C02'], miners: 2 })]);
  const listed = (await call('/api/control/requests?container=C02', { token: viewer })).json();
  expect(listed.requests.map((r: { description: string; requestedBy: string }) => [r.description, r.requestedBy])).toEqual([
    ['reboot', 'Ola at the wall screen'],
    ['power 2800 W', one.requestedBy],
  ]);
});

test('refusals name the field: unknown miner, an unlisted host, a bad action, no reason, no target', async () => {
  const bad = await queue({ targets: ['C09-R1-S1-1', '10.9.9.9', 'C01/R7'], action: { kind: 'blink' }, reason: 'x' });
  expect(bad.status).toBe(400);
  expect(bad.json().problems).toEqual([
    expect.stringMatching(/^targets\[0\]: "C09-R1-S1-1": /),
    expect.stringMatching(/^targets\[1\]: "10.9.9.9" is not a miner of .*farm.yaml/),
    expect.stringMatching(/^targets\[2\]: "C01\/R7": no miner stands at C01\/R7/),
  ]);
  const action = await queue({ targets: ['C01-R1-S1-1'], action: { kind: 'power', target: { watts: 50 } }, reason: 'x' });
  expect(action.json().problems).toEqual(['action.target.watts: at least 100 W']);
  expect((await queue({ targets: ['C01-R1-S1-1'], action: { kind: 'format-disk' }, reason: 'x' })).json().error).toMatch(/^action/);
  expect((await queue({ targets: ['C01-R1-S1-1'], action: { kind: 'reboot' }, reason: ' ' })).json().problems).toEqual(['reason: say why (a ticket number, what you saw)']);
  expect((await queue({ targets: [], action: { kind: 'reboot' }, reason: 'x' })).json().problems).toEqual(['targets: name at least one miner id or slot path, or a container in allIn']);
  expect((await queue({ allIn: ['C09'], action: { kind: 'reboot' }, reason: 'x' })).json().problems).toEqual([expect.stringMatching(/^allIn\[0\]: --all-in C09: no container "C09"/)]);
  expect((await call('/api/control/requests', { token: viewer })).json().requests).toEqual([]);
});

test('pages of the list, newest first, filtered by status', async () => {
  for (let i = 0; i < 5; i++) await queue({ targets: ['C01-R1-S1-1'], action: { kind: 'blink', on: i % 2 === 0 }, reason: `round ${i}` });
  const first = (await call('/api/control/requests?limit=2', { token: viewer })).json();
  expect(first.requests.map((r: { reason: string }) => r.reason)).toEqual(['round 4', 'round 3']);
  const second = (await call(`/api/control/requests?limit=2&before=${first.next}`, { token: viewer })).json();
  expect(second.requests.map((r: { reason: string }) => r.reason)).toEqual(['round 2', 'round 1']);
  const last = (await call(`/api/control/requests?limit=2&before=${second.next}`, { token: viewer })).json();
  expect([last.requests.map((r: { reason: string }) => r.reason), last.next]).toEqual([['round 0'], null]);
  await call(`/api/control/requests/${first.requests[0].id}/cancel`, { token: operator, body: {} });
  expect((await call('/api/control/requests?status=cancelled', { token: viewer })).json().requests.map((r: { reason: string }) => r.reason)).toEqual(['round 4']);
  expect((await call('/api/control/requests?status=running', { token: viewer })).json().problems).toEqual([expect.stringMatching(/^status: one of queued/)]);
});

test('cancel while queued (audited with who); once an edge claimed it, cancel is refused and the edge does not get it twice', async () => {
  const [a, b] = [
    (await queue({ targets: ['C02-R1-S1-1'], action: { kind: 'reboot' }, reason: 'first' })).json().requests[0].id,
    (await queue({ targets: ['C02-R1-S1-2'], action: { kind: 'reboot' }, reason: 'second' })).json().requests[0].id,
  ];
  expect((await call(`/api/control/requests/${a}/cancel`, { token: viewer, body: {} })).status).toBe(403);
  const cancelled = await call(`/api/control/requests/${a}/cancel`, { token: operator, body: { by: 'Ingrid' } });
  expect(cancelled.json()).toMatchObject({ id: a, status: 'cancelled' });
  expect((await call(`/api/control/requests/${a}`, { token: viewer })).json().events.map((e: { kind: string; actor: string }) => `${e.kind} ${e.actor}`)).toEqual([expect.stringMatching(/^created token:/), 'cancelled Ingrid']);

  // The edge sees only the one still queued.
  const pending = (await call('/edge/control/v1/pending', { token: edgeC02 })).json();
  expect(pending.requests.map((r: { id: number }) => r.id)).toEqual([b]);
  expect((await call(`/edge/control/v1/${a}/claim`, { token: edgeC02, body: {} })).status).toBe(409);
  expect((await call(`/edge/control/v1/${b}/claim`, { token: edgeC02, body: {} })).status).toBe(200);
  const late = await call(`/api/control/requests/${b}/cancel`, { token: operator, body: {} });
  expect(late.status).toBe(409);
  expect(late.json().error).toBe(`request #${b} is claimed (edge edge-C02 is carrying it out): only a queued request can be cancelled`);
  expect((await call(`/edge/control/v1/${b}/claim`, { token: edgeC02, body: {} })).status).toBe(409);
  expect((await call('/edge/control/v1/pending', { token: edgeC02 })).json().requests).toEqual([]);
});

test('the edge API: no token 401, a staff token or session-less name 403, edge-C01 asking for or claiming C02 403', async () => {
  const id = (await queue({ targets: ['C02-R1-S1-1'], action: { kind: 'blink' }, reason: 'find it' })).json().requests[0].id;
  expect((await call('/edge/control/v1/pending?container=C02')).status).toBe(401);
  expect((await call('/edge/control/v1/pending?container=C02', { token: operator })).status).toBe(403);
  // control:edge under a name that is not edge-<container> is not an edge.
  const oddlyNamed = await s.tokens.token('control:edge');
  const odd = await call('/edge/control/v1/pending?container=C02', { token: oddlyNamed });
  expect(odd.status).toBe(403);
  expect(odd.json().error).toMatch(/is not an edge: the edge API takes a token named edge-<container>/);
  const wrong = await call('/edge/control/v1/pending?container=C02', { token: edgeC01 });
  expect([wrong.status, wrong.json().error]).toEqual([403, 'token edge-C01 serves container C01, not C02']);
  expect((await call('/edge/control/v1/pending', { token: edgeC01 })).json().requests).toEqual([]);
  const stolen = await call(`/edge/control/v1/${id}/claim`, { token: edgeC01, body: {} });
  expect([stolen.status, stolen.json().error]).toEqual([403, `request #${id} is for container C02, not C01`]);
  const results = await call(`/edge/control/v1/${id}/results`, { token: edgeC01, body: { results: [], done: true } });
  expect(results.status).toBe(403);
  // Still queued for its own edge, which gets the whole action.
  const mine = (await call('/edge/control/v1/pending?container=C02', { token: edgeC02 })).json();
  expect(mine.requests).toEqual([expect.objectContaining({ id, container: 'C02', targets: ['C02-R1-S1-1'], action: { kind: 'blink', on: true }, dryRun: false, reason: 'find it' })]);
});

test('two claims at the same instant: exactly one gets the request', async () => {
  const id = (await queue({ targets: ['C01-R1-S1-1'], action: { kind: 'reboot' }, reason: 'hung' })).json().requests[0].id;
  const answers = await Promise.all(Array.from({ length: 6 }, () => call(`/edge/control/v1/${id}/claim`, { token: edgeC01, body: {} })));
  expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
  const events = (await call(`/api/control/requests/${id}`, { token: viewer })).json().events;
  expect(events.filter((e: { kind: string }) => e.kind === 'claimed')).toHaveLength(1);
});

test('an expired request is never handed out: not pending, a claim gets 410, and it reads expired', async () => {
  const id = (await queue({ targets: ['C01-R1-S1-1'], action: { kind: 'reboot' }, reason: 'queued during an outage' })).json().requests[0].id;
  const other = (await queue({ targets: ['C01-R1-S1-2'], action: { kind: 'reboot' }, reason: 'also' })).json().requests[0].id;
  // Both were queued 11 minutes ago, as if the edge's LTE link had been down since.
  await s.db.pool.query("UPDATE maintenance.control_request SET created_at = created_at - interval '11 minutes', expires_at = expires_at - interval '11 minutes'");
  const claim = await call(`/edge/control/v1/${id}/claim`, { token: edgeC01, body: {} });
  expect([claim.status, claim.json().error]).toEqual([410, `request #${id} expired before it was claimed: it will not be carried out`]);
  expect((await call('/edge/control/v1/pending', { token: edgeC01 })).json().requests).toEqual([]);
  for (const which of [id, other]) {
    const r = (await call(`/api/control/requests/${which}`, { token: viewer })).json();
    expect(r.status).toBe('expired');
    expect(r.claimedAt).toBeNull();
    expect(r.events.map((e: { kind: string }) => e.kind)).toEqual(['created', 'expired']);
  }
  expect((await call(`/edge/control/v1/${other}/claim`, { token: edgeC01, body: {} })).status).toBe(409);
});

test('results: progress then done, only from the claiming edge, bounded in count, size and text', async () => {
  const id = (await queue({ targets: ['C01/R1'], action: { kind: 'sleep' }, reason: 'too hot' })).json().requests[0].id;
  expect((await call(`/edge/control/v1/${id}/results`, { token: edgeC01, body: { results: [], done: false } })).status).toBe(409); // not claimed yet
  await call(`/edge/control/v1/${id}/claim`, { token: edgeC01, body: {} });
  const result = (miner: string, outcome: string) => ({ miner, place: 'C01/R1/S1/1', outcome, detail: 'now sleeping', reply: 'STATUS=S', durationMs: 120, confirmMs: 900, mode: 'sleeping' });
  expect((await call(`/edge/control/v1/${id}/results`, { token: edgeC01, body: { results: [result('C01-R1-S1-1', 'confirmed')], done: false } })).json()).toEqual({ id, status: 'claimed' });
  const running = (await call(`/api/control/requests/${id}`, { token: viewer })).json();
  expect([running.status, running.summary]).toEqual(['claimed', '1 confirmed']);

  const tooMany = await call(`/edge/control/v1/${id}/results`, { token: edgeC01, body: { results: Array.from({ length: 2001 }, (_, i) => result(`m${i}`, 'sent')), done: true } });
  expect([tooMany.status, tooMany.json().problems]).toEqual([400, ['results: Too big: expected array to have <=2000 items']]);
  const longText = await call(`/edge/control/v1/${id}/results`, { token: edgeC01, body: { results: [{ ...result('C01-R1-S1-1', 'sent'), detail: 'x'.repeat(601) }], done: true } });
  expect(longText.json().problems).toEqual([expect.stringMatching(/^results\.0\.detail: /)]);
  const badOutcome = await call(`/edge/control/v1/${id}/results`, { token: edgeC01, body: { results: [result('C01-R1-S1-1', 'exploded')], done: true } });
  expect(badOutcome.status).toBe(400);
  const huge = await call(`/edge/control/v1/${id}/results`, { token: edgeC01, rawBody: JSON.stringify({ results: [], done: true, pad: 'x'.repeat(3 * 1024 * 1024) }) });
  expect(huge.status).toBe(413);

  const final = await call(`/edge/control/v1/${id}/results`, { token: edgeC01, body: { results: [result('C01-R1-S1-1', 'confirmed'), result('C01-R1-S1-2', 'rate-limited')], done: true } });
  expect(final.json()).toEqual({ id, status: 'done' });
  const done = (await call(`/api/control/requests/${id}`, { token: viewer })).json();
  expect(done).toMatchObject({ status: 'done', summary: '1 confirmed, 1 rate-limited', claimedBy: 'edge-C01' });
  expect(done.results.map((r: { miner: string; outcome: string }) => `${r.miner} ${r.outcome}`)).toEqual(['C01-R1-S1-1 confirmed', 'C01-R1-S1-2 rate-limited']);
  expect(done.events.map((e: { kind: string; actor: string; detail: string }) => `${e.kind} ${e.actor} ${e.detail}`).slice(1)).toEqual(['claimed edge-C01 ', 'done edge-C01 1 confirmed, 1 rate-limited']);
  expect((await call(`/edge/control/v1/${id}/results`, { token: edgeC01, body: { results: [], done: true } })).status).toBe(409);
});

test('pool passwords reach the edge but not the staff listing', async () => {
  const id = (await queue({ targets: ['C01-R1-S1-1'], action: { kind: 'pools', pools: [{ url: 'stratum+tcp://pool.example.com:3333', user: 'acct.w1', password: 'sekret-pw' }] }, reason: 'new pool' })).json().requests[0].id;
  const staff = await call(`/api/control/requests/${id}`, { token: viewer });
  expect(staff.text).not.toContain('sekret-pw');
  expect(staff.json().action).toEqual({ kind: 'pools', pools: [{ url: 'stratum+tcp://pool.example.com:3333', user: 'acct.w1' }] });
  const edge = (await call('/edge/control/v1/pending', { token: edgeC01 })).json();
  expect(edge.requests[0].action.pools[0].password).toBe('sekret-pw');
});
