import { downsample, ensureDatabase, formatLine, InfluxStore, type RetentionSpec } from '../../src/influx';
import { tempDir, testInfluxUrl, uniqueDatabase } from './helpers';

const spec: RetentionSpec = {
  raw: { duration: '40d' },
  rollup: { duration: '400d' },
  downsamples: [{ measurement: 'miner', interval: '5m', fields: { hashrate_ths: ['mean', 'max'], temp_c: 'max', fw: 'last' } }],
};

describe('retention and downsampling', () => {
  let store: InfluxStore;
  beforeAll(() => {
    store = new InfluxStore({ url: testInfluxUrl(), database: uniqueDatabase('ret'), flushIntervalMs: 50, spool: { dir: tempDir('ret') } }, { spool: false });
  });
  afterAll(() => store.close());

  test('creates the database, policies (raw default) and continuous queries; idempotent', async () => {
    await ensureDatabase(store, spec);
    await ensureDatabase(store, { ...spec, rollup: { duration: 'INF' } });
    const rps = await store.queryRows(`SHOW RETENTION POLICIES ON "${store.config.database}"`);
    expect(rps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'raw', duration: '960h0m0s', default: true }),
        expect.objectContaining({ name: 'rollup', duration: '0s', default: false }),
      ]),
    );
    const cqs = (await store.query('SHOW CONTINUOUS QUERIES')).filter((s) => s.name === store.config.database);
    expect(cqs[0]?.rows).toHaveLength(1);
    expect(String(cqs[0]?.rows[0]?.query)).toMatch(/GROUP BY time\(5m\), \*/);
  });

  test('refuses raw retention below 35 days (billing reruns)', async () => {
    await expect(ensureDatabase(store, { raw: { duration: '30d' } })).rejects.toThrow(/below 35d/);
    await expect(ensureDatabase(store, { raw: { duration: 'forever' } })).rejects.toThrow(/not a duration/);
  });

  test('downsample() writes 5-minute rollups per series over a range', async () => {
    const bucket = Math.floor((Date.now() - 3_600_000) / 300_000) * 300_000;
    const lines: string[] = [];
    for (const miner of ['a', 'b']) {
      for (let i = 0; i < 10; i++) {
        // Two buckets of five 1-minute samples each.
        const t = bucket + i * 60_000;
        lines.push(formatLine('miner', { miner }, { hashrate_ths: miner === 'a' ? i : 100, temp_c: 60 + i, fw: `v${i}` }, t) as string);
      }
    }
    store.write(lines);
    await store.flush();
    expect(store.stats().written).toBe(20);
    const written = await downsample(store, spec, bucket, bucket + 10 * 60_000);
    expect(written).toEqual([4]);
    const rows = await store.queryRows('SELECT * FROM "rollup"."miner" GROUP BY "miner"');
    expect(rows.filter((r) => r.miner === 'a')).toEqual([
      { miner: 'a', time: bucket, mean_hashrate_ths: 2, max_hashrate_ths: 4, max_temp_c: 64, last_fw: 'v4' },
      { miner: 'a', time: bucket + 300_000, mean_hashrate_ths: 7, max_hashrate_ths: 9, max_temp_c: 69, last_fw: 'v9' },
    ]);
    // Running it again overwrites the same points instead of adding new ones.
    await downsample(store, spec, bucket, bucket + 10 * 60_000);
    expect(await store.queryRows('SELECT count("mean_hashrate_ths") FROM "rollup"."miner"')).toMatchObject([{ count: 4 }]);
  });

  test('tiers: a coarser policy, rollups under the raw field names, and the tier table a dashboard variable reads', async () => {
    const tiers: RetentionSpec = {
      raw: { duration: '40d' },
      rollup: { duration: '400d' },
      tiers: [{ name: 'hourly', duration: 'INF' }],
      downsamples: [
        { measurement: 'up', interval: '5m', fields: { reachable: 'mean' }, keepFieldNames: true },
        { measurement: 'up', interval: '1h', fields: { reachable: 'mean' }, keepFieldNames: true, targetRp: 'hourly' },
      ],
      tierTable: { policy: 'meta', measurement: 'tier', tiers: [{ rp: 'raw', maxSpanMs: 1000 }, { rp: 'rollup', maxSpanMs: 5000 }, { rp: 'hourly', maxSpanMs: Infinity }] },
    };
    await ensureDatabase(store, tiers);
    const names = (await store.queryRows(`SHOW RETENTION POLICIES ON "${store.config.database}"`)).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['raw', 'rollup', 'hourly', 'meta']));
    const hour = Math.floor((Date.now() - 3 * 3_600_000) / 3_600_000) * 3_600_000;
    store.write([0, 1, 2, 3].map((i) => formatLine('up', { miner: 'a' }, { reachable: i < 3 ? 1 : 0 }, hour + i * 15 * 60_000) as string));
    await store.flush();
    await downsample(store, tiers, hour, hour + 3_600_000);
    expect(await store.queryRows('SELECT "reachable" FROM "hourly"."up"')).toEqual([{ time: hour, reachable: 0.75 }]);
    expect((await store.queryRows('SELECT "reachable" FROM "rollup"."up"')).map((r) => r.reachable)).toEqual([1, 1, 1, 0]);
    const pick = async (span: number) => (await store.queryRows(`SELECT "rp" FROM "meta"."tier" WHERE "min_span_ms" < ${span} AND "max_span_ms" >= ${span}`)).map((r) => r.rp);
    expect([await pick(1000), await pick(1001), await pick(5000), await pick(10 ** 12)]).toEqual([['raw'], ['rollup'], ['rollup'], ['hourly']]);
    await expect(ensureDatabase(store, { downsamples: [{ measurement: 'up', interval: '5m', fields: { x: 'mean' }, targetRp: 'nowhere' }] })).rejects.toThrow(/"nowhere" is not raw, rollup or a tier/);
    await expect(ensureDatabase(store, { downsamples: [{ measurement: 'up', interval: '5m', fields: { x: ['mean', 'max'] }, keepFieldNames: true }] })).rejects.toThrow(/one aggregation per field/);
  });
});
