/**
 * Issue 17: the miner exporter writes one `container_sweep` row per served container per sweep, folded from the
 * very `miner` rows of that sweep, so the farm-wide panels can read 25 container series instead of 5,000 miners.
 * Simulated miners over real TCP → exporter → real InfluxDB; each container row is checked against InfluxDB's own
 * aggregates of the miners' rows of the same sweep.
 */
import type { InfluxStore } from '@flymining/shared';
import { SimulatedFarm, generateFarmSpecs } from '@flymining/simulator';
import { exporterFor, freshStore, inventoryFor } from './helpers';

const specs = generateFarmSpecs({ miners: 12, containers: 2, racksPerContainer: 2, shelvesPerRack: 1, slotsPerShelf: 3, baseAddress: '127.48.0.1', seed: 9 });

describe('miner exporter → container_sweep', () => {
  const farm = new SimulatedFarm({ specs, seed: 9 });
  let store: InfluxStore;

  beforeAll(async () => {
    await farm.start();
    store = await freshStore('e2e_container_sweep');
  });

  afterAll(async () => {
    await farm.stop();
    await store?.close();
  });

  test("each served container's row is its miners' rows of the sweep summed, with miners watched, answering and hashing", async () => {
    const [c1, c2] = [...new Set(specs.map((s) => s.position.container))] as [string, string];
    const inC1 = specs.filter((s) => s.position.container === c1);
    // In C1 one miner does not answer and one sleeps (answers, hashes nothing); C2 is healthy.
    farm.miner(inC1[0]!.id)!.applyFault({ fault: 'offline', on: true });
    const sleeper = inC1.slice(1).find((s) => farm.miner(s.id)!.profile.supportsSleep);
    if (sleeper) farm.miner(sleeper.id)!.applyFault({ fault: 'sleep', on: true });
    // The edge also serves an empty container: it gets a row with its counts and no sums.
    const exporter = exporterFor(inventoryFor(specs, false), store, { containers: [c1, c2, 'EMPTY'] });
    const report = await exporter.sweep(0);
    await store.flush();

    const rows = await store.queryRows(`SELECT * FROM "container_sweep" WHERE time = ${report.startedAt}ms`);
    const byContainer = new Map(rows.map((r) => [r.container, r]));
    expect([...byContainer.keys()].sort()).toEqual([c1, c2, 'EMPTY'].sort());
    expect(byContainer.get('EMPTY')).toMatchObject({ miners: 0, reachable: 0, hashing: 0, hashrate_ths: null, power_w: null });

    // InfluxDB's aggregates over the miners' own rows of this sweep (scrape times differ from the sweep's start).
    const fromMiners = await store.queryRows(
      'SELECT sum("hashrate_ths") AS "hashrate_ths", sum("nominal_ths") AS "nominal_ths", sum("power_w") AS "power_w", max("temp_max_c") AS "temp_max_c", ' +
        'mean("ambient_c") AS "ambient_c", sum("hashing") AS "hashing", count("hashrate_ths") AS "answered" FROM "miner" GROUP BY "container"',
    );
    const efficiency = await store.queryRows('SELECT mean("efficiency_jth") AS "efficiency_jth" FROM "miner" WHERE "efficiency_jth" > 0 GROUP BY "container"');
    const close = (x: unknown) => (typeof x === 'number' ? Math.round(x * 100) / 100 : x);
    for (const container of [c1, c2]) {
      const m = fromMiners.find((r) => r.container === container)!;
      const row = byContainer.get(container)!;
      const watched = specs.filter((s) => s.position.container === container).length;
      expect({ container, miners: row.miners, reachable: row.reachable, hashing: row.hashing }).toEqual({ container, miners: watched, reachable: m.answered, hashing: m.hashing });
      for (const f of ['hashrate_ths', 'nominal_ths', 'power_w', 'temp_max_c', 'ambient_c']) expect({ container, f, v: close(row[f]) }).toEqual({ container, f, v: close(m[f]) });
      expect({ container, v: close(row.efficiency_jth) }).toEqual({ container, v: close(efficiency.find((r) => r.container === container)?.efficiency_jth ?? null) });
    }
    const c1Row = byContainer.get(c1)!;
    expect(c1Row.reachable).toBe(inC1.length - 1);
    expect(c1Row.hashing).toBe(inC1.length - 1 - (sleeper ? 1 : 0));
    expect(byContainer.get(c2)).toMatchObject({ reachable: specs.length - inC1.length, hashing: specs.length - inC1.length });
  });
});
