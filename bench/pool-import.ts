/**
 * A year of daily rewards imported from each fake pool (billing/test/pools/fake-pools.ts, a local HTTP server
 * replaying the documented shapes) through the real importers and recorded in a throwaway PostgreSQL database
 * (pool_imports + pool_payouts), each at its documented or cautious rate limit: Braiins 1 request / 5 s, the
 * others 1 / s. The fake server answers 429 to any pool asked twice within 900 ms, so `retries: 0` shows the
 * client-side limiter kept every import within the limits. Baseline, same run: as many plain fetches of a small
 * JSON route of the same server, one after another, no limiter.
 * Prints JSON. Run: npx tsx bench/pool-import.ts (PostgreSQL from FLYMINING_TEST_PG_URL / FLYMINING_PG_URL, else local).
 */
import { Pool } from 'pg';
import { migrate } from '../billing/src/db';
import { BraiinsImporter, F2PoolImporter, FoundryImporter, importPool, ViaBtcImporter, type PoolImporter } from '../billing/src/pools';
import { startFakePools, TOKENS } from '../billing/test/pools/fake-pools';
import { benchPgUrl, pgAdmin } from './pg';

const FROM = '2025-01-01';
const TO = '2025-12-31';

async function main(): Promise<void> {
  const fake = await startFakePools();
  fake.minGapMs = 900;
  const database = `pool_import_bench_${process.pid}`;
  await pgAdmin(`CREATE DATABASE "${database}"`);
  const pg = new Pool({ connectionString: benchPgUrl(database), max: 4 });
  try {
    await migrate(pg);
    const importers: Array<{ importer: PoolImporter & { http: { stats: { requests: number; retries: number; waitedMs: number } } }; limit: string }> = [
      { importer: new FoundryImporter({ apiKey: TOKENS.foundry, subAccount: 'flyfarm', baseUrl: `${fake.url}/foundry` }), limit: 'not published; 1 request/s' },
      { importer: new BraiinsImporter({ token: TOKENS.braiins, account: 'flyfarm', baseUrl: `${fake.url}/braiins` }), limit: '1 request / 5 s (help page)' },
      { importer: new F2PoolImporter({ secret: TOKENS.f2pool, user: 'flyfarm', baseUrl: `${fake.url}/f2pool` }), limit: 'not published; 1 request/s' },
      { importer: new ViaBtcImporter({ apiKey: TOKENS.viabtc, account: 'flyfarm', baseUrl: `${fake.url}/viabtc` }), limit: 'not published; 1 request/s' },
    ];
    const pools = [];
    let totalRequests = 0;
    for (const { importer, limit } of importers) {
      const started = performance.now();
      const summary = await importPool(pg, importer, FROM, TO);
      const seconds = (performance.now() - started) / 1000;
      const { requests, retries, waitedMs } = importer.http.stats;
      totalRequests += requests;
      pools.push({ pool: importer.name, days: summary.days, missing: summary.missing.length, requests, retries, seconds: Number(seconds.toFixed(2)), waitedForLimiterSeconds: Number((waitedMs / 1000).toFixed(2)), limit });
    }
    fake.minGapMs = 0;
    const started = performance.now();
    for (let i = 0; i < totalRequests; i++) {
      const res = await fetch(`${fake.url}/plain`);
      await res.json();
    }
    const plainSeconds = (performance.now() - started) / 1000;
    const { rows } = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM pool_payouts WHERE source = 'api'`);
    process.stdout.write(
      `${JSON.stringify(
        {
          range: `${FROM}..${TO}`,
          pools,
          recordedPayoutRows: rows[0]!.n,
          baseline: { plainFetches: totalRequests, seconds: Number(plainSeconds.toFixed(3)) },
          note: 'seconds are dominated by the rate limits (the limiter waits); the baseline shows what the same requests cost without them',
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await pg.end();
    await pgAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await fake.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
