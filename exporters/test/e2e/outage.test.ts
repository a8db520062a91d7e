/**
 * The uplink or InfluxDB goes away for a while: the exporter keeps scraping into its spool and backfills every
 * sample with its original timestamp when InfluxDB answers again. Nothing is lost, nothing is doubled.
 */
import { SimulatedFarm } from '@flymining/simulator';
import { InfluxTestServer } from '../../../scripts/jest/influx-server';
import { exporterFor, freshStore, inventoryFor, mixedFarmSpecs } from './helpers';

test('InfluxDB stopped for three sweeps, then restarted: no sample is lost or duplicated', async () => {
  const influx = await InfluxTestServer.create();
  await influx.start();
  const specs = mixedFarmSpecs('127.33.0.1', 1);
  const farm = new SimulatedFarm({ specs, seed: 9 });
  await farm.start();
  const store = await freshStore('e2e_outage', { maxRetries: 0, minRetryDelayMs: 50, timeoutMs: 1000 }, influx.url);
  try {
    const exporter = exporterFor(inventoryFor(specs), store, { name: 'e2e-outage' });
    const sweepTimes: number[] = [];
    const sweep = async (): Promise<void> => {
      sweepTimes.push((await exporter.sweep(0)).startedAt);
      await new Promise((r) => setTimeout(r, 20)); // distinct timestamps per sweep
    };
    await sweep();
    await store.flush();

    await influx.stop();
    for (let i = 0; i < 3; i++) {
      await sweep();
      await store.flush(); // each sweep's points reach the spool before the next heartbeat reads the store's stats
    }
    const during = store.stats();
    expect(during.reachable).toBe(false);
    expect(during.spooled).toBeGreaterThanOrEqual(3 * specs.length); // at least the miner_up points of 3 sweeps
    // /healthz says why (the store's own reason), e.g. "uplink unreachable: ...; 42 points wait in the spool".
    expect(exporter.edge.problems()).toEqual([expect.stringMatching(/^uplink unreachable: .*; \d+ points wait in the spool$/)]);

    await influx.start();
    await sweep();
    await store.flush();
    const deadline = Date.now() + 20_000;
    while (store.stats().spoolLines > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(store.stats().spoolLines).toBe(0);
    expect(store.stats().dropped).toBe(0);
    expect(exporter.edge.problems()).toEqual([]);

    // Every miner has exactly one reachability point per sweep, each at its own (original) time.
    const up = await store.queryRows('SELECT count(reachable) AS n FROM miner_up GROUP BY miner');
    expect(up).toHaveLength(specs.length);
    for (const row of up) expect({ miner: row.miner, n: row.n }).toEqual({ miner: row.miner, n: sweepTimes.length });
    const times = await store.queryRows(`SELECT reachable FROM miner_up WHERE miner = '${specs[0]!.id}'`);
    expect(times.map((r) => r.time)).toHaveLength(5);
    expect(new Set(times.map((r) => r.time)).size).toBe(5);
    // The spooled points kept the sweep times of the outage, not the replay time.
    for (const t of sweepTimes.slice(1, 4)) expect(times.some((r) => Math.abs(r.time - t) < 5000 && r.time < sweepTimes[4]!)).toBe(true);

    // The heartbeats of the outage were spooled too and arrive with their sweep times, one per sweep and container:
    // the center sees the gap filled, and the later ones say the uplink was down with points waiting.
    const beats = await store.queryRows(`SELECT seq, uplink, spool_lines, active_faults FROM edge_heartbeat WHERE edge = 'e2e-outage' GROUP BY container`);
    const containers = [...new Set(specs.map((s) => s.position.container))];
    for (const container of containers) {
      const mine = beats.filter((b) => b.container === container);
      expect(mine.map((b) => [b.time, b.seq])).toEqual(sweepTimes.map((t, i) => [t, i + 1]));
      for (const late of mine.slice(2, 4)) expect({ uplink: late.uplink, waiting: Number(late.spool_lines) > 0 }).toEqual({ uplink: 'unreachable', waiting: true });
    }
  } finally {
    await store.close();
    await farm.stop();
    await influx.destroy();
  }
});
