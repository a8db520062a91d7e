/**
 * Write-path benchmark: points/s through InfluxStore vs a raw HTTP POST of the same line-protocol batches,
 * in the same run, against the same throwaway InfluxDB. Prints JSON. Run: npx tsx bench/write-path.ts [points]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rawHttpPost } from './raw-post';
import { runBench, type ChildProcesses } from './lib/children';
import { formatLine, InfluxStore } from '../shared/src/influx';

const POINTS = Number(process.argv[2] ?? 200_000);
const BATCH = 5_000;
const ROUNDS = 3;
const INTEGER_FIELDS = new Set(['chips_ok', 'fan_rpm']);

/** Points shaped like one sweep of miner samples: ~10 tags+fields each, distinct series, 30 s apart. */
function sweepLines(count: number, baseMs: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const miner = i % 10_000;
    const line = formatLine(
      'miner',
      { site: 'site-1', container: `c${miner % 40}`, miner: `m${miner}`, model: 'S19j Pro', firmware: 'braiins-os' },
      { hashrate_ths: 100 + (i % 7) * 0.37, power_w: 3050.5, temp_max_c: 71.25, chips_ok: 126, fan_rpm: 5400, hashing: true },
      baseMs + Math.floor(i / 10_000) * 30_000,
      { integerFields: INTEGER_FIELDS },
    );
    if (line) lines.push(line);
  }
  return lines;
}

async function postBatch(url: string, db: string, batch: string[]): Promise<void> {
  const res = await fetch(`${url}/write?db=${db}&rp=raw&precision=ms`, { method: 'POST', body: batch.join('\n') });
  if (res.status !== 204) throw new Error(`raw write: HTTP ${res.status} ${await res.text()}`);
}

/** Raw POSTs, one batch after the other, or all batches at once (as the client's WriteApi sends them). */
async function rawPost(url: string, db: string, lines: string[], concurrent: boolean): Promise<number> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < lines.length; i += BATCH) {
    const sent = postBatch(url, db, lines.slice(i, i + BATCH));
    if (concurrent) pending.push(sent);
    else await sent;
  }
  await Promise.all(pending);
  return performance.now() - started;
}

/** Shift every line's time by `ms`: new points of the same size and shape. */
function shiftBy(lines: string[], ms: number): string[] {
  return lines.map((l) => {
    const cut = l.lastIndexOf(' ');
    return `${l.slice(0, cut)} ${Number(l.slice(cut + 1)) + ms}`;
  });
}

/** The same lines 1 ms later: new points for the second raw variant, same size and shape. */
function shiftTimes(lines: string[]): string[] {
  return lines.map((l) => {
    const cut = l.lastIndexOf(' ');
    return `${l.slice(0, cut)} ${Number(l.slice(cut + 1)) + 1}`;
  });
}

async function viaStore(store: InfluxStore, lines: string[]): Promise<number> {
  const started = performance.now();
  store.write(lines);
  await store.flush();
  return performance.now() - started;
}

async function main(children: ChildProcesses): Promise<void> {
  // Owned by the bench's children: stopped on every way out (a signal, a crash) as well as here.
  const server = await children.influx();
  const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'flymining-bench-'));
  try {
    const stores: InfluxStore[] = [];
    for (const db of ['bench_raw', 'bench_store']) {
      const admin = new InfluxStore({ url: server.url, database: db, spool: { dir: spoolDir } }, { spool: false });
      await admin.query(`CREATE DATABASE "${db}"`);
      await admin.query(`CREATE RETENTION POLICY "raw" ON "${db}" DURATION 40d REPLICATION 1 DEFAULT`);
      stores.push(admin);
    }
    const store = new InfluxStore({ url: server.url, database: 'bench_store', batchSize: BATCH, spool: { dir: spoolDir } });
    const rawMs: number[] = [];
    const rawConcurrentMs: number[] = [];
    const rawHttpMs: number[] = [];
    const storeMs: number[] = [];
    let formatMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // New timestamps each round: every round writes new points, not overwrites.
      const t0 = performance.now();
      const lines = sweepLines(POINTS, Date.now() - 86_400_000 + round * 3_600_000);
      formatMs += performance.now() - t0;
      rawMs.push(await rawPost(server.url, 'bench_raw', lines, false));
      rawConcurrentMs.push(await rawPost(server.url, 'bench_raw', shiftTimes(lines), true));
      rawHttpMs.push(await rawHttpPost(server.url, 'bench_raw', shiftBy(lines, 2), BATCH));
      storeMs.push(await viaStore(store, lines));
    }
    const stats = store.stats();
    await store.close();
    for (const s of stores) await s.close();
    const best = (xs: number[]) => Math.min(...xs);
    const rate = (ms: number) => Math.round((POINTS / ms) * 1000);
    const rawSequentialRate = rate(best(rawMs));
    const rawConcurrentRate = rate(best(rawConcurrentMs));
    const rawHttpRate = rate(best(rawHttpMs));
    const rawRate = Math.max(rawSequentialRate, rawConcurrentRate, rawHttpRate);
    const storeRate = rate(best(storeMs));
    const result = {
      points: POINTS,
      batch: BATCH,
      rounds: ROUNDS,
      rawSequentialPointsPerSec: rawSequentialRate,
      rawConcurrentPointsPerSec: rawConcurrentRate,
      rawNodeHttpPointsPerSec: rawHttpRate,
      storePointsPerSec: storeRate,
      /** Against the fastest of the three raw variants. */
      storeVsRaw: Number((storeRate / rawRate).toFixed(3)),
      formatLinePointsPerSec: Math.round((POINTS * ROUNDS * 1000) / formatMs),
      rawMs: rawMs.map(Math.round),
      rawConcurrentMs: rawConcurrentMs.map(Math.round),
      storeMs: storeMs.map(Math.round),
      store: { written: stats.written, failed: stats.failed, spooled: stats.spooled, dropped: stats.dropped, batches: stats.batches },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    if (stats.written !== POINTS * ROUNDS) throw new Error(`store wrote ${stats.written} of ${POINTS * ROUNDS} points`);
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

runBench(main);
