/** /metrics and /healthz of a running exporter, over real HTTP, with a small simulated farm and real InfluxDB. */
import type { Server } from 'node:http';
import { SimulatedFarm, generateFarmSpecs } from '@flymining/simulator';
import { startHttp } from '../src/miner/http';
import { exporterFor, freshStore, inventoryFor } from './e2e/helpers';

test('/healthz says starting, then ok after a sweep; /metrics counts scrapes, failures and points', async () => {
  const specs = generateFarmSpecs({ miners: 5, containers: 1, baseAddress: '127.37.0.1', seed: 8, profileMix: { 'antminer-s19pro': 1 } });
  const farm = new SimulatedFarm({ specs, seed: 8 });
  await farm.start();
  farm.miner(specs[4]!.id)!.applyFault({ fault: 'offline' });
  const store = await freshStore('e2e_http');
  const exporter = exporterFor(inventoryFor(specs), store);
  let server: Server | undefined;
  try {
    server = await startHttp(exporter, { influxReachable: () => store.stats().reachable }, '127.0.0.1', 0);
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const before = await fetch(`${base}/healthz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ status: 'starting', miners: 5, lastSweep: null });

    await exporter.sweep(0);
    await store.flush();
    const after = await fetch(`${base}/healthz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ status: 'ok', miners: 5, influxReachable: true, lastSweep: { scraped: 5, overruns: 0 } });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^flymining_scrape_duration_seconds_count\{result="ok"\} 4$/m);
    expect(metrics).toMatch(/^flymining_scrape_errors_total\{kind="refused"\} 1$/m);
    expect(metrics).toMatch(/^flymining_miners_reachable 4$/m);
    expect(metrics).toMatch(/^flymining_faults_active\{severity="critical"\} 1$/m);
    const written = Number(/^flymining_points_written_total (\d+)$/m.exec(metrics)?.[1]);
    expect(written).toBeGreaterThan(4 * 10);
    expect(metrics).toMatch(/^flymining_points_spooled_total 0$/m);

    expect((await fetch(`${base}/nope`)).status).toBe(404);
  } finally {
    server?.close();
    await store.close();
    await farm.stop();
  }
});
