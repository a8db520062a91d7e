/**
 * Statement benchmark: the monthly statement PDFs of N investors (default 10,000), `issueMonthlyStatements` as
 * `flymining billing statements --month M --no-mail --out DIR` runs it (each statement read from the journal,
 * rendered by pdfkit and written). The ledger is a throwaway PostgreSQL database credited by the real daily run
 * for every day of the month (N contracts plus one in ten investors with a second one, half with a maintenance fee).
 * Baseline in the same run, on the same database: per investor one plain query of the month's journal entries
 * on their account and the lines written as a text file. Each phase runs in a child process of its own, so its
 * peak RSS is its own (getrusage maxrss). Prints JSON.
 * Run: npx tsx bench/statements.ts [investors] [days] (PostgreSQL from FLYMINING_TEST_PG_URL's server, else local).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { migrate } from '../billing/src/db';
import type { HashrateSource } from '../billing/src/hashrate';
import { recordMarketDay, recordPoolPayout } from '../billing/src/market';
import { addDays, runDay } from '../billing/src/run';
import { issueMonthlyStatements } from '../billing/src/statements/issue';
import { monthDays } from '../billing/src/statements/monthly';
import { benchPgUrl, pgAdmin } from './pg';

const MONTH = '2026-01';
const AFTER = Date.parse('2026-03-01T00:00:00Z');

interface PhaseResult {
  seconds: number;
  maxRssMb: number;
  statements: number;
}

const maxRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

/** Child: the real statements, written as PDFs. */
async function statementsPhase(url: string, outDir: string): Promise<PhaseResult> {
  const pool = new Pool({ connectionString: url, max: 2 });
  try {
    const started = performance.now();
    // A run with fewer days than the month (a quick bench) issues the statements as provisional.
    const r = await issueMonthlyStatements(pool, MONTH, { outDir, now: () => AFTER, allowOpenDays: true });
    return { seconds: (performance.now() - started) / 1000, maxRssMb: maxRssMb(), statements: r.pdfs };
  } finally {
    await pool.end();
  }
}

/** Child: the baseline, each investor's month of entries as plain text lines. */
async function baselinePhase(url: string, outDir: string): Promise<PhaseResult> {
  const pool = new Pool({ connectionString: url, max: 2 });
  const { from, to } = monthDays(MONTH);
  try {
    const started = performance.now();
    const investors = (await pool.query<{ id: string; account: string }>(`SELECT i.id, a.id AS account FROM investors i JOIN accounts a ON a.investor_id = i.id ORDER BY i.id`)).rows;
    for (const inv of investors) {
      const { rows } = await pool.query<{ day: string; amount_sat: string }>(
        `SELECT to_char(t.day, 'YYYY-MM-DD') AS day, e.amount_sat FROM journal_entries e JOIN journal_transactions t ON t.id = e.transaction_id
          WHERE e.account_id = $1 AND t.day BETWEEN $2 AND $3 ORDER BY t.day, t.id`,
        [inv.account, from, to],
      );
      await writeFile(path.join(outDir, `${inv.id}.txt`), rows.map((r) => `${r.day} ${-Number(r.amount_sat)}`).join('\n'));
    }
    return { seconds: (performance.now() - started) / 1000, maxRssMb: maxRssMb(), statements: investors.length };
  } finally {
    await pool.end();
  }
}

function child(phase: string, url: string, outDir: string): Promise<PhaseResult> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-r', 'tsx/cjs', __filename, '--phase', phase, url, outDir], { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${phase}: ${stderr || err.message}`)) : resolve(JSON.parse(stdout) as PhaseResult),
    ),
  );
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(path.join(dir, f))).size;
  return total;
}

