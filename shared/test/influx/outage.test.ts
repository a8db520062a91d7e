/**
 * InfluxDB goes away: points land in the spool (also from a writer killed with SIGKILL mid-way), and once InfluxDB
 * is back the replay backfills every point with its original timestamp, without duplicates.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { InfluxTestServer } from '../../../scripts/jest/influx-server';
import { formatLine, InfluxStore, Spool } from '../../src/influx';
import { countPoints, tempDir } from './helpers';

const WRITER = path.join(__dirname, 'fixtures', 'spool-writer.ts');
const database = 'outage';

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the writer until it has acknowledged at least minAcked points, then SIGKILLs it; resolves the last ack. */
async function killWriterMidway(url: string, spoolDir: string, baseMs: number, minAcked: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, url, database, spoolDir, String(baseMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let acked = 0;
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const m = /acked (\d+)\s*$/.exec(d.toString());
    if (m) acked = Number(m[1]);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  await waitFor(`the writer to spool ${minAcked} points (stderr: ${stderr})`, () => acked >= minAcked || child.exitCode !== null);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return acked;
}

describe('outage: spool, kill -9, replay', () => {
  let influx: InfluxTestServer;
  beforeAll(async () => {
    influx = await InfluxTestServer.create();
    await influx.start();
  });
  afterAll(() => influx.destroy());

  test('every point written while InfluxDB was down arrives once, with its own timestamp', async () => {
    const setup = new InfluxStore({ url: influx.url, database, spool: { dir: tempDir('outage-setup') } }, { spool: false });
    await setup.query(`CREATE DATABASE "${database}"`);
    await setup.query(`CREATE RETENTION POLICY "raw" ON "${database}" DURATION 40d REPLICATION 1 DEFAULT`);
    await setup.close();
    await influx.stop();

    const baseMs = Date.now() - 3_600_000;
    const parentSpool = tempDir('outage-parent');
    const store = new InfluxStore({
      url: influx.url,
      database,
      maxRetries: 1,
      minRetryDelayMs: 50,
      maxRetryDelayMs: 100,
      flushIntervalMs: 20,
      batchSize: 250,
      spool: { dir: parentSpool, replayIntervalMs: 100 },
    });
    for (let i = 0; i < 1000; i += 100) {
      store.write(Array.from({ length: 100 }, (_, k) => formatLine('outage', { writer: 'parent' }, { v: i + k }, baseMs + i + k) as string));
      await store.flush();
    }
    await waitFor('parent points in the spool', () => store.stats().spooled >= 1000);
    expect(store.stats()).toMatchObject({ spooled: 1000, written: 0, dropped: 0, reachable: false });
    expect(store.stats().lastError?.message).toMatch(/ECONNREFUSED|fetch failed|connect/i);

    const childSpool = tempDir('outage-child');
    const acked = await killWriterMidway(influx.url, childSpool, baseMs, 2000);
    const reopened = Spool.open({ dir: childSpool, maxBytes: 1024 ** 3 });
    const childLines = reopened.stats().lines;
    expect(childLines).toBeGreaterThanOrEqual(acked);
    await reopened.close();

    await influx.start();
    // Points written live while the backlog replays.
    const liveBase = Date.now() - 1000;
    store.write(Array.from({ length: 50 }, (_, k) => formatLine('outage', { writer: 'live' }, { v: k }, liveBase + k) as string));
    const childStore = new InfluxStore({ url: influx.url, database, batchSize: 500, spool: { dir: childSpool, replayIntervalMs: 100 } });
    await waitFor('both spools to drain', () => store.stats().spoolLines === 0 && childStore.stats().spoolLines === 0);
    await store.flush();
    await childStore.close();

    expect(store.stats()).toMatchObject({ replayed: 1000, reachable: true, dropped: 0 });
    expect(childStore.stats().replayed).toBe(childLines);
    const rows = await store.queryRows('SELECT "v", "writer" FROM "outage" WHERE time >= 0');
    const byWriter = (w: string) => rows.filter((r) => r.writer === w);
    expect(byWriter('parent')).toHaveLength(1000);
    expect(byWriter('child')).toHaveLength(childLines);
    expect(byWriter('live')).toHaveLength(50);
    // Original timestamps: each point's time is base + its number.
    for (const r of [...byWriter('parent'), ...byWriter('child')]) expect(r.time - baseMs).toBe(r.v);
    expect(await countPoints(store, 'outage')).toBe(1000 + childLines + 50);
    await store.close();
  });
});
