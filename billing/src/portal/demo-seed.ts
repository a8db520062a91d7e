/**
 * Demo data for `npm start`: one investor with a contract, the last week of pool payouts credited by the engine's
 * daily run, and a portal account for the investor and one for staff. Safe to run again: what exists is kept.
 * `tsx billing/src/portal/demo-seed.ts --pg postgres://.../flymining_demo` (the database is created if missing).
 * The demo's InfluxDB holds no history yet, so the run reads a fixed farm hashrate instead (see demoHashrate).
 */
import { Command } from 'commander';
import { Client, type Pool } from 'pg';
import { formatIssues } from '@flymining/shared';
import { z } from 'zod';
import { createContract, createInvestor, getInvestor } from '../api';
import { migratePortal, openPool } from '../db';
import type { DayHashrate, HashrateSource } from '../hashrate';
import { recordPoolPayout } from '../market';
import { addDays, runDay, utcToday } from '../run';
import { createPortalUser } from './users';

export const DEMO_INVESTOR = { id: 'demo-investor', name: 'Demo Investor', email: 'investor@demo.flymining.local', password: 'demo-investor-password' };
export const DEMO_STAFF = { email: 'staff@demo.flymining.local', password: 'demo-staff-password' };
const DEMO_CONTRACT = 'demo-contract-100ths';
const DAYS = 7;

/** A farm selling 100 TH/s that delivered a little less on some days. */
const demoHashrate: HashrateSource = {
  async dayHashrate(day: string): Promise<DayHashrate> {
    const delivered = [100, 97.5, 100, 92, 100, 99, 95][Number(day.slice(8, 10)) % DAYS] ?? 100;
    return { deliveredThs: String(delivered), nominalThs: '100', miners: 1, reachableUptime: '1', hashingUptime: String(delivered / 100), containers: [] };
  },
};

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!exists.rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

export async function seedDemo(pool: Pool, today = utcToday()): Promise<void> {
  await migratePortal(pool);
  if (!(await getInvestor(pool, DEMO_INVESTOR.id))) {
    await createInvestor(pool, { id: DEMO_INVESTOR.id, name: DEMO_INVESTOR.name, email: DEMO_INVESTOR.email });
    await createContract(pool, {
      id: DEMO_CONTRACT,
      investorId: DEMO_INVESTOR.id,
      hashrateThs: '100',
      startDay: addDays(today, -DAYS),
      endDay: addDays(today, 365),
      maintenanceUsdPerThsDay: '0',
      revenueFeePct: '10',
    });
    await createPortalUser(pool, { email: DEMO_INVESTOR.email, password: DEMO_INVESTOR.password, role: 'investor', investorId: DEMO_INVESTOR.id });
    await createPortalUser(pool, { email: DEMO_STAFF.email, password: DEMO_STAFF.password, role: 'staff' });
  }
  // Each closed day since the contract started, up to yesterday: a pool payout, then the engine's run.
  for (let i = DAYS; i >= 1; i--) {
    const day = addDays(today, -i);
    await recordPoolPayout(pool, { day, pool: 'demo-pool', amountBtc: '0.00045' });
    await runDay(pool, demoHashrate, day, { today });
  }
}

if (require.main === module) {
  const opts = new Command('demo-seed')
    .option('--pg <url>', 'demo database (created if missing)', process.env.FLYMINING_PG_URL)
    .parse(process.argv)
    .opts<{ pg?: string }>();
  const url = z.string().regex(/^postgres(ql)?:\/\/[^/]+\/[A-Za-z0-9_]+$/, '--pg: postgres://HOST/DATABASE').safeParse(opts.pg);
  if (!url.success) {
    process.stderr.write(`demo-seed: ${formatIssues(url.error, { messagesOnly: true, limit: 1 }).join('')}\n`);
    process.exit(2);
  }
  ensureDatabase(url.data)
    .then(async () => {
      const pool = openPool(url.data);
      try {
        await seedDemo(pool);
      } finally {
        await pool.end();
      }
    })
    .then(
      () =>
        process.stdout.write(
          `investor ${DEMO_INVESTOR.email} / ${DEMO_INVESTOR.password}    staff ${DEMO_STAFF.email} / ${DEMO_STAFF.password}\n`,
        ),
      (err: Error) => {
        process.stderr.write(`demo-seed: ${err.message}\n`);
        process.exit(1);
      },
    );
}
