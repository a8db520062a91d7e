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
