/** Shared set-up for the InfluxDB storage tests: a fresh database per test file on the jest InfluxDB. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InfluxStore, type InfluxConfigInput, type InfluxStoreOptions } from '../../src/influx';

export function testInfluxUrl(): string {
  const url = process.env.FLYMINING_TEST_INFLUX_URL;
  if (!url) throw new Error('FLYMINING_TEST_INFLUX_URL is not set: run the tests through jest (globalSetup starts InfluxDB)');
  return url;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `flymining-${prefix}-`));
}

export function uniqueDatabase(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}

/** A store on a fresh database (created, with a DEFAULT `raw` policy) and its own spool folder. */
export async function openTestStore(
  prefix: string,
  overrides: Partial<InfluxConfigInput> = {},
  options: InfluxStoreOptions = {},
): Promise<InfluxStore> {
  const database = uniqueDatabase(prefix);
  const store = new InfluxStore(
    {
      url: testInfluxUrl(),
      database,
      flushIntervalMs: 50,
      spool: { dir: tempDir(prefix) },
      ...overrides,
    },
    options,
  );
  await store.query(`CREATE DATABASE "${database}"`);
  await store.query(`CREATE RETENTION POLICY "raw" ON "${database}" DURATION 40d REPLICATION 1 DEFAULT`);
  return store;
}

export async function countPoints(store: InfluxStore, measurement: string, field = 'v'): Promise<number> {
  const rows = await store.queryRows(`SELECT count("${field}") FROM "${measurement}"`);
  return Number(rows[0]?.count ?? 0);
}
