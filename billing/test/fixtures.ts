/** Test helpers: investors with balances credited through the real daily run, and ledger snapshots. */
import type { Pool } from 'pg';
import { createContract, createInvestor } from '../src/api';
import type { DayHashrate, HashrateSource } from '../src/hashrate';
import { recordPoolPayout } from '../src/market';

export const ADDRESSES = {
  p2wpkh: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
  p2tr: 'bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297',
  p2pkh: '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
  p2sh: '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy',
};

export function fixedHashrate(deliveredThs: string): HashrateSource & { deliveredThs: string } {
  const source = {
    deliveredThs,
    async dayHashrate(): Promise<DayHashrate> {
      return { deliveredThs: source.deliveredThs, nominalThs: source.deliveredThs, miners: 1, reachableUptime: '1', hashingUptime: '1', containers: [] };
    },
  };
  return source;
}

export async function addInvestorWithContract(pool: Pool, id: string, ths: string, start = '2026-01-01', end = '2026-12-31'): Promise<void> {
  await createInvestor(pool, { id, name: `Investor ${id}` });
  await createContract(pool, { id: `${id}-c`, investorId: id, hashrateThs: ths, startDay: start, endDay: end });
}

export async function recordPayout(pool: Pool, day: string, btc: string): Promise<void> {
  await recordPoolPayout(pool, { day, pool: 'main', amountBtc: btc });
}

/** Everything that must be identical between two ledgers built from the same inputs (ids aside). */
export async function ledgerSnapshot(pool: Pool): Promise<unknown> {
  const accounts = await pool.query('SELECT code, balance_sat FROM accounts ORDER BY code');
  const txns = await pool.query(
    `SELECT t.idempotency_key, t.kind, json_agg(json_build_object('a', a.code, 's', e.amount_sat) ORDER BY a.code, e.amount_sat) AS entries
       FROM journal_transactions t LEFT JOIN journal_entries e ON e.transaction_id = t.id LEFT JOIN accounts a ON a.id = e.account_id
      GROUP BY t.id ORDER BY t.idempotency_key`,
  );
  const credits = await pool.query('SELECT contract_id, day, revision, kind, gross_sat, net_sat FROM daily_credits ORDER BY contract_id, day, revision, kind');
  return { accounts: accounts.rows, txns: txns.rows, credits: credits.rows };
}
