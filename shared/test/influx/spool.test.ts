import { appendFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Spool } from '../../src/influx';
import { tempDir } from './helpers';

const line = (i: number) => `m,w=t v=${i} ${1_700_000_000_000 + i}`;

describe('Spool', () => {
  test('keeps lines across reopen, cuts a torn last line', async () => {
    const dir = tempDir('spool-torn');
    const spool = Spool.open({ dir, maxBytes: 1_000_000 });
    await spool.append([line(1), line(2)]);
    await spool.append([line(3)]);
    await spool.close();
    const [file] = readdirSync(dir);
    appendFileSync(path.join(dir, file as string), 'm,w=t v=4 17000'); // killed mid-append: no newline
    const reopened = Spool.open({ dir, maxBytes: 1_000_000 });
    expect(reopened.stats()).toMatchObject({ lines: 3, tornBytesDiscarded: 15 });
    const segment = await reopened.oldest();
    expect(await reopened.readLines(segment!)).toEqual([line(1), line(2), line(3)]);
    await reopened.append([line(5)]); // appends go to a new segment; the sealed one is replayed first
    expect(await reopened.remove(segment!)).toBe(true);
    const next = await reopened.oldest();
    expect(await reopened.readLines(next!)).toEqual([line(5)]);
  });

  test('when full, drops the oldest segments first and counts their lines', async () => {
    const dir = tempDir('spool-full');
    const spool = Spool.open({ dir, maxBytes: 4000, segmentBytes: 1000 });
    let dropped = 0;
    for (let i = 0; i < 200; i++) dropped += await spool.append([line(i)]);
    const stats = spool.stats();
    expect(stats.bytes).toBeLessThanOrEqual(4000);
    expect(stats.droppedLines).toBe(dropped);
    expect(dropped + stats.lines).toBe(200);
    expect(dropped).toBeGreaterThan(50); // ~6.8 kB appended into 4 kB
    const segment = await spool.oldest();
    const kept = await spool.readLines(segment!);
    // What is left is the newest data: the first kept line follows the last dropped one.
    expect(kept?.[0]).toBe(line(dropped));
  });
});

describe('Spool for the edge', () => {
  test('oldestTimeMs is the time of the first line of the oldest segment, kept across reopen, 0 when empty', async () => {
    const dir = tempDir('spool-oldest');
    const spool = Spool.open({ dir, maxBytes: 1_000_000, segmentBytes: 40 }); // two lines fill a segment
    expect(spool.oldestTimeMs()).toBe(0);
    await spool.append([line(7), line(8)]);
    spool.appendSync([line(9)]);
    expect(spool.oldestTimeMs()).toBe(1_700_000_000_007);
    await spool.close();
    const reopened = Spool.open({ dir, maxBytes: 1_000_000, segmentBytes: 40 });
    expect(reopened.oldestTimeMs()).toBe(1_700_000_000_007);
    let first = await reopened.oldest();
    await reopened.remove(first!);
    expect(reopened.oldestTimeMs()).toBe(1_700_000_000_009);
    first = await reopened.oldest();
    await reopened.remove(first!);
    expect(reopened.oldestTimeMs()).toBe(0);
  });

  test('appendSync is on disk when it returns, also while an async append is under way', async () => {
    const dir = tempDir('spool-sync');
    const spool = Spool.open({ dir, maxBytes: 1_000_000 });
    const pending = spool.append(Array.from({ length: 1000 }, (_, i) => line(i)));
    // Let the queued append start: it now waits for its write on the active segment.
    for (let tick = 0; tick < 3; tick++) await Promise.resolve();
    spool.appendSync([line(5000), line(5001)]);
    // The synchronous lines went to a segment file of their own instead of sharing the busy descriptor.
    expect(readdirSync(dir)).toHaveLength(2);
    await pending;
    // A new Spool reads the files as a restarted process would.
    const reopened = Spool.open({ dir, maxBytes: 1_000_000 });
    expect(reopened.stats().lines).toBe(1002);
    const all: string[] = [];
    for (let segment = await reopened.oldest(); segment; segment = await reopened.oldest()) {
      all.push(...((await reopened.readLines(segment)) ?? []));
      await reopened.remove(segment);
    }
    expect(all.sort()).toEqual([...Array.from({ length: 1000 }, (_, i) => line(i)), line(5000), line(5001)].sort());
  });

  test('remove() runs its callback in the same step as the lines leave the counts', async () => {
    const spool = Spool.open({ dir: tempDir('spool-remove'), maxBytes: 1_000_000 });
    await spool.append([line(1), line(2), line(3)]);
    const segment = await spool.oldest();
    let linesSeenByCallback = -1;
    await spool.remove(segment!, () => (linesSeenByCallback = spool.stats().lines));
    expect(linesSeenByCallback).toBe(0);
  });
});
