/**
 * End to end over real connections: simulated miners (real TCP, every dialect) → exporter → real InfluxDB, where
 * the center reads the edge's snapshots (fault_state rows + edge_heartbeat) and the fault history.
 * The firmware is left out of the inventory, so detection runs too.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { InventoryHolder, type InfluxStore } from '@flymining/shared';
import { PROFILES, SimulatedFarm, inventoryYaml } from '@flymining/simulator';
import { describeSnapshots, exporterFor, freshStore, inventoryFor, latestSnapshots, mixedFarmSpecs, tempDir, writeInventory } from './helpers';

const EDGE = 'e2e-pipeline';
const LISTS_ONLY_SPINNING_FANS = new Set(['antminer-s9', 'antminer-s9-hiveon', 'antminer-s9-vnish', 'braiins-s9', 'avalon-1246']);

describe('simulator → exporter → InfluxDB: samples, fault history and the edge snapshots', () => {
  const specs = mixedFarmSpecs('127.31.0.1');
  const farm = new SimulatedFarm({ specs, seed: 5 });
  let store: InfluxStore;

  beforeAll(async () => {
    await farm.start();
    store = await freshStore('e2e_pipeline');
  });

  afterAll(async () => {
    await farm.stop();
    await store.close();
  });

  test('a sweep stores every miner with the values its firmware reports, and a stopped fan becomes a fault', async () => {
    // The inventory also lists a container without miners: the edge serves it, so it gets heartbeats too.
    const yaml = `${inventoryYaml(specs, { detectFirmware: true }).trimEnd()}\n  - name: EMPTY\n    racks: []\n`;
    const exporter = exporterFor(new InventoryHolder(writeInventory(yaml)), store, { name: EDGE });
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
    // A healthy farm raises nothing; every served container reports, with its own miner count, at the sweep's time.
    expect(await store.queryRows('SELECT * FROM fault')).toEqual([]);
    const healthy = await latestSnapshots(store, EDGE, 'miner');
    const perContainer = (container: string): number => specs.filter((s) => s.position.container === container).length;
    const containers = [...new Set(specs.map((s) => s.position.container))];
    expect([...healthy.keys()].sort()).toEqual([...containers, 'EMPTY'].sort());
    for (const [container, snapshot] of healthy) {
      expect(snapshot.heartbeat).toMatchObject({
        container,
        edge: EDGE,
        source: 'miner',
        site: specs[0]!.position.site,
        seq: 1,
        time: report.startedAt,
        miners: container === 'EMPTY' ? 0 : perContainer(container),
        reachable: container === 'EMPTY' ? 0 : perContainer(container),
        activeFaults: 0,
      });
      // Before the store's first write has gone through, the uplink may still be "starting".
      expect(['starting', 'ok']).toContain(snapshot.heartbeat.uplink);
      expect(snapshot.faults).toEqual([]);
    }

    // Stop the first fan of an air-cooled Antminer: the next sweep's snapshot holds FAN_STOPPED for that slot.
    const victim = specs.find((s) => s.profile === 'antminer-s19pro')!;
    const { container, rack, shelf, slot } = victim.position;
    farm.miner(victim.id)!.applyFault({ fault: 'stopFan', index: 0 });
    const second = await exporter.sweep(0);
    await store.flush();
    const faults = await store.queryRows(`SELECT active, message FROM fault WHERE code = 'FAN_STOPPED' GROUP BY miner, part`);
    expect(faults).toHaveLength(1);
    const [fault] = faults;
    expect(fault).toMatchObject({ miner: victim.id, active: 1 });
    for (const place of [container, rack, shelf, slot]) expect(fault?.message).toContain(place);
    const raised = await latestSnapshots(store, EDGE, 'miner');
    expect(describeSnapshots(raised)).toEqual({ faults: [`FAN_STOPPED ${victim.id} fan 1`], complete: true });
    const row = raised.get(container)!;
    expect(row.heartbeat).toMatchObject({ seq: 2, time: second.startedAt, activeFaults: 1, uplink: 'ok', spoolLines: 0, pointsDropped: 0 });
    expect(row.faults[0]).toMatchObject({ location: { container, rack, shelf, slot }, severity: 'critical', source: `${EDGE}/miner` });
    expect(row.faults[0]!.message).toContain(slot);

    // The fan spins again: cleared in the history, absent from the next snapshot.
    farm.miner(victim.id)!.applyFault({ fault: 'clear' });
    await exporter.sweep(0);
    await store.flush();
    const history = await store.queryRows(`SELECT active FROM fault WHERE code = 'FAN_STOPPED'`);
    expect(history.map((r) => r.active)).toEqual([1, 0]);
    const cleared = await latestSnapshots(store, EDGE, 'miner');
    expect(describeSnapshots(cleared)).toEqual({ faults: [], complete: true });
    expect(cleared.get(container)!.heartbeat.seq).toBe(3);
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

  test('a restarted edge re-asserts its active faults with the same since, announcing nothing again', async () => {
    const victim = specs.find((s) => s.profile === 'whatsminer-m31s')!;
    const edge = 'e2e-restart';
    const stateDir = tempDir('edge-state');
    const transitions = async (): Promise<string[]> =>
      (await store.queryRows(`SELECT active, code FROM fault WHERE miner = '${victim.id}' AND code = 'MINER_UNREACHABLE'`)).map((r) => `${r.active} ${r.code}`);
    const before = (await transitions()).length;
    farm.miner(victim.id)!.applyFault({ fault: 'offline' });
    const first = exporterFor(inventoryFor(specs), store, { name: edge, stateDir });
    await first.sweep(0);
    await store.flush();
    const [raised] = (await latestSnapshots(store, edge, 'miner')).get(victim.position.container)!.faults;
    expect(raised).toMatchObject({ code: 'MINER_UNREACHABLE', minerId: victim.id });
    expect((await transitions()).slice(before)).toEqual(['1 MINER_UNREACHABLE']);

    await new Promise((r) => setTimeout(r, 20)); // the restarted edge's first sweep is at a later ms
    const restarted = exporterFor(inventoryFor(specs), store, { name: edge, stateDir });
    const sweep = await restarted.sweep(0);
    await store.flush();
    const again = (await latestSnapshots(store, edge, 'miner')).get(victim.position.container)!;
    expect(again.heartbeat).toMatchObject({ seq: 1, time: sweep.startedAt, activeFaults: 1 });
    expect(again.faults).toEqual([expect.objectContaining({ code: 'MINER_UNREACHABLE', minerId: victim.id, since: raised!.since })]);
    expect((await transitions()).slice(before)).toEqual(['1 MINER_UNREACHABLE']); // not raised a second time

    farm.miner(victim.id)!.applyFault({ fault: 'clear' });
    await waitForListener(victim.host, victim.port); // the simulator reopens its listener asynchronously
    await restarted.sweep(0);
    await store.flush();
    expect((await transitions()).slice(before)).toEqual(['1 MINER_UNREACHABLE', '0 MINER_UNREACHABLE']);
    expect(describeSnapshots(await latestSnapshots(store, edge, 'miner'))).toEqual({ faults: [], complete: true });
  });

  test('the miner exporter leaves each container\'s miners power in the edge state folder, summed over the miners that answered', async () => {
    const stateDir = tempDir('edge-power');
    const exporter = exporterFor(inventoryFor(specs), store, { name: 'e2e-power', stateDir });
    const sweep = await exporter.sweep(0);
    await store.flush();
    const saved = JSON.parse(readFileSync(path.join(stateDir, 'miners-power.json'), 'utf8')) as { savedAtMs: number; state: { containers: Record<string, number> } };
    expect(saved.savedAtMs).toBe(sweep.startedAt);
    const rows = await store.queryRows(
      `SELECT sum(w) AS w FROM (SELECT last(power_w) AS w FROM miner WHERE time >= ${sweep.startedAt}ms GROUP BY miner, container) GROUP BY container`,
    );
    const stored = Object.fromEntries(rows.map((r) => [r.container as string, r.w as number]));
    expect(Object.keys(stored).length).toBeGreaterThan(0);
    for (const [container, watts] of Object.entries(stored)) expect(saved.state.containers[container]).toBeCloseTo(watts, 3);
  });

  test('without its saved state a restarted edge raises the same fault anew (what the state file prevents)', async () => {
    const victim = specs.find((s) => s.profile === 'whatsminer-m31s')!;
    farm.miner(victim.id)!.applyFault({ fault: 'offline' });
    const first = exporterFor(inventoryFor(specs), store, { name: 'e2e-amnesia' });
    await first.sweep(0);
    await new Promise((r) => setTimeout(r, 20));
    const restarted = exporterFor(inventoryFor(specs), store, { name: 'e2e-amnesia' });
    await restarted.sweep(0);
    const [a] = first.health.activeFaults(victim.id);
    const [b] = restarted.health.activeFaults(victim.id);
    expect(b!.since).toBeGreaterThan(a!.since);
    farm.miner(victim.id)!.applyFault({ fault: 'clear' });
    await waitForListener(victim.host, victim.port);
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
