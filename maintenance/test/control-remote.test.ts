/**
 * Staff actions from the center carried out by the edges, end to end over real HTTP: a request queued with the staff
 * API is fetched by the container's edge poller, claimed, run through the write path against simulated Braiins OS
 * miners, and its per-miner outcomes are read back with the API; each edge acts only on its own container. An
 * expired or cancelled request is never carried out; an edge with another container's token or no valid token gets
 * nothing, and its token never shows in its log.
 */
import { eventually, startControlRig, type ControlRig } from './control-edges';

let rig: ControlRig;

beforeAll(async () => {
  rig = await startControlRig('remote', '127.214.60');
}, 60_000);
afterAll(async () => rig?.close());

async function api(pathAndQuery: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${rig.center.url}${pathAndQuery}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${rig.operator}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

const settled = (id: number) =>
  eventually(async () => {
    const r = (await api(`/api/control/requests/${id}`)).json;
    return ['done', 'expired', 'cancelled'].includes(r.status) ? r : undefined;
  }, 30_000, `request #${id} to finish`);

test('a sleep for miners of two containers: each edge claims its own part, the miners sleep, the outcomes read back per miner', async () => {
  const queued = await api('/api/control/requests', { targets: ['C01/R01', 'C02-R01-S1-2'], action: { kind: 'sleep' }, reason: 'too hot in the afternoon' });
  expect(queued.status).toBe(202);
  const [c01, c02] = queued.json.requests as Array<{ id: number; container: string }>;
  expect([c01?.container, c02?.container]).toEqual(['C01', 'C02']);
  const started = Date.now();
  rig.edges.C01.remote.start();
  rig.edges.C02.remote.start();

  const done01 = await settled(c01!.id);
  const done02 = await settled(c02!.id);
  const tookMs = Date.now() - started;
  expect(done01).toMatchObject({ status: 'done', claimedBy: 'edge-C01', summary: '2 confirmed' });
  expect(done01.results.map((r: { miner: string; place: string; outcome: string; mode: string }) => [r.miner, r.place, r.outcome, r.mode])).toEqual([
    ['C01-R01-S1-1', 'C01/R01/S1/1', 'confirmed', 'sleeping'],
    ['C01-R01-S1-2', 'C01/R01/S1/2', 'confirmed', 'sleeping'],
  ]);
  expect(done02).toMatchObject({ status: 'done', claimedBy: 'edge-C02', summary: '1 confirmed' });
  expect(done02.results.map((r: { miner: string }) => r.miner)).toEqual(['C02-R01-S1-2']);
  // What the miners themselves say: the three named sleep, the one not named hashes on.
  expect(['C01-R01-S1-1', 'C01-R01-S1-2', 'C02-R01-S1-2'].map((id) => rig.miner(id).commandedState().sleeping)).toEqual([true, true, true]);
  expect(rig.miner('C02-R01-S1-1').commandedState().sleeping).toBe(false);
  // The edge's audit names the staff member and the center's request.
  const audit = rig.edges.C01.audit();
  expect(audit.map((a) => [a.miner, a.action, a.outcome, a.actor, a.reason])).toEqual([
    ['C01-R01-S1-1', 'sleep', 'confirmed', `staff:${done01.requestedBy}`, `center request #${c01!.id}: too hot in the afternoon`],
    ['C01-R01-S1-2', 'sleep', 'confirmed', `staff:${done01.requestedBy}`, `center request #${c01!.id}: too hot in the afternoon`],
  ]);
  expect(done01.events.map((e: { kind: string; actor: string }) => `${e.kind} ${e.actor}`)).toEqual([`created ${done01.requestedBy}`, 'claimed edge-C01', 'done edge-C01']);
  process.stdout.write(`control: staff request to confirmed outcome at the center for 3 miners in 2 containers: ${tookMs} ms (poll every 250 ms)\n`);

  // Wake them again through the same path (the miners warm up before they hash: confirmed once hashing).
  const wake = await api('/api/control/requests', { allIn: ['C01'], targets: ['C02-R01-S1-2'], action: { kind: 'wake' }, reason: 'evening' });
  for (const r of wake.json.requests as Array<{ id: number }>) expect((await settled(r.id)).status).toBe('done');
  expect(['C01-R01-S1-1', 'C01-R01-S1-2', 'C02-R01-S1-2'].map((id) => rig.miner(id).commandedState().sleeping)).toEqual([false, false, false]);
});

test('an expired request is never carried out, even when its edge comes back', async () => {
  await rig.edges.C01.remote.stop();
  const writesBefore = rig.miner('C01-R01-S1-1').writes().length;
  const queued = await api('/api/control/requests', { targets: ['C01-R01-S1-1'], action: { kind: 'reboot' }, reason: 'queued while the LTE link was down' });
  const id = queued.json.requests[0].id as number;
  // The link stays down past the expiry: shift the request 11 minutes into the past.
  await rig.center.db.pool.query("UPDATE maintenance.control_request SET created_at = created_at - interval '11 minutes', expires_at = expires_at - interval '11 minutes' WHERE id = $1", [id]);
  // The edge's first poll after the outage.
  expect(await rig.edges.C01.remote.pollOnce()).toBe(true);
  await rig.edges.C01.remote.inFlight();
  const r = (await api(`/api/control/requests/${id}`)).json;
  expect([r.status, r.claimedAt, r.results]).toEqual(['expired', null, []]);
  expect(rig.miner('C01-R01-S1-1').writes().length).toBe(writesBefore);
  expect(rig.edges.C01.audit().filter((a) => a.reason.startsWith(`center request #${id}:`))).toEqual([]);
});

test('a cancelled request is never carried out', async () => {
  await rig.edges.C02.remote.stop();
  const writesBefore = rig.miner('C02-R01-S1-1').writes().length;
  const id = (await api('/api/control/requests', { targets: ['C02-R01-S1-1'], action: { kind: 'reboot' }, reason: 'oops, wrong miner' })).json.requests[0].id as number;
  expect((await api(`/api/control/requests/${id}/cancel`, {})).json.status).toBe('cancelled');
  expect(await rig.edges.C02.remote.pollOnce()).toBe(true);
  await rig.edges.C02.remote.inFlight();
  expect((await api(`/api/control/requests/${id}`)).json.status).toBe('cancelled');
  expect(rig.miner('C02-R01-S1-1').writes().length).toBe(writesBefore);
});

test("an edge with another container's token gets 403, one without a valid token 401; neither acts, neither logs its token", async () => {
  await rig.edges.C02.remote.stop();
  const id = (await api('/api/control/requests', { targets: ['C02-R01-S1-1'], action: { kind: 'blink' }, reason: 'find it' })).json.requests[0].id as number;
  const writesBefore = rig.miner('C02-R01-S1-1').writes().length;

  const impostor = rig.edge('C02', { token: rig.edges.C01.token, containers: ['C02'] });
  expect(await impostor.remote.pollOnce()).toBe(false);
  expect(impostor.log()).toMatch(/fetching C02's control requests from the center: HTTP 403: token edge-C01 serves container C01, not C02/);
  const stranger = rig.edge('C02', { token: 'fmt_not-a-real-token-0000000000000000000000000', containers: ['C02'] });
  expect(await stranger.remote.pollOnce()).toBe(false);
  expect(stranger.log()).toMatch(/HTTP 401: authentication required: unknown or revoked token/);
  // Polling again says nothing new: one line per problem, not one per poll.
  await stranger.remote.pollOnce();
  expect(stranger.log().match(/HTTP 401/g)).toHaveLength(1);
  for (const e of [impostor, stranger]) expect(e.log()).not.toContain(e.token);

  expect((await api(`/api/control/requests/${id}`)).json.status).toBe('queued');
  expect(rig.miner('C02-R01-S1-1').writes().length).toBe(writesBefore);
  // Its own edge then does it.
  rig.edges.C02.remote.start();
  const done = await settled(id);
  expect([done.status, done.results.map((r: { outcome: string }) => r.outcome)]).toEqual(['done', ['sent']]);
  expect(rig.miner('C02-R01-S1-1').commandedState().blinking).toBe(true);
  expect(rig.edges.C02.log()).not.toContain(rig.edges.C02.token);
});

test('targets this edge cannot act on are reported per word, the rest is done (dry run: read, nothing written)', async () => {
  // The center's inventory has C01-R01-S1-2; this edge's copy does not (an older farm.yaml on the box).
  const { inventory } = rig;
  const edge = rig.edge('C01', { inventory: { ...inventory, miners: new Map([...inventory.miners].filter(([id]) => id !== 'C01-R01-S1-2')) } });
  await rig.edges.C01.remote.stop();
  const writesBefore = rig.miner('C01-R01-S1-1').writes().length;
  const id = (await api('/api/control/requests', { targets: ['C01-R01-S1-1', 'C01-R01-S1-2'], action: { kind: 'power', target: { watts: 2600 } }, reason: 'what would it do', dryRun: true })).json.requests[0].id as number;
  edge.remote.start();
  const done = await settled(id);
  expect(done.results.map((r: { miner: string; outcome: string; detail: string }) => [r.miner, r.outcome])).toEqual([
    ['C01-R01-S1-2', 'unknown-target'],
    ['C01-R01-S1-1', 'dry-run'],
  ]);
  expect(done.results[1].detail).toMatch(/^would power 2600 W/);
  expect(rig.miner('C01-R01-S1-1').writes().length).toBe(writesBefore);
  await edge.remote.stop();
});
