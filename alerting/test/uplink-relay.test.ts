/**
 * The uplink relay against a real InfluxDB and a Redis of its own: edge snapshots become the active-fault hash,
 * incomplete or misplaced snapshots do not, bad rows are counted without stopping the cycle, and a Redis that
 * lost its data is refilled within one cycle.
 */
import { REDIS_KEYS, encodePoints, faultKey, faultStatePoints, type EdgeStatus, type Fault } from '@flymining/shared';
import { TestEdge, minerFault } from './edge';
import { startEdgeService, type EdgeServiceUnderTest } from './helpers';

const DB = 'alerting_relay';
const SITE = 'north-1';

describe('uplink relay', () => {
  let rig: EdgeServiceUnderTest;

  const activeFaults = async (): Promise<Map<string, Fault>> =>
    new Map(Object.entries(await rig.redis.hgetall(REDIS_KEYS.activeFaults)).map(([k, v]) => [k, JSON.parse(v) as Fault]));
  const metric = async (name: string): Promise<string> =>
    (await rig.service.metrics.registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith(name))
      .join('\n');

  beforeAll(async () => {
    rig = await startEdgeService(DB, (redisAt, smtp) => `
redis: ${redisAt}
evaluation_interval: 1h     # cycles are run by the test
influx: { url: '${process.env.FLYMINING_TEST_INFLUX_URL}', database: ${DB} }
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: oncall }
receivers: [{ name: oncall, email: { to: [oncall@farm.example], smarthost: '${smtp}' } }]
`);
  });

  afterAll(async () => {
    await rig.close();
  });

  test('a complete snapshot becomes the hash: faults with their source and since, cleared ones removed, the edge status kept', async () => {
    const edge = new TestEdge(rig.store, SITE, 'C01');
    const [a, b] = [minerFault(SITE, 'C01', 1, 'FAN_STOPPED', Date.now() - 60_000), minerFault(SITE, 'C01', 2, 'MINER_UNREACHABLE')];
    const first = await edge.report([a!, b!]);
    await rig.service.cycle();
    let hash = await activeFaults();
    expect([...hash.keys()].sort()).toEqual([faultKey(a!), faultKey(b!)].sort());
    expect(hash.get(faultKey(a!))).toMatchObject({ code: 'FAN_STOPPED', since: a!.since, source: 'edge-C01/miner', location: a!.location });
    const status = JSON.parse((await rig.redis.hget(REDIS_KEYS.edges, `${SITE}/C01/miner`))!) as EdgeStatus;
    expect(status).toMatchObject({ edge: 'edge-C01', source: 'miner', last: { seq: first.seq, time: first.time, activeFaults: 2 } });
    expect(status.silentSinceMs).toBeUndefined();

    await edge.report([a!]);
    await rig.service.cycle();
    hash = await activeFaults();
    expect([...hash.keys()]).toEqual([faultKey(a!)]);
  });

  test('An incomplete snapshot is not applied', async () => {
    const edge = new TestEdge(rig.store, SITE, 'C03');
    const faults = [minerFault(SITE, 'C03', 1), minerFault(SITE, 'C03', 2)];
    await edge.report(faults);
    await rig.service.cycle();
    expect((await activeFaults()).has(faultKey(faults[1]!))).toBe(true);
    const before = await metric('flymining_alerting_uplink_snapshots_total{outcome="incomplete"}');

    // The next sweep says one fault cleared, but its row has not arrived: the hash keeps the last complete state.
    const h = await edge.report([faults[0]!], { withoutRows: true });
    await rig.service.cycle();
    expect([...(await activeFaults()).keys()].filter((k) => k.startsWith('C03')).sort()).toEqual(faults.map(faultKey).sort());
    expect(await metric('flymining_alerting_uplink_snapshots_total{outcome="incomplete"}')).not.toBe(before);

    // Its row lands: the next cycle applies the snapshot.
    rig.store.write(encodePoints(faultStatePoints([faults[0]!], edge.name, 'miner', h.time)));
    await rig.store.flush();
    await rig.service.cycle();
    expect([...(await activeFaults()).keys()].filter((k) => k.startsWith('C03'))).toEqual([faultKey(faults[0]!)]);
  });

  test('a snapshot for a container whose row says another container is ignored', async () => {
    const c04 = new TestEdge(rig.store, SITE, 'C04');
    const c05 = new TestEdge(rig.store, SITE, 'C05');
    const time = Date.now();
    // C04's edge writes one row that names container C05: it is neither C04's fault nor C05's.
    const misplaced = minerFault(SITE, 'C05', 7);
    await c04.report([], { time, activeFaults: 1, extraRows: faultStatePoints([misplaced], c04.name, 'miner', time) });
    await c05.report([], { time });
    await rig.service.cycle();
    const hash = await activeFaults();
    expect(hash.has(faultKey(misplaced))).toBe(false);
    expect([...hash.values()].filter((f) => f.location.container === 'C04' || f.location.container === 'C05')).toEqual([]);
    // C05's own (empty) snapshot was applied; C04's waits, counted as incomplete.
    expect(await rig.redis.hexists(REDIS_KEYS.edges, `${SITE}/C05/miner`)).toBe(1);
    expect(await rig.redis.hexists(REDIS_KEYS.edges, `${SITE}/C04/miner`)).toBe(0);
  });

  test('a row that is not a known fault is counted and logged; the rest of the snapshot applies', async () => {
    const edge = new TestEdge(rig.store, SITE, 'C06');
    const good = minerFault(SITE, 'C06', 1);
    const time = Date.now();
    const [bogus] = faultStatePoints([minerFault(SITE, 'C06', 2)], edge.name, 'miner', time);
    bogus!.tags.code = 'FAN_ON_FIRE';
    const before = await metric('flymining_alerting_uplink_rows_rejected_total{measurement="fault_state"}');
    await edge.report([good], { time, activeFaults: 2, extraRows: [bogus!] });
    await rig.service.cycle();
    expect([...(await activeFaults()).keys()].filter((k) => k.startsWith('C06'))).toEqual([faultKey(good)]);
    expect(await metric('flymining_alerting_uplink_rows_rejected_total{measurement="fault_state"}')).not.toBe(before);
  });

  test('a fault the old direct exporter path left in Redis is cleared for a container the edges report for, kept elsewhere', async () => {
    const edge = new TestEdge(rig.store, SITE, 'C09');
    const held = minerFault(SITE, 'C09', 1);
    await edge.report([held]);
    await rig.service.cycle();
    const [leftover, elsewhere, stillTrue] = [minerFault(SITE, 'C09', 5), minerFault(SITE, 'C99', 5), { ...held }];
    delete stillTrue.source;
    // The old exporters stamped their own name as the source (e.g. "C09"): also a leftover, not an edge's.
    const named = { ...minerFault(SITE, 'C09', 6), source: 'C09' };
    await rig.redis.hset(REDIS_KEYS.activeFaults, faultKey(leftover), JSON.stringify(leftover), faultKey(elsewhere), JSON.stringify(elsewhere), faultKey(stillTrue), JSON.stringify(stillTrue), faultKey(named), JSON.stringify(named));
    await rig.service.cycle();
    const hash = await activeFaults();
    expect(hash.has(faultKey(leftover))).toBe(false);
    expect(hash.has(faultKey(named))).toBe(false);
    expect(hash.has(faultKey(elsewhere))).toBe(true);
    expect(hash.get(faultKey(held))?.source).toBe('edge-C09/miner'); // the snapshot still holds it: rewritten
  });

  test('Redis emptied (restarted without persistence): the next cycle writes the faults and edge statuses back', async () => {
    const edge = new TestEdge(rig.store, SITE, 'C08');
    const fault = minerFault(SITE, 'C08', 3);
    await edge.report([fault]);
    await rig.service.cycle();
    expect((await activeFaults()).has(faultKey(fault))).toBe(true);
    await rig.redis.flushall();
    await rig.service.cycle();
    expect((await activeFaults()).get(faultKey(fault))).toMatchObject({ code: 'FAN_STOPPED', source: 'edge-C08/miner' });
    expect(await rig.redis.hexists(REDIS_KEYS.edges, `${SITE}/C08/miner`)).toBe(1);
  });
});
