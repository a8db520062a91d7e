/**
 * Demo data for `npm start`, the way a farm gets it: the simulated farm's past weeks are in InfluxDB (the
 * simulator's history writer), its pool reports revenue over the pool's API (the demo's pool API server), and the
 * engine's daily run credits each closed day from the stored hashrate. Seeded: one demo investor (100 TH/s, EUR),
 * the other investors who bought the rest of the 95 % of the farm's nominal hashrate the farm sells, a portal
 * account for the investor and one for staff. Then the real scheduled import (pool revenue, yesterday's per-worker
 * hashrate, network figures), a EUR rate per day, and the daily run's catch-up. Safe to run again: what exists is
 * kept, days already credited stay as they are.
 *   tsx billing/src/portal/demo-seed.ts --pg postgres://.../flymining_demo [--days 21]
 * Pools from FLYMINING_POOL_IMPORT and FLYMINING_POOL_<POOL>_* (key from a file), the network from
 * FLYMINING_NETWORK_URL, InfluxDB from FLYMINING_INFLUX_* (a reader), as the billing scheduler reads them.
 */
import { formatIssues, InfluxStore, loadInfluxConfig } from '@flymining/shared';
import { Command, InvalidArgumentError } from 'commander';
import Decimal from 'decimal.js';
import { Client, type Pool } from 'pg';
import { z } from 'zod';
import { createContract, createInvestor, getInvestor } from '../api';
import { migratePortal, openPool } from '../db';
import { InfluxHashrateSource, type HashrateSource } from '../hashrate';
import { recordFxRate } from '../market';
import { networkSourceFromEnv, scheduledImportersFromEnv } from '../pools/config';
import { runScheduledImport } from '../pools/import';
import type { NetworkSource, PoolImporter } from '../pools/types';
import { addDays, catchUp, settingsFromEnv, utcToday, type PoolRunSettings } from '../run';
import { recordPurchasePrice } from '../store/contracts';
import { setInvestorCurrency } from '../store/investors';
import { createPortalUser } from './users';

export const DEMO_INVESTOR = { id: 'demo-investor', name: 'Demo Investor', email: 'investor@demo.flymining.local', password: 'demo-investor-password' };
export const DEMO_STAFF = { email: 'staff@demo.flymining.local', password: 'demo-staff-password' };
const DEMO_CONTRACT = 'demo-contract-100ths';
const OTHERS = { id: 'demo-other-investors', name: 'Other investors (pooled)', contract: 'demo-contract-others' };
/** Share of its nominal hashrate the farm sells; the rest is headroom, so an ordinary day delivers all it sold. */
const SOLD_SHARE = new Decimal('0.95');
export const DEMO_DAYS = 21;

export interface DemoSources {
  hashrate: HashrateSource;
  importers: readonly PoolImporter[];
  network?: NetworkSource;
}

export interface DemoSeedResult {
  /** Days the catch-up credited now (earlier starts' days are already done). */
  credited: string[];
  failed: Array<{ day: string; error: string }>;
  soldThs: string;
}

/** EUR per USD on a day: a made-up rate that wanders a little, recorded with that source. */
export function demoEurPerUsd(day: string): string {
  const n = Date.parse(`${day}T00:00:00Z`) / 86_400_000;
  return new Decimal(0.92 + 0.012 * Math.sin(n / 5)).toDecimalPlaces(4).toString();
}

async function ensureDatabase(url: string, fresh = false): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const quoted = `"${name.replace(/"/g, '""')}"`;
    if (fresh) await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!exists.rowCount) await client.query(`CREATE DATABASE ${quoted}`);
  } finally {
    await client.end();
  }
}

/** A database of the earlier demo, whose investor was credited from a made-up hashrate list: it is started afresh. */
async function isMadeUpDemo(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ t: string | null }>(`SELECT to_regclass('investors')::text AS t`);
  if (!rows[0]?.t) return false;
  return (await getInvestor(pool, DEMO_INVESTOR.id)) !== null && (await getInvestor(pool, OTHERS.id)) === null;
}

/** The farm's nominal TH/s as its miners report it: the largest of the window's first and last closed day. */
async function farmNominalThs(source: HashrateSource, days: readonly string[]): Promise<Decimal> {
  const figures = await Promise.all(days.map((d) => source.dayHashrate(d)));
  return Decimal.max(0, ...figures.map((f) => new Decimal(f.nominalThs)));
}

