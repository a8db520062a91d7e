import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InfluxStore, InventoryHolder, createLogger, ensureDatabase, schemaRetention, type InfluxConfigInput } from '@flymining/shared';
import { PROFILE_IDS, generateFarmSpecs, inventoryYaml, type SimMinerSpec } from '@flymining/simulator';
import type { Redis } from 'ioredis';
import { MinerExporter } from '../../src/miner-exporter';

/** Two miners of every simulated profile, on their own 127.x addresses (so tests running at once never collide). */
export function mixedFarmSpecs(baseAddress: string, perProfile = 2): SimMinerSpec[] {
  const n = PROFILE_IDS.length * perProfile;
  return generateFarmSpecs({ miners: n, containers: 2, racksPerContainer: 2, shelvesPerRack: 2, slotsPerShelf: 5, baseAddress, seed: 11 }).map(
    (spec, i) => ({ ...spec, profile: PROFILE_IDS[i % PROFILE_IDS.length]! }),
  );
}

export function writeInventory(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'flymining-e2e-'));
  const file = path.join(dir, 'farm.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function inventoryFor(specs: SimMinerSpec[], detectFirmware = true): InventoryHolder {
  return new InventoryHolder(writeInventory(inventoryYaml(specs, { detectFirmware })));
}

export async function freshStore(database: string, extra: Partial<InfluxConfigInput> = {}, url = process.env.FLYMINING_TEST_INFLUX_URL as string): Promise<InfluxStore> {
  const store = new InfluxStore({
    url,
    database,
    flushIntervalMs: 200,
    spool: { dir: mkdtempSync(path.join(tmpdir(), 'flymining-spool-')), replayIntervalMs: 200 },
    ...extra,
  });
  await store.query(`DROP DATABASE "${database}"`).catch(() => undefined);
  await ensureDatabase(store, schemaRetention(database));
  return store;
}

export function exporterFor(inventory: InventoryHolder, store: InfluxStore, redis?: Redis, name = 'e2e'): MinerExporter {
  return new MinerExporter(
    inventory,
    store,
    { name, intervalMs: 30_000, jitterMs: 0, concurrency: 64, transport: { connectTimeoutMs: 1000, readTimeoutMs: 1500, maxBytes: 1024 * 1024 } },
    createLogger('e2e', 'silent'),
    redis,
  );
}
