/**
 * Billing benchmark: the daily run for N contracts (default 100,000) in a throwaway PostgreSQL database: wall
 * time and memory of the run, then a repeat (which must post nothing). Ledger postings/s are compared with plain
 * INSERTs of the same number of rows into a bare table of the same server in the same run: batched like the
 * ledger's (unnest, one transaction per chunk) and one row per statement (a plain loop, on a sample).
 * Hashrate comes from a fixed source: InfluxDB reading is one query per day and not what is measured here.
 * Prints JSON. Run: npx tsx bench/billing.ts [contracts] (PostgreSQL from FLYMINING_PG_URL's server, else local).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Pool } from 'pg';
import { migrate } from '../billing/src/db';
import type { HashrateSource } from '../billing/src/hashrate';
import { verifyLedger } from '../billing/src/ledger';
import { recordPoolPayout } from '../billing/src/market';
import { runDay } from '../billing/src/run';
import { benchPgUrl, pgAdmin } from './pg';

const CONTRACTS = Number(process.argv[2] ?? 100_000);
const CHUNK = 2000;
const LOOP_SAMPLE = 20_000;
const DAY = '2026-01-15';
/** The day before: the farm's first run, which also opens every investor's accounts (reported apart). */
const FIRST_DAY = '2026-01-14';
/** The baseline is timed this many times and its median used: its wall time alone varies 2x on a shared machine. */
const BASELINE_ROUNDS = 3;


