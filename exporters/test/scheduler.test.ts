import { Limiter, ScrapeScheduler, stableJitter } from '../src/scheduler';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('sweep scheduler', () => {
  test('a slow miner costs only its own time; its next turn is skipped and counted while it is still running', async () => {
    const miners = ['fast-1', 'fast-2', 'slow', 'fast-3'];
    const done: string[] = [];
    const scheduler = new ScrapeScheduler<string>({
      intervalMs: 1000,
      jitterMs: 0,
      concurrency: 2,
      targets: () => miners,
      key: (m) => m,
      scrape: async (m) => {
        await sleep(m === 'slow' ? 600 : 20);
        done.push(m);
      },
    });
    const first = scheduler.sweep();
    await sleep(100);
    // The fast miners have all finished although the slow one holds one of only two slots.
    expect(done.sort()).toEqual(['fast-1', 'fast-2', 'fast-3']);
    const second = await scheduler.sweep(); // starts while "slow" is still in flight
    expect(second.overruns).toBe(1);
    expect(second.scraped).toBe(3);
    const firstReport = await first;
    expect(firstReport.scraped).toBe(4);
    expect(firstReport.durationMs).toBeGreaterThanOrEqual(590);
    expect(scheduler.totalOverruns).toBe(1);
  });

  test('never more scrapes at once than the concurrency limit', async () => {
    let running = 0;
    let peak = 0;
    const limiter = new Limiter(3);
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(5);
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });

  test('start times are spread over the jitter window, stable per miner', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `C01-R01-S${i % 4}-${i}`);
    const offsets = ids.map((id) => stableJitter(id, 10_000));
    expect(offsets.every((o) => o >= 0 && o < 10_000)).toBe(true);
    // Roughly uniform: each tenth of the window gets 6-14 % of the miners.
    const buckets = new Array(10).fill(0) as number[];
    for (const o of offsets) buckets[Math.floor(o / 1000)]!++;
    for (const b of buckets) expect(b).toBeGreaterThan(60);
    for (const b of buckets) expect(b).toBeLessThan(140);
    expect(stableJitter('C01-R01-S1-1', 10_000)).toBe(stableJitter('C01-R01-S1-1', 10_000));

    const started: number[] = [];
    const t0 = Date.now();
    const scheduler = new ScrapeScheduler<string>({
      intervalMs: 30_000,
      jitterMs: 300,
      concurrency: 100,
      targets: () => ids.slice(0, 50),
      key: (m) => m,
      scrape: async () => {
        started.push(Date.now() - t0);
      },
    });
    await scheduler.sweep();
    expect(Math.max(...started) - Math.min(...started)).toBeGreaterThan(150);
  });

  test('start() sweeps on the interval until stop()', async () => {
    let sweeps = 0;
    const scheduler = new ScrapeScheduler<string>({
      intervalMs: 100,
      jitterMs: 0,
      concurrency: 1,
      targets: () => ['a'],
      key: (m) => m,
      scrape: async () => undefined,
      onSweep: () => sweeps++,
    });
    scheduler.start();
    await sleep(350);
    await scheduler.stop();
    const after = sweeps;
    expect(after).toBeGreaterThanOrEqual(3);
    await sleep(200);
    expect(sweeps).toBe(after);
  });
});

test('a sweep that finishes before an earlier, slower one reports after it: reports come in start order', async () => {
  const slow = new Set(['a']);
  const order: number[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const scheduler = new ScrapeScheduler<string>({
    intervalMs: 1000,
    jitterMs: 0,
    concurrency: 4,
    targets: () => ['a', 'b'],
    key: (t) => t,
    scrape: async (t) => {
      if (slow.has(t)) {
        slow.delete(t);
        await gate; // the first sweep's "a" hangs until released
      }
    },
    onSweep: (r) => order.push(r.startedAt),
  });
  const first = scheduler.sweep();
  await new Promise((r) => setTimeout(r, 5));
  const second = scheduler.sweep(); // "a" is still in flight: skipped (an overrun); "b" is done at once
  await new Promise((r) => setTimeout(r, 20));
  expect(order).toEqual([]); // the second sweep waits for the first's report
  release();
  const [r1, r2] = await Promise.all([first, second]);
  expect(order).toEqual([r1.startedAt, r2.startedAt]);
  expect(r2.overruns).toBe(1);
  expect(r2.durationMs).toBeLessThan(r1.durationMs);
});
