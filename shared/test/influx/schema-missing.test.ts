/**
 * Someone drops the database under a running writer: InfluxDB answers writes with 404 "database not found". The
 * store says so once (not "unreachable": InfluxDB answers), keeps the points in the spool, re-runs the schema
 * set-up through onSchemaMissing and replays: database, policies and continuous queries are back, every point once.
 */
import { ensureDatabase, formatLine, InfluxStore, type RetentionSpec } from '../../src/influx';
import { captureLogger, countPoints, tempDir, testInfluxUrl, uniqueDatabase, waitFor } from './helpers';

const spec: RetentionSpec = {
  raw: { duration: '40d' },
  rollup: { duration: '400d' },
  downsamples: [{ measurement: 'dropped_db', interval: '5m', fields: { v: 'mean' } }],
};

test('a dropped database is reported, re-created with its policies and continuous queries, and every point arrives once', async () => {
  const log = captureLogger();
  const database = uniqueDatabase('dropped');
  let setUps = 0;
  const store: InfluxStore = new InfluxStore(
    { url: testInfluxUrl(), database, flushIntervalMs: 20, spool: { dir: tempDir('dropped'), replayIntervalMs: 1000 } },
    {
      logger: log.logger,
      onSchemaMissing: async () => {
        setUps++;
        await ensureDatabase(store, spec);
      },
    },
  );
  await ensureDatabase(store, spec);
  const baseMs = Date.now() - 600_000;
  const line = (i: number) => formatLine('dropped_db', { miner: `m${i % 7}` }, { v: i }, baseMs + i) as string;
  store.write([line(0)]);
  await store.flush();
  expect(store.stats().written).toBe(1);

  await store.query(`DROP DATABASE "${database}"`);
  const afterDrop = Array.from({ length: 300 }, (_, i) => line(i + 1));
  store.write(afterDrop.slice(0, 100));
  await store.flush();
  const missing = store.stats();
  expect(missing).toMatchObject({ uplink: 'ok', reachable: true, schemaMissing: true, spooled: 100, dropped: 0 });
  expect(missing.uplinkError).toContain(`has no database "${database}": HTTP 404`);
  expect(missing.lastError?.message).toContain('database not found');
  // Writes keep coming while the set-up runs.
  store.write(afterDrop.slice(100, 200));
  await store.flush();
  await waitFor('the schema set-up', () => setUps >= 1);
  store.write(afterDrop.slice(200));
  await waitFor('the spool to replay', () => store.stats().spoolLines === 0 && !store.stats().schemaMissing, 20_000, () =>
    JSON.stringify(store.stats()),
  );
  await store.flush();

  const reasons = log.lines.filter((l) => l.message.includes('has no database'));
  expect(reasons).toHaveLength(1);
  expect(reasons[0]?.message).toContain('database not found');
  expect(log.lines.filter((l) => l.message.includes(`re-created database "${database}"`))).toHaveLength(1);
  const rps = await store.queryRows(`SHOW RETENTION POLICIES ON "${database}"`);
  expect(rps).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'raw', default: true }),
      expect.objectContaining({ name: 'rollup', default: false }),
    ]),
  );
  const cqs = (await store.query('SHOW CONTINUOUS QUERIES')).filter((s) => s.name === database);
  expect(cqs[0]?.rows.map((r) => r.name)).toEqual(['fm_dropped_db_raw_rollup_5m']);
  // Every point written after the drop, once, with its own time.
  const rows = await store.queryRows('SELECT "v" FROM "dropped_db" WHERE time >= 0');
  expect(rows).toHaveLength(300);
  expect(await countPoints(store, 'dropped_db')).toBe(300);
  for (const r of rows) expect(r.time - baseMs).toBe(r.v);
  expect(store.stats()).toMatchObject({ dropped: 0, uplink: 'ok', schemaMissing: false });
  await store.query(`DROP DATABASE "${database}"`);
  await store.close();
});
