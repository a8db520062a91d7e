/**
 * InfluxDB goes away: points land in the spool (also from a writer killed with SIGKILL mid-way), and once InfluxDB
 * is back the replay backfills every point with its original timestamp, without duplicates.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { InfluxTestServer } from '../../../scripts/jest/influx-server';
import { formatLine, InfluxStore, Spool } from '../../src/influx';
import { captureLogger, countPoints, tempDir, waitFor } from './helpers';

const WRITER = path.join(__dirname, 'fixtures', 'spool-writer.ts');
const database = 'outage';

type WriterMode = 'flush' | 'sync-when-down';

/** Runs the writer until it has acknowledged at least minAcked points, then SIGKILLs it; resolves the last ack. */
async function killWriterMidway(url: string, spoolDir: string, baseMs: number, minAcked: number, mode: WriterMode): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, url, database, spoolDir, String(baseMs), mode], {
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
  await waitFor(`the writer to spool ${minAcked} points`, () => acked >= minAcked || child.exitCode !== null, 30_000, () => stderr);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  expect(stderr).not.toContain('spool-writer:');
  return acked;
}

/** Replays until the store's spool is empty (each replaySpool() resolves when drained or InfluxDB stopped answering). */
async function drain(store: InfluxStore): Promise<void> {
  await waitFor(
    'the spool to drain',
    async () => {
      await store.replaySpool();
      return store.stats().spoolLines === 0;
    },
    30_000,
    () => JSON.stringify(store.stats()),
  );
}

describe('outage: spool, kill -9, replay', () => {
  let influx: InfluxTestServer;
  beforeAll(async () => {
    influx = await InfluxTestServer.create();
    await influx.start();
    const setup = new InfluxStore({ url: influx.url, database, spool: { dir: tempDir('outage-setup') } }, { spool: false });
    await setup.query(`CREATE DATABASE "${database}"`);
    await setup.query(`CREATE RETENTION POLICY "raw" ON "${database}" DURATION 40d REPLICATION 1 DEFAULT`);
    await setup.close();
  });
  afterAll(() => influx.destroy());

  test('every point written while InfluxDB was down arrives once, with its own timestamp', async () => {
    await influx.stop();
    const baseMs = Date.now() - 3_600_000;
    const parentSpool = tempDir('outage-parent');
    const log = captureLogger();
    const store = new InfluxStore(
      {
        url: influx.url,
        database,
        maxRetries: 1,
        minRetryDelayMs: 50,
        maxRetryDelayMs: 100,
        flushIntervalMs: 20,
        batchSize: 250,
        spool: { dir: parentSpool, replayIntervalMs: 100, maxReplayIntervalMs: 400 },
      },
      { logger: log.logger },
    );
    expect(store.stats()).toMatchObject({ uplink: 'starting', reachable: true, spoolOldestMs: 0 });
    const downFrom = Date.now();
    for (let i = 0; i < 1000; i += 100) {
      store.write(Array.from({ length: 100 }, (_, k) => formatLine('outage', { writer: 'parent' }, { v: i + k }, baseMs + i + k) as string));
      await store.flush();
    }
    await waitFor('parent points in the spool', () => store.stats().spooled >= 1000);
    const down = store.stats();
    expect(down).toMatchObject({ spooled: 1000, written: 0, dropped: 0, reachable: false, uplink: 'unreachable', spoolLines: 1000 });
    expect(down.uplinkError).toContain(`InfluxDB at ${influx.url} unreachable`);
    expect(down.uplinkError).toContain('ECONNREFUSED');
    expect(down.unavailableSinceMs).toBeGreaterThanOrEqual(downFrom);
    // The first spooled line is the first point written.
    expect(down.spoolOldestMs).toBe(baseMs);
    // Ten flushes and several probes: the outage is logged once.
    const outageLines = () => log.lines.filter((l) => l.message.includes('unreachable'));
    expect(outageLines()).toHaveLength(1);
    expect(outageLines()[0]?.message).toMatch(/ECONNREFUSED.*points go to the spool/);

    const childSpool = tempDir('outage-child');
    const acked = await killWriterMidway(influx.url, childSpool, baseMs, 2000, 'flush');
    const reopened = Spool.open({ dir: childSpool, maxBytes: 1024 ** 3 });
    const childLines = reopened.stats().lines;
    expect(childLines).toBeGreaterThanOrEqual(acked);
    expect(reopened.oldestTimeMs()).toBe(baseMs);
    await reopened.close();

    await influx.start();
    // Points written live while the backlog replays (spooled too while the store has not yet seen InfluxDB back).
    const liveBase = Date.now() - 1000;
    store.write(Array.from({ length: 50 }, (_, k) => formatLine('outage', { writer: 'live' }, { v: k }, liveBase + k) as string));
    const childStore = new InfluxStore({ url: influx.url, database, batchSize: 500, spool: { dir: childSpool, replayIntervalMs: 100 } });
    await store.flush();
    await Promise.all([drain(store), drain(childStore)]);
    await childStore.close();

    const after = store.stats();
    expect(after).toMatchObject({ reachable: true, uplink: 'ok', dropped: 0, spoolOldestMs: 0, schemaMissing: false });
    expect(after.unavailableSinceMs).toBeUndefined();
    expect(after.uplinkError).toBeUndefined();
    expect(after.spooled).toBeGreaterThanOrEqual(1000);
    expect(after.replayed).toBe(after.spooled);
    expect(childStore.stats().replayed).toBe(childLines);
    const recovery = log.lines.filter((l) => l.message.includes('accepted writes again'));
    expect(recovery).toHaveLength(1);
    expect(recovery[0]?.message).toMatch(new RegExp(`^uplink to ${influx.url} accepted writes again after [\\dhms]+; replaying [\\d,]+ spooled points$`));

    const rows = await store.queryRows('SELECT "v", "writer" FROM "outage" WHERE time >= 0');
    const byWriter = (w: string) => rows.filter((r) => r.writer === w);
    expect(byWriter('parent')).toHaveLength(1000);
    expect(byWriter('child-flush')).toHaveLength(childLines);
    expect(byWriter('live')).toHaveLength(50);
    // Original timestamps: each point's time is base + its number.
    for (const r of [...byWriter('parent'), ...byWriter('child-flush')]) expect(r.time - baseMs).toBe(r.v);
    expect(await countPoints(store, 'outage')).toBe(1000 + childLines + 50);
    await store.close();
  });

  test('spool.syncWhenDown: a writer SIGKILLed mid-outage loses nothing write() accepted', async () => {
    await influx.stop();
    const baseMs = Date.now() - 7_200_000;
    const spoolDir = tempDir('outage-sync');
    const acked = await killWriterMidway(influx.url, spoolDir, baseMs, 3000, 'sync-when-down');
    await influx.start();
    const store = new InfluxStore({ url: influx.url, database, batchSize: 1000, spool: { dir: spoolDir, replayIntervalMs: 100 } });
    await drain(store);
    await store.close();
    const rows = await store.queryRows(`SELECT "v" FROM "outage" WHERE "writer" = 'child-sync-when-down' AND time >= 0`);
    expect(rows.length).toBe(store.stats().replayed);
    // Every acknowledged point is there, each exactly once with its own time.
    const numbers = new Set(rows.map((r) => Number(r.v)));
    for (let v = 0; v < acked; v++) if (!numbers.has(v)) throw new Error(`point ${v} of ${acked} acknowledged points is missing`);
    for (const r of rows) expect(r.time - baseMs).toBe(r.v);
  });
});