export async function seedDemo(
  pool: Pool,
  sources: DemoSources,
  options: { today?: string; days?: number; settings?: PoolRunSettings; log?: (m: string) => void } = {},
): Promise<DemoSeedResult> {
  const today = options.today ?? utcToday();
  const days = options.days ?? DEMO_DAYS;
  const first = addDays(today, -days);
  const log = options.log ?? (() => undefined);
  await migratePortal(pool);
  if (!(await getInvestor(pool, DEMO_INVESTOR.id))) {
    const nominal = await farmNominalThs(sources.hashrate, [first, addDays(today, -1)]);
    if (nominal.isZero()) throw new Error(`no farm hashrate in InfluxDB for ${first} or ${addDays(today, -1)}: write the farm's history first (simulator/src/history-main.ts)`);
    const others = nominal.mul(SOLD_SHARE).sub(100).floor();
    await createInvestor(pool, { id: DEMO_INVESTOR.id, name: DEMO_INVESTOR.name, email: DEMO_INVESTOR.email });
    await setInvestorCurrency(pool, DEMO_INVESTOR.id, 'EUR');
    await createContract(pool, {
      id: DEMO_CONTRACT,
      investorId: DEMO_INVESTOR.id,
      hashrateThs: '100',
      startDay: first,
      endDay: addDays(today, 365),
      maintenanceUsdPerThsDay: '0.01',
      revenueFeePct: '10',
    });
    await recordPurchasePrice(pool, DEMO_CONTRACT, '1800');
    if (others.gt(0)) {
      await createInvestor(pool, { id: OTHERS.id, name: OTHERS.name });
      await createContract(pool, {
        id: OTHERS.contract,
        investorId: OTHERS.id,
        hashrateThs: others.toString(),
        startDay: first,
        endDay: addDays(today, 365),
        maintenanceUsdPerThsDay: '0.01',
        revenueFeePct: '10',
      });
    }
    await createPortalUser(pool, { email: DEMO_INVESTOR.email, password: DEMO_INVESTOR.password, role: 'investor', investorId: DEMO_INVESTOR.id });
    await createPortalUser(pool, { email: DEMO_STAFF.email, password: DEMO_STAFF.password, role: 'staff' });
    log(`farm nominal ${nominal.toString()} TH/s; sold ${others.add(100).toString()} TH/s (100 to the demo investor)`);
  }
  // What the billing scheduler does before each daily run: the pools' last days (the whole window here) and the network.
  const imported = await runScheduledImport(pool, { importers: sources.importers, network: sources.network, days }, today, log);
  for (const s of imported) log(`imported ${s.pool}${s.account ? `/${s.account}` : ''}: ${s.days} day(s), ${s.requests.length} request(s)${s.missing.length ? `, missing ${s.missing.join(', ')}` : ''}`);
  for (let day = first; day < today; day = addDays(day, 1)) {
    await recordFxRate(pool, { day, currency: 'EUR', perUsd: demoEurPerUsd(day), source: 'demo: a made-up reference rate' });
  }
  const results = await catchUp(pool, sources.hashrate, {
    ...options.settings,
    today,
    log,
    requiredPools: sources.importers.map((i) => i.name),
  });
  const credited = results.flatMap((r) => (r.status === 'done' ? [r.day] : []));
  const failed = results.flatMap((r) => (r.status === 'failed' ? [{ day: r.day, error: r.error }] : []));
  const { rows } = await pool.query<{ sold: string }>(`SELECT COALESCE(sum(hashrate_ths), 0)::text AS sold FROM contracts`);
  return { credited, failed, soldThs: rows[0]?.sold ?? '0' };
}

if (require.main === module) {
  const opts = new Command('demo-seed')
    .option('--pg <url>', 'demo database (created if missing)', process.env.FLYMINING_PG_URL)
    .option('--days <n>', 'closed days credited from the farm history', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 35) throw new InvalidArgumentError(`--days must be a whole number from 1 to 35, got "${v}"`);
      return n;
    }, DEMO_DAYS)
    .parse(process.argv)
    .opts<{ pg?: string; days: number }>();
  const url = z.string().regex(/^postgres(ql)?:\/\/[^/]+\/[A-Za-z0-9_]+$/, '--pg: postgres://HOST/DATABASE').safeParse(opts.pg);
  if (!url.success) {
    process.stderr.write(`demo-seed: ${formatIssues(url.error, { messagesOnly: true, limit: 1 }).join('')}\n`);
    process.exit(2);
  }
  const log = (m: string) => process.stderr.write(`demo-seed: ${m}\n`);
  const run = async (): Promise<DemoSeedResult> => {
    await ensureDatabase(url.data);
    let pool = openPool(url.data);
    if (await isMadeUpDemo(pool)) {
      log('this database holds the earlier demo, credited from a made-up hashrate: starting it afresh');
      await pool.end();
      await ensureDatabase(url.data, true);
      pool = openPool(url.data);
    }
    const store = new InfluxStore(loadInfluxConfig({ url: 'http://127.0.0.1:8086' }, process.env, 'FLYMINING_INFLUX_*'), { spool: false });
    try {
      const sources = { hashrate: new InfluxHashrateSource(store, process.env.FLYMINING_BILLING_SITE || undefined), importers: scheduledImportersFromEnv(), network: networkSourceFromEnv() };
      if (sources.importers.length === 0) throw new Error('FLYMINING_POOL_IMPORT names no pool to import revenue from');
      return await seedDemo(pool, sources, { days: opts.days, settings: settingsFromEnv(), log });
    } finally {
      await store.close();
      await pool.end();
    }
  };
  run().then(
    (result) => {
      log(`credited ${result.credited.length} day(s) now; ${result.soldThs} TH/s sold${result.failed.length ? `; not credited: ${result.failed.map((f) => `${f.day} (${f.error})`).join('; ')}` : ''}`);
      process.stdout.write(`investor ${DEMO_INVESTOR.email} / ${DEMO_INVESTOR.password}    staff ${DEMO_STAFF.email} / ${DEMO_STAFF.password}\n`);
    },
    (err: Error) => {
      process.stderr.write(`demo-seed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
