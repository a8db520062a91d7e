/** Shared set-up for the InfluxDB storage tests: a fresh database per test file on the jest InfluxDB. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InfluxStore, type InfluxConfigInput, type InfluxLogger, type InfluxStoreOptions } from '../../src/influx';

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

/** Polls `check` until it holds; fails naming `what` (and what `describe` says about the state) after the deadline. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  describe: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LoggedLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  details: object;
}

/** An InfluxLogger that keeps what it is told, for tests that check what an operator would read. */
export function captureLogger(): { lines: LoggedLine[]; logger: Required<InfluxLogger>; text: () => string } {
  const lines: LoggedLine[] = [];
  const at = (level: LoggedLine['level']) => (details: object, message: string) => lines.push({ level, message, details });
  return {
    lines,
    logger: { info: at('info'), warn: at('warn'), error: at('error') },
    text: () => lines.map((l) => `${l.level}: ${l.message} ${JSON.stringify(l.details)}`).join('\n'),
  };
}
