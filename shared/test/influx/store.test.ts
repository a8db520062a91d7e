import { formatLine, type InfluxCounter, type InfluxStore } from '../../src/influx';
import { countPoints, openTestStore } from './helpers';

describe('InfluxStore against InfluxDB 1.6.7', () => {
  let store: InfluxStore;
  const mirrored: Partial<Record<InfluxCounter, number>> = {};
  beforeAll(async () => {
    store = await openTestStore('store', { batchSize: 500 }, {
      spool: false,
      onCount: (c, n) => {
        mirrored[c] = (mirrored[c] ?? 0) + n;
      },
    });
  });
  afterAll(() => store.close());

  test('round trip: rows per series with tags and time in ms', async () => {
    const t0 = Date.now() - 10_000;
    store.write([
      formatLine('rt', { miner: 'a' }, { v: 1.5, chips: 3, up: true, fw: 'x' }, t0, { integerFields: new Set(['chips']) }) as string,
      formatLine('rt', { miner: 'b' }, { v: 2 }, t0 + 1) as string,
    ]);
    await store.flush();
    const series = await store.query('SELECT * FROM "rt" GROUP BY "miner"');
    expect(series).toEqual([
      { name: 'rt', tags: { miner: 'a' }, rows: [{ time: t0, v: 1.5, chips: 3, up: true, fw: 'x' }] },
      { name: 'rt', tags: { miner: 'b' }, rows: [{ time: t0 + 1, v: 2, chips: null, up: null, fw: null }] },
    ]);
    expect(await store.ping()).toMatchObject({ ok: true, version: expect.stringMatching(/^1\.6/) });
  });

  test('one bad line in a batch: the others are written, the bad one counted as failed, not retried', async () => {
    const t0 = Date.now() - 20_000;
    store.write([formatLine('typed', { miner: 'seed' }, { v: 1 }, t0) as string]); // v is a float from now on
    await store.flush();
    const before = store.stats();
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(formatLine('typed', { miner: `m${i}` }, { v: i + 0.5 }, t0 + i + 1) as string);
    lines[137] = `typed,miner=bad v=7i ${t0 + 5000}`; // field type conflict
    lines[222] = `typed,miner=broken v= ${t0 + 5001}`; // malformed
    store.write(lines);
    await store.flush();
    const after = store.stats();
    expect(after.failed - before.failed).toBe(2);
    expect(after.written - before.written).toBe(298);
    expect(await countPoints(store, 'typed')).toBe(299);
    expect(after.lastError?.message).toMatch(/HTTP 400/);
    expect(mirrored.failed).toBe(after.failed);
    expect(mirrored.written).toBe(after.written);
  });

  test('a batch of only bad lines stops after a bounded number of requests', async () => {
    const before = store.stats();
    const lines = Array.from({ length: 400 }, (_, i) => `typed,miner=x${i} v=${i}i ${Date.now() - 1000 + i}`);
    store.write(lines);
    await store.flush();
    const after = store.stats();
    expect(after.failed - before.failed).toBe(400);
    expect(after.batches - before.batches).toBe(0);
  });
});