/** Peak RSS and heap while fn runs, sampled every 20 ms. */
async function measured<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; peakRssMb: number; peakHeapMb: number }> {
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  const started = performance.now();
  try {
    const result = await fn();
    return { result, seconds: (performance.now() - started) / 1000, peakRssMb: Math.round(peakRss / 2 ** 20), peakHeapMb: Math.round(peakHeap / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

/**
 * CPU seconds the server's backends for this database have used (from /proc, so only for a server on this
 * machine; undefined otherwise): steadier than wall time on a machine shared with other work.
 */
async function serverCpuSeconds(pool: Pool, database: string): Promise<number | undefined> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
  let ticks = 0;
  for (const r of rows) {
    try {
      const fields = readFileSync(`/proc/${r.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
    } catch {
      return undefined;
    }
  }
  return ticks / 100;
}

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

async function main(): Promise<void> {
  const database = `billing_bench_${process.pid}`;
  await pgAdmin(`CREATE DATABASE "${database}"`);
  // Idle connections are kept: the server CPU figures read each backend's /proc entry, which goes with it.
  const pool = new Pool({ connectionString: benchPgUrl(database), max: 4, idleTimeoutMillis: 0 });
  try {
    await migrate(pool);
    // 100,000 contracts over 25,000 investors, 10..110 TH/s, half with a maintenance fee.
    await pool.query(
      `INSERT INTO investors (id, name) SELECT 'inv' || g, 'Investor ' || g FROM generate_series(1, $1::int / 4) g`,
      [CONTRACTS],
    );
    await pool.query(
      `INSERT INTO contracts (id, investor_id, hashrate_ths, start_day, end_day, maintenance_usd_per_ths_day)
       SELECT 'c' || g, 'inv' || (1 + g % ($1::int / 4)), 10 + (g % 1000) / 10.0, '2026-01-01', '2026-12-31', CASE WHEN g % 2 = 0 THEN 0.045 ELSE 0 END
         FROM generate_series(1, $1::int) g`,
      [CONTRACTS],
    );
    const soldThs = (await pool.query<{ s: string }>('SELECT sum(hashrate_ths) AS s FROM contracts')).rows[0]!.s;
    for (const day of [FIRST_DAY, DAY]) {
      await pool.query(`INSERT INTO market_days (day, difficulty, subsidy_sat, btc_price_usd) VALUES ($1, 102289407543323, 312500000, 97000)`, [day]);
      await recordPoolPayout(pool, { day, pool: 'main', amountBtc: '31.41592653' });
    }
    const source: HashrateSource = {
      async dayHashrate() {
        return { deliveredThs: String(Number(soldThs) * 0.97), nominalThs: soldThs, miners: 0, reachableUptime: '0.98', hashingUptime: '0.97', containers: [] };
      },
    };

    // The first day opens 25,000 investor and receivable accounts, which later days find open: it is timed
    // apart, and the figure is the next day's run, what a farm pays every day.
    const firstDay = await measured(() => runDay(pool, source, FIRST_DAY, { today: '2026-02-01', chunkSize: CHUNK }));
    await pool.query('VACUUM ANALYZE');
    const serverBefore = await serverCpuSeconds(pool, database);
    const nodeBefore = process.cpuUsage();
    const run = await measured(() => runDay(pool, source, DAY, { today: '2026-02-01', chunkSize: CHUNK }));
    const runNodeCpu = cpuSeconds(nodeBefore);
    const serverAfterRun = await serverCpuSeconds(pool, database);
    const counts = await verifyLedger(pool);
    const again = await measured(() => runDay(pool, source, DAY, { today: '2026-02-01', chunkSize: CHUNK }));

    // Baselines: the same number of rows as the ledger wrote (transactions + entries + credit records).
    const dayRows = (await pool.query<{ t: string; e: string; c: string }>(
      `SELECT (SELECT count(*) FROM journal_transactions WHERE day = $1) AS t,
              (SELECT count(*) FROM journal_entries e JOIN journal_transactions t ON t.id = e.transaction_id WHERE t.day = $1) AS e,
              (SELECT count(*) FROM daily_credits WHERE day = $1) AS c`,
      [DAY],
    )).rows[0]!;
    const rowCount = Number(dayRows.t) + Number(dayRows.e) + Number(dayRows.c);
    await pool.query('CREATE TABLE plain_rows (id bigserial PRIMARY KEY, account bigint NOT NULL, amount bigint NOT NULL)');
    const batchedRounds: Array<{ seconds: number; serverCpu: number | undefined }> = [];
    for (let round = 0; round < BASELINE_ROUNDS; round++) {
      const serverBeforeBatched = await serverCpuSeconds(pool, database);
      const batched = await measured(async () => {
        for (let start = 0; start < rowCount; start += CHUNK * 3) {
          const n = Math.min(CHUNK * 3, rowCount - start);
          const ids = Array.from({ length: n }, (_, i) => start + i);
          await pool.query('INSERT INTO plain_rows (account, amount) SELECT * FROM unnest($1::bigint[], $2::bigint[])', [ids, ids]);
        }
      });
      const serverAfterBatched = await serverCpuSeconds(pool, database);
      batchedRounds.push({ seconds: batched.seconds, serverCpu: serverBeforeBatched === undefined || serverAfterBatched === undefined ? undefined : serverAfterBatched - serverBeforeBatched });
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const batched = { seconds: median(batchedRounds.map((r) => r.seconds)) };
    const batchedCpus = batchedRounds.map((r) => r.serverCpu).filter((c): c is number => c !== undefined);
    const batchedServerCpu = batchedCpus.length === BASELINE_ROUNDS ? +median(batchedCpus).toFixed(2) : undefined;
    const client = await pool.connect();
    const loop = await measured(async () => {
      for (let i = 0; i < LOOP_SAMPLE; i++) await client.query('INSERT INTO plain_rows (account, amount) VALUES ($1, $2)', [i, i]);
    });
    client.release();

    const cpuOf = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : +(b - a).toFixed(2));
    const runServerCpu = cpuOf(serverBefore, serverAfterRun);
    const entries = Number(dayRows.e);
    const postingsPerS = Math.round(entries / run.seconds);
    const rowsPerS = Math.round(rowCount / run.seconds);
    console.log(
      JSON.stringify(
        {
          benchmark: 'billing daily run',
          contracts: CONTRACTS,
          chunk: CHUNK,
          firstDay: { status: firstDay.result.status, seconds: +firstDay.seconds.toFixed(2), peakRssMb: firstDay.peakRssMb },
          run: {
            status: run.result.status,
            seconds: +run.seconds.toFixed(2),
            nodeCpuSeconds: +runNodeCpu.toFixed(2),
            serverCpuSeconds: runServerCpu,
            peakRssMb: run.peakRssMb,
            peakHeapMb: run.peakHeapMb,
            goalSeconds: 60,
          },
          ledger: { transactions: Number(dayRows.t), entries, creditRecords: Number(dayRows.c), invariantsOk: counts.ok, problems: counts.problems.slice(0, 5), postingsPerS, rowsWrittenPerS: rowsPerS },
          repeatRun: { status: again.result.status, postedNow: again.result.postedNow, seconds: +again.seconds.toFixed(3) },
          baseline: {
            rows: rowCount,
            plainBatchedSecondsPerRound: batchedRounds.map((r) => +r.seconds.toFixed(2)),
            plainBatchedInsertRowsPerS: Math.round(rowCount / batched.seconds),
            plainInsertLoopRowsPerS: Math.round(LOOP_SAMPLE / loop.seconds),
            ledgerRowsVsBatched: +(rowsPerS / (rowCount / batched.seconds)).toFixed(3),
            ledgerRowsVsLoop: +(rowsPerS / (LOOP_SAMPLE / loop.seconds)).toFixed(2),
            // Server CPU per row, plain batched / ledger: the server's share of the ratio above, without the waiting.
            plainBatchedServerCpuSeconds: batchedServerCpu,
            ledgerRowsVsBatchedServerCpu: runServerCpu && batchedServerCpu ? +(batchedServerCpu / runServerCpu).toFixed(3) : undefined,
            loadAverage: loadavg().map((l) => +l.toFixed(1)),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    // A connection the pool is still opening or closing when DROP ... FORCE ends it reports that on the pool:
    // expected here, not a failure of the bench (it once ended a finished run with an unhandled 'error').
    pool.on('error', () => undefined);
    await pool.end();
    await pgAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