async function main(): Promise<void> {
  const investors = Number(process.argv[2] ?? 10_000);
  const { from, to } = monthDays(MONTH);
  const days = Math.min(Number(process.argv[3] ?? 31), 31);
  const database = `statements_bench_${process.pid}`;
  await pgAdmin(`CREATE DATABASE "${database}"`);
  const url = benchPgUrl(database);
  const pool = new Pool({ connectionString: url, max: 4 });
  const dir = await mkdtemp(path.join(tmpdir(), 'flymining-statements-'));
  try {
    await migrate(pool);
    await pool.query(`INSERT INTO investors (id, name, email) SELECT 'inv' || lpad(g::text, 6, '0'), 'Investor ' || g, 'inv' || g || '@example.com' FROM generate_series(1, $1::int) g`, [investors]);
    await pool.query(`INSERT INTO accounts (code, kind, investor_id, normal_side) SELECT 'investor:' || id, 'investor', id, -1 FROM investors`);
    await pool.query(
      `INSERT INTO contracts (id, investor_id, hashrate_ths, start_day, end_day, maintenance_usd_per_ths_day, revenue_fee_pct)
       SELECT 'c' || g || '-' || k, 'inv' || lpad(g::text, 6, '0'), 10 + (g % 1000) / 10.0, $2::date, $3::date, CASE WHEN g % 2 = 0 THEN 0.045 ELSE 0 END, 10
         FROM generate_series(1, $1::int) g, generate_series(1, 2) k WHERE k = 1 OR g % 10 = 0`,
      [investors, from, addDays(to, 365)],
    );
    const sold = (await pool.query<{ s: string }>('SELECT sum(hashrate_ths) AS s FROM contracts')).rows[0]!.s;
    const source: HashrateSource = {
      async dayHashrate() {
        return { deliveredThs: String(Number(sold) * 0.97), nominalThs: sold, miners: 0, reachableUptime: '0.98', hashingUptime: '0.97', containers: [] };
      },
    };
    const seedStarted = performance.now();
    for (let i = 0; i < days; i++) {
      const day = addDays(from, i);
      await recordMarketDay(pool, { day, difficulty: '102289407543323', subsidyBtc: '3.125', feesPerBlockBtc: '0.1', btcPriceUsd: String(95000 + 100 * i) });
      await recordPoolPayout(pool, { day, pool: 'main', amountBtc: (investors / 1000).toFixed(8) });
      await runDay(pool, source, day, { today: '2026-03-01', chunkSize: 2000 });
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    // As autovacuum would after a month of credits: without statistics the planner scans every transaction.
    await pool.query('ANALYZE');
    const lines = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM daily_credits`)).rows[0]!.n);
    await mkdir(path.join(dir, 'pdf'));
    await mkdir(path.join(dir, 'txt'));
    const statements = await child('statements', url, path.join(dir, 'pdf'));
    const baseline = await child('baseline', url, path.join(dir, 'txt'));
    const pdfBytes = await dirBytes(path.join(dir, 'pdf'));
    console.log(
      JSON.stringify(
        {
          benchmark: 'monthly statement PDFs',
          investors,
          month: MONTH,
          creditedDays: days,
          ledger: { creditLines: lines, seedSeconds: +seedSeconds.toFixed(1) },
          statements: {
            written: statements.statements,
            seconds: +statements.seconds.toFixed(2),
            perStatementMs: +((1000 * statements.seconds) / statements.statements).toFixed(2),
            peakRssMb: statements.maxRssMb,
            averagePdfKb: +(pdfBytes / statements.statements / 1024).toFixed(1),
          },
          baseline: {
            what: 'per investor one query of the month’s entries, written as text',
            seconds: +baseline.seconds.toFixed(2),
            peakRssMb: baseline.maxRssMb,
            statementsVsBaseline: +(statements.seconds / baseline.seconds).toFixed(2),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await pool.end();
    await rm(dir, { recursive: true, force: true });
    await pgAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  }
}

if (process.argv[2] === '--phase') {
  const [, , , phase, url, outDir] = process.argv;
  (phase === 'statements' ? statementsPhase(url!, outDir!) : baselinePhase(url!, outDir!))
    .then((r) => process.stdout.write(JSON.stringify(r)))
    .catch((err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    });
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
