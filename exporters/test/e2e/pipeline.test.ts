/**
 * End to end over real connections: simulated miners (real TCP, every dialect) → exporter → real InfluxDB and Redis.
 * The firmware is left out of the inventory, so detection runs too.
 */
import net from 'node:net';
import { REDIS_KEYS, type FaultEvent, type InfluxStore } from '@flymining/shared';
import { PROFILES, SimulatedFarm } from '@flymining/simulator';
import Redis from 'ioredis';
import { exporterFor, freshStore, inventoryFor, mixedFarmSpecs } from './helpers';

const REDIS_DB = 11;
const SOURCE = 'e2e-pipeline'; // this file's exporters: events from other tests' exporters are ignored
const LISTS_ONLY_SPINNING_FANS = new Set(['antminer-s9', 'antminer-s9-hiveon', 'antminer-s9-vnish', 'braiins-s9', 'avalon-1246']); // this file's own Redis database, flushed at start

describe('simulator → exporter → InfluxDB and Redis', () => {
  const specs = mixedFarmSpecs('127.31.0.1');
  const farm = new SimulatedFarm({ specs, seed: 5 });
  let store: InfluxStore;
  let redis: Redis;
  let subscriber: Redis;
  const published: FaultEvent[] = [];
  /** Everything on the channel, ours or not: shown when an expected event does not come. */
  const heard: string[] = [];

  const heardSoFar = (): string => `(heard on the channel: ${JSON.stringify(heard.slice(-20))}, subscriber ${subscriber.status})`;

  beforeAll(async () => {
    await farm.start();
    store = await freshStore('e2e_pipeline');
    const url = `${process.env.FLYMINING_TEST_REDIS_URL?.replace(/\/\d*$/, '') ?? 'redis://127.0.0.1:6379'}/${REDIS_DB}`;
    redis = new Redis(url);
    subscriber = new Redis(url);
    await redis.flushdb();
    await subscriber.subscribe(REDIS_KEYS.faultChannel);
    // Redis pub/sub channels are global (not per database): other tests' exporters publish on the same channel.
    subscriber.on('message', (_channel, message: string) => {
      const event = JSON.parse(message) as FaultEvent;
      heard.push(`${event.source} ${event.type} ${event.fault.code}`);
      if (event.source === SOURCE) published.push(event);
    });
  });

  afterAll(async () => {
    await farm.stop();
    await store.close();
    redis.disconnect();
    subscriber.disconnect();
  });

  test('a sweep stores every miner with the values its firmware reports, and a stopped fan becomes a fault', async () => {
    const exporter = exporterFor(inventoryFor(specs), store, redis, SOURCE);
    const report = await exporter.sweep(0);
    expect(report.scraped).toBe(specs.length);
    await store.flush();

    const rows = await store.queryRows(
      'SELECT last(hashrate_ths) AS ths, last(boards_present) AS boards, last(mode) AS mode FROM miner GROUP BY miner, vendor, firmware',
    );
    expect(rows).toHaveLength(specs.length);
    for (const spec of specs) {
      const profile = PROFILES[spec.profile];
      const row = rows.find((r) => r.miner === spec.id);
      expect({ id: spec.id, vendor: row?.vendor, firmware: row?.firmware, mode: row?.mode, boards: row?.boards }).toEqual({
        id: spec.id,
        vendor: profile.vendor,
        firmware: profile.firmware,
        mode: 'hashing',
        boards: profile.boards,
      });
      // The simulator hashes around nominal: the stored value must be that, in TH/s, not GH/s or MH/s.
      expect(row?.ths as number).toBeGreaterThan(profile.nominalThs * 0.8);
      expect(row?.ths as number).toBeLessThan(profile.nominalThs * 1.2);
    }
    const fans = await store.queryRows('SELECT count(rpm) AS n FROM miner_fan GROUP BY miner');
    for (const spec of specs) {
      const expected = PROFILES[spec.profile].fans;
      expect({ id: spec.id, fans: fans.find((r) => r.miner === spec.id)?.n ?? 0 }).toEqual({ id: spec.id, fans: expected });
    }
    // A healthy farm raises nothing.
    expect(await store.queryRows('SELECT * FROM fault')).toEqual([]);
    expect(await redis.hlen(REDIS_KEYS.activeFaults)).toBe(0);

    // Stop the first fan of an air-cooled Antminer: the next sweep records FAN_STOPPED for that slot.
    const victim = specs.find((s) => s.profile === 'antminer-s19pro')!;
    farm.miner(victim.id)!.applyFault({ fault: 'stopFan', index: 0 });
    await exporter.sweep(0);
    await store.flush();
    const faults = await store.queryRows(`SELECT active, message FROM fault WHERE code = 'FAN_STOPPED' GROUP BY miner, part`);
    expect(faults).toHaveLength(1);
    const [fault] = faults;
    const { container, rack, shelf, slot } = victim.position;
    expect(fault).toMatchObject({ miner: victim.id, active: 1 });
    for (const place of [container, rack, shelf, slot]) expect(fault?.message).toContain(place);
    expect(await redis.hkeys(REDIS_KEYS.activeFaults)).toEqual([expect.stringMatching(new RegExp(`^${victim.id}\\|FAN_STOPPED\\|`))]);
    await waitFor(() => published.some((e) => e.type === 'raised' && e.fault.code === 'FAN_STOPPED'), undefined, heardSoFar);

    // The fan spins again: cleared in InfluxDB and Redis, announced once.
    farm.miner(victim.id)!.applyFault({ fault: 'clear' });
    await exporter.sweep(0);
    await store.flush();
    const history = await store.queryRows(`SELECT active FROM fault WHERE code = 'FAN_STOPPED'`);
    expect(history.map((r) => r.active)).toEqual([1, 0]);
    expect(await redis.hlen(REDIS_KEYS.activeFaults)).toBe(0);
    await waitFor(() => published.some((e) => e.type === 'cleared'), undefined, heardSoFar);
    expect(published.map((e) => `${e.type} ${e.fault.code}`)).toEqual(['raised FAN_STOPPED', 'cleared FAN_STOPPED']);
  });

  test('broken parts are found in every dialect: a dropped hashboard, a stopped fan, dead chips; sleep raises no hardware fault', async () => {
    for (const s of specs) farm.miner(s.id)!.applyFault({ fault: 'clear' });
    const exporter = exporterFor(inventoryFor(specs), store);
    await exporter.sweep(0); // first sample of each miner: uptime baseline
    const expected = new Map<string, string[]>();
    const seen = new Set<string>();
    for (const spec of specs) {
      const profile = PROFILES[spec.profile];
      const miner = farm.miner(spec.id)!;
      if (!seen.has(spec.profile)) {
        seen.add(spec.profile);
        miner.applyFault({ fault: 'dropBoard', board: 1 });
        expected.set(spec.id, ['BOARD_MISSING']);
      } else if (profile.fans > 0) {
        miner.applyFault({ fault: 'stopFan', index: 0 });
        // Firmware that lists only spinning fans cannot tell a stopped fan from a missing one.
        expected.set(spec.id, [LISTS_ONLY_SPINNING_FANS.has(spec.profile) ? 'FAN_MISSING' : 'FAN_STOPPED']);
      } else {
        miner.applyFault({ fault: 'killChips', board: 0, count: 4 });
        expected.set(spec.id, ['CHIPS_DEAD']);
      }
    }
    await exporter.sweep(0);
    const found = (id: string): string[] => [...new Set(exporter.health.activeFaults(id).map((f) => f.code))].sort();
    const mismatches = specs.filter((s) => JSON.stringify(found(s.id)) !== JSON.stringify(expected.get(s.id))).map((s) => `${s.profile} ${s.id}: expected ${expected.get(s.id)} got ${found(s.id)}`);
    expect(mismatches).toEqual([]);

    // Asleep (where the firmware has a sleep mode): only MINER_SLEEPING, although fans and boards read zero.
    const sleepers = specs.filter((s) => PROFILES[s.profile].supportsSleep);
    expect(sleepers.length).toBeGreaterThan(2);
    for (const s of specs) farm.miner(s.id)!.applyFault({ fault: 'clear' });
    for (const s of sleepers) farm.miner(s.id)!.applyFault({ fault: 'sleep' });
    await exporter.sweep(0);
    const wrong = specs
      .map((s) => ({ s, want: PROFILES[s.profile].supportsSleep ? ['MINER_SLEEPING'] : [] }))
      .filter(({ s, want }) => JSON.stringify(found(s.id)) !== JSON.stringify(want))
      .map(({ s, want }) => `${s.profile} ${s.id}: expected ${want} got ${found(s.id)}`);
    expect(wrong).toEqual([]);
    for (const s of sleepers) farm.miner(s.id)!.applyFault({ fault: 'clear' });
  });

  test('a restarted exporter does not announce a fault that is still active', async () => {
    const victim = specs.find((s) => s.profile === 'whatsminer-m31s')!;
    farm.miner(victim.id)!.applyFault({ fault: 'offline' });
    published.length = 0;
    const first = exporterFor(inventoryFor(specs), store, redis, SOURCE);
    await first.sweep(0);
    await waitFor(() => published.length > 0, undefined, heardSoFar);
    expect(published.map((e) => `${e.type} ${e.fault.code} ${e.fault.minerId}`)).toEqual([`raised MINER_UNREACHABLE ${victim.id}`]);
    const restarted = exporterFor(inventoryFor(specs), store, redis, SOURCE);
    await restarted.sweep(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(published).toHaveLength(1);
    farm.miner(victim.id)!.applyFault({ fault: 'clear' });
    await waitForListener(victim.host, victim.port); // the simulator reopens its listener asynchronously
    await restarted.sweep(0);
    await waitFor(() => published.length === 2, undefined, heardSoFar);
    expect(published[1]).toMatchObject({ type: 'cleared', fault: { code: 'MINER_UNREACHABLE', minerId: victim.id } });
  });
});

async function waitForListener(host: string, port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${host}:${port} did not listen again`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000, explain: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met in time ${explain()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
