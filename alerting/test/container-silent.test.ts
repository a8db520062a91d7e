/**
 * ContainerSilent and EdgeClockSkew, judged by the center on its own clock from the heartbeats a test edge writes to
 * the real InfluxDB (1 s sweeps), mailed through a real SMTP server.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { REDIS_KEYS, type EdgeSource, type EdgeStatus, type Fault, type InfluxStore } from '@flymining/shared';
import type Redis from 'ioredis';
import { createApi } from '../src/api';
import type { AlertView } from '../src/service';
import type { AlertingService } from '../src/service';
import { TestEdge, minerFault } from './edge';
import { sleep, startEdgeService, testAuth, waitFor, type Mailbox, type OwnRedis, type TestAuth } from './helpers';

const execFileAsync = promisify(execFile);
const DB = 'alerting_silent';
const SITE = 'north-1';
const INTERVAL_MS = 1000;
const EVALUATION_MS = 250;
const GROUP_WAIT_MS = 500;
const SPOOLED = 137;

jest.setTimeout(120_000); // waits on conditions with their own deadlines

describe('edges judged by the center', () => {
  let store: InfluxStore;
  let own: OwnRedis;
  let redis: Redis;
  let mailbox: Mailbox;
  let service: AlertingService;
  let api: Server;
  let auth: TestAuth;
  let url: string;
  let closeRig: () => Promise<void>;
  const edges: TestEdge[] = [];

  beforeAll(async () => {
    ({ store, own, redis, mailbox, service, close: closeRig } = await startEdgeService(
      DB,
      (redisAt, smtp) => `
redis: ${redisAt}
evaluation_interval: ${EVALUATION_MS}ms
influx: { url: '${process.env.FLYMINING_TEST_INFLUX_URL}', database: ${DB} }
edges: { silent_after_intervals: 3, clock_skew_tolerance: 10m }
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route:
  receiver: oncall
  group_by: [site, container, alertname]
  group_wait: ${GROUP_WAIT_MS}ms
  group_interval: 1s
  repeat_interval: 1h
receivers: [{ name: oncall, email: { to: [oncall@farm.example], smarthost: '${smtp}' } }]
`,
      process.env.DEBUG_ALERTING ?? 'silent',
    ));
    await service.start();
    auth = await testAuth(own.url, ['alerting:read']);
    api = createApi(service, { authenticator: auth.authenticator }).listen(0, '127.0.0.1');
    await new Promise((r) => api.once('listening', r));
    url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const e of edges) await e.stop();
    api.close();
    auth.close();
    await closeRig();
  });

  /** An edge that beat at least twice on the sweep interval, then stopped. */
  async function edgeThatFellSilent(container: string, source: EdgeSource): Promise<TestEdge> {
    const edge = new TestEdge(store, SITE, container, source, INTERVAL_MS);
    edges.push(edge);
    edge.beat();
    await waitFor(() => edge.written.length >= 2, 10_000, 'heartbeats');
    await edge.stop();
    return edge;
  }

  const mailsAbout = (container: string) => mailbox.mails.filter((m) => (m.subject ?? '').includes(`container ${container}`));
  const alertsOf = async (container: string): Promise<AlertView[]> =>
    ((await (await fetch(`${url}/api/alerts`, { headers: auth.headers })).json()) as AlertView[]).filter((a) => a.labels.container === container);

  test('ContainerSilent: heartbeats stop → one page within 3 intervals + group_wait, miner alerts held; they resume → resolved with the dark time and the backlog', async () => {
    const edge = new TestEdge(store, SITE, 'C31', 'miner', INTERVAL_MS);
    edges.push(edge);
    const [stays, clears] = [minerFault(SITE, 'C31', 1), minerFault(SITE, 'C31', 2)];
    edge.faults = [stays!, clears!];
    edge.beat();
    await waitFor(() => mailsAbout('C31').length === 1, 15_000, 'fan notice');
    expect(mailsAbout('C31')[0]!.subject).toMatch(/^\[FIRING:2\] north-1 container C31 FAN_STOPPED/);

    await edge.stop();
    const lastBeat = edge.written.at(-1)!;
    await waitFor(() => mailsAbout('C31').length === 2, 15_000, 'ContainerSilent notice');
    const pagedAfter = Date.now() - lastBeat;
    const silentMail = mailsAbout('C31')[1]!;
    expect(silentMail.subject).toMatch(/^\[FIRING:1\] north-1 container C31 ContainerSilent/);
    expect(silentMail.text).toContain('no heartbeat from edge edge-C31');
    // 3 intervals of silence, then group_wait; plus the poll and the time a loaded machine takes.
    expect(pagedAfter).toBeLessThan(3 * INTERVAL_MS + GROUP_WAIT_MS + 3000);
    process.stdout.write(`container-silent: last heartbeat → ContainerSilent mail in ${pagedAfter} ms\n`);

    // The container's fan alerts: still firing, shown stale and inhibited; the edge status says silent.
    const held = (await alertsOf('C31')).filter((a) => a.labels.alertname === 'FanFailure');
    expect(held.map((a) => ({ state: a.state, stale: a.stale, inhibited: a.inhibited }))).toEqual([
      { state: 'firing', stale: true, inhibited: true },
      { state: 'firing', stale: true, inhibited: true },
    ]);
    const status = JSON.parse((await redis.hget(REDIS_KEYS.edges, `${SITE}/C31/miner`))!) as EdgeStatus;
    expect(status.silentSinceMs).toBeGreaterThan(lastBeat);
    const fault = JSON.parse((await redis.hget(REDIS_KEYS.activeFaults, `${stays!.minerId}|FAN_STOPPED|fan 1`))!) as Fault;
    expect(fault.stale).toEqual({ sinceMs: status.silentSinceMs, lastReportMs: status.receivedAtMs });
    await sleep(1500);
    expect(mailsAbout('C31')).toHaveLength(2);

    // Back: the first heartbeat reports its spool; one fan fault held through the outage, the other cleared.
    edge.faults = [stays!];
    edge.nextSpoolLines = SPOOLED;
    edge.beat();
    await waitFor(() => mailsAbout('C31').length >= 4, 15_000, 'resolved ContainerSilent and the cleared fan');
    const firstBack = edge.written[edge.written.indexOf(lastBeat) + 1]!;
    await sleep(1500);
    const [, , third, fourth] = mailsAbout('C31');
    const resolvedSilent = [third!, fourth!].find((m) => m.subject!.includes('ContainerSilent'))!;
    const fan = [third!, fourth!].find((m) => m.subject!.includes('FAN_STOPPED'))!;
    expect(resolvedSilent.subject).toMatch(/^\[RESOLVED:1\] north-1 container C31 ContainerSilent/);
    const dark = /was dark for ([\d.]+) s/.exec(resolvedSilent.text!);
    expect(dark).not.toBeNull();
    // The center's measure (receive times) against the test's (write times): within a poll and a flush.
    expect(Math.abs(Number(dark![1]) * 1000 - (firstBack - lastBeat))).toBeLessThan(2000);
    expect(resolvedSilent.text).toContain(`had ${SPOOLED} points spooled to backfill`);
    // The fault that held is not paged again; the one that cleared resolves.
    expect(fan.subject).toMatch(/^\[FIRING:1\] north-1 container C31 FAN_STOPPED.*\(\+1 resolved\)$/);
    expect(fan.text).toMatch(new RegExp(`Resolved \\(1\\):\\n  - CRITICAL FAN_STOPPED: FAN_STOPPED on ${clears!.minerId}`));
    expect(mailsAbout('C31')).toHaveLength(4);
    const after = JSON.parse((await redis.hget(REDIS_KEYS.edges, `${SITE}/C31/miner`))!) as EdgeStatus;
    expect(after.lastOutage?.backfillPoints).toBe(SPOOLED);
    expect(after.silentSinceMs).toBeUndefined();
    expect((await alertsOf('C31')).filter((a) => a.state === 'firing').map((a) => [a.labels.alertname, a.stale])).toEqual([['FanFailure', false]]);
  });

  test('an edge that replays its backlog oldest first stays silent until it has caught up, then resolves with what it backfilled', async () => {
    const edge = await edgeThatFellSilent('C35', 'miner');
    const lastBeat = edge.written.at(-1)!;
    await waitFor(() => mailsAbout('C35').length === 1, 15_000, 'ContainerSilent notice');
    expect(mailsAbout('C35')[0]!.subject).toMatch(/^\[FIRING:1\] north-1 container C35 ContainerSilent/);

    // The uplink is back: the spool replays the sweeps of the outage, oldest first, each heartbeat with the spool it saw.
    const outageStart = lastBeat + INTERVAL_MS;
    const backlog = [0, 1, 2, 3, 4, 5].map((i) => ({ time: outageStart + i * INTERVAL_MS, spoolLines: 400 * i }));
    // The link comes back once even the newest backlog sweep is older than the silence limit (3 intervals).
    await sleep(Math.max(0, backlog.at(-1)!.time + 4 * INTERVAL_MS - Date.now()));
    for (const b of backlog.slice(0, 3)) await edge.report([], b);
    await sleep(6 * EVALUATION_MS);
    // Heard again, but what it says is old: still silent, nothing resolved yet.
    const midway = JSON.parse((await redis.hget(REDIS_KEYS.edges, `${SITE}/C35/miner`))!) as EdgeStatus;
    expect(midway.silentSinceMs).toBeDefined();
    expect(midway.returning).toMatchObject({ sawBacklog: true });
    expect((await alertsOf('C35')).find((a) => a.labels.alertname === 'ContainerSilent')?.state).toBe('firing');
    expect(mailsAbout('C35')).toHaveLength(1);

    for (const b of backlog.slice(3)) await edge.report([], b);
    await edge.report([], { time: Date.now(), spoolLines: 0 }); // the first live sweep: caught up
    await waitFor(() => mailsAbout('C35').length === 2, 15_000, 'resolved ContainerSilent');
    const resolved = mailsAbout('C35')[1]!;
    expect(resolved.subject).toMatch(/^\[RESOLVED:1\] north-1 container C35 ContainerSilent/);
    expect(resolved.text).toContain(`had ${400 * 5} points spooled to backfill`);
  });

  test('staff retire a dismantled container\'s edge with `flymining edges retire`: ContainerSilent resolves, its faults go; it is taken back if it reports again', async () => {
    const flymining = async (...args: string[]): Promise<string> =>
      (await execFileAsync(process.execPath, [path.join(__dirname, '../../bin/flymining.js'), ...args, '--redis', own.url], { encoding: 'utf8' })).stdout;
    const edge = new TestEdge(store, SITE, 'C37', 'miner', INTERVAL_MS);
    edges.push(edge);
    edge.faults = [minerFault(SITE, 'C37', 1)];
    edge.beat();
    await waitFor(() => mailsAbout('C37').length === 1, 15_000, 'fan notice');
    await edge.stop();
    await waitFor(() => mailsAbout('C37').some((m) => m.subject!.includes('ContainerSilent')), 15_000, 'ContainerSilent notice');
    const listed = JSON.parse(await flymining('edges', 'list', '--json')) as Array<{ key: string; state: string }>;
    expect(listed.find((r) => r.key === `${SITE}/C37/miner`)?.state).toBe('silent');

    expect(await flymining('edges', 'retire', `${SITE}/C37`)).toContain(`retired ${SITE}/C37/miner`);
    await waitFor(async () => (await alertsOf('C37')).every((a) => a.state !== 'firing'), 15_000, 'alerts of the retired edge resolved');
    expect(await redis.hget(REDIS_KEYS.activeFaults, `${edge.faults[0]!.minerId}|FAN_STOPPED|fan 1`)).toBeNull();
    await sleep(4 * EVALUATION_MS); // the relay must not bring it back from its old heartbeats
    expect(await redis.hget(REDIS_KEYS.edges, `${SITE}/C37/miner`)).toBeNull();
    expect((await flymining('edges', 'list')).includes(`${SITE}/C37/miner`)).toBe(false);

    await edge.report([]); // the box is back after all
    await waitFor(async () => (await redis.hget(REDIS_KEYS.edges, `${SITE}/C37/miner`)) !== null, 10_000, 'edge taken back');
    await expect(execFileAsync(process.execPath, [path.join(__dirname, '../../bin/flymining.js'), 'edges', 'retire', `${SITE}/C99`, '--redis', own.url])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`no edge known at ${SITE}/C99`),
    });
  });

  test('a climate-only edge that goes silent pages ContainerSilent too', async () => {
    await edgeThatFellSilent('C32', 'climate');
    await waitFor(() => mailsAbout('C32').length === 1, 15_000, 'ContainerSilent notice');
    expect(mailsAbout('C32')[0]!.subject).toMatch(/^\[FIRING:1\] north-1 container C32 ContainerSilent/);
  });

  test('EdgeClockSkew: an edge that measured its clock 20 min behind, and a live edge stamping 15 min ahead', async () => {
    const behind = new TestEdge(store, SITE, 'C33', 'miner', 60_000);
    await behind.report([], { clockOffsetMs: 20 * 60_000 });
    await waitFor(() => mailsAbout('C33').length === 1, 10_000, 'EdgeClockSkew notice (measured offset)');
    expect(mailsAbout('C33')[0]!.subject).toMatch(/^\[FIRING:1\] north-1 container C33 EdgeClockSkew/);
    expect(mailsAbout('C33')[0]!.text).toContain('20 min 0 s behind the center (offset -1200000 ms');

    // A live edge (a heartbeat after a reporting one, spool empty) stamped 15 min in the future.
    const ahead = new TestEdge(store, SITE, 'C34', 'miner', 60_000);
    await ahead.report([]);
    await sleep(3 * EVALUATION_MS);
    expect(mailsAbout('C34')).toHaveLength(0);
    await ahead.report([], { time: Date.now() + 15 * 60_000 });
    await waitFor(() => mailsAbout('C34').length === 1, 10_000, 'EdgeClockSkew notice (seen skew)');
    expect(mailsAbout('C34')[0]!.text).toMatch(/edge edge-C34 .*: its clock is 1[45] min \d+ s ahead of the center/);
  });
});
