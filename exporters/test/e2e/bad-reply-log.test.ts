/**
 * A firmware that always answers with the same flaw (the S9's stats reply misses commas between objects) is repaired
 * every sweep and counted every time, but told in the log once per miner and command, not once per sweep: at a
 * 10 s interval a farm of S9s otherwise buries everything else in the exporter's log.
 */
import pino from 'pino';
import { InventoryHolder, type InfluxStore } from '@flymining/shared';
import { SimulatedFarm, generateFarmSpecs, inventoryYaml } from '@flymining/simulator';
import { MinerExporter } from '../../src/miner/exporter';
import { freshStore, writeInventory } from './helpers';

const specs = generateFarmSpecs({ miners: 2, containers: 1, baseAddress: '127.36.0.1', seed: 5, profileMix: { 'antminer-s9': 1 } });
const farm = new SimulatedFarm({ specs, seed: 5 });
let store: InfluxStore;
let logText = '';

beforeAll(async () => {
  await farm.start();
  store = await freshStore(`e2e_bad_reply_${process.pid}`);
});

afterAll(async () => {
  await farm.stop();
  await store.close();
});

test('the S9s are repaired and counted on every sweep but each flaw is logged once per miner', async () => {
  const log = pino({ level: 'info' }, { write: (line: string) => void (logText += line) });
  const exporter = new MinerExporter(
    new InventoryHolder(writeInventory(inventoryYaml(specs))),
    store,
    { name: 'e2e-bad-reply', intervalMs: 30_000, jitterMs: 0, concurrency: 8, transport: { connectTimeoutMs: 1000, readTimeoutMs: 1500, maxBytes: 1024 * 1024 } },
    log,
  );
  for (let i = 0; i < 3; i++) await exporter.sweep(0);
  const warned = logText.split('\n').filter((l) => l.includes('bad reply: '));
  const counted = (await exporter.metrics.registry.getSingleMetric('flymining_bad_replies_total')!.get()).values[0]?.value ?? 0;
  expect(warned.length).toBeGreaterThan(0);
  expect(counted).toBe(3 * warned.length); // every sweep counts each flaw again ...
  const perMinerCommand = new Set(warned.map((l) => { const j = JSON.parse(l) as { miner: string; command: string }; return `${j.miner} ${j.command}`; }));
  expect(perMinerCommand.size).toBe(warned.length); // ... the log says each miner's flaw once
  expect([...perMinerCommand].map((k) => k.split(' ')[0]).sort()).toEqual(specs.map((s) => s.id).sort());
});
