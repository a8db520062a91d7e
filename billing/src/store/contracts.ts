/** SQL of the contracts aggregate. */
import type { ContractTerms } from '../allocate';
import type { Queryable } from '../db';
import { BillingInputError, type Contract, type ValidContract } from '../domain';
import { toContract, type ContractRow } from './rows';

export async function insertContract(db: Queryable, v: ValidContract): Promise<Contract> {
  const { rows } = await db.query<ContractRow>(
    `INSERT INTO contracts (id, investor_id, hashrate_ths, start_day, end_day, maintenance_usd_per_ths_day, revenue_fee_pct)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *, to_char(start_day, 'YYYY-MM-DD') AS start_s, to_char(end_day, 'YYYY-MM-DD') AS end_s`,
    [v.id, v.investorId, v.hashrateThs, v.startDay, v.endDay, v.maintenanceUsdPerThsDay, v.revenueFeePct],
  );
  return toContract(rows[0]!);
}

export async function selectContracts(db: Queryable, filter: { investorId?: string; activeOn?: string } = {}): Promise<Contract[]> {
  const { rows } = await db.query<ContractRow>(
    `SELECT *, to_char(start_day, 'YYYY-MM-DD') AS start_s, to_char(end_day, 'YYYY-MM-DD') AS end_s FROM contracts
      WHERE ($1::text IS NULL OR investor_id = $1) AND ($2::date IS NULL OR $2::date BETWEEN start_day AND end_day)
      ORDER BY investor_id, id`,
    [filter.investorId ?? null, filter.activeOn ?? null],
  );
  return rows.map(toContract);
}

/** One page of all contracts (by investor, then id) and how many there are. */
export async function selectContractsPage(db: Queryable, limit: number, offset: number): Promise<{ rows: Contract[]; total: number }> {
  const [page, count] = await Promise.all([
    db.query<ContractRow>(
      `SELECT *, to_char(start_day, 'YYYY-MM-DD') AS start_s, to_char(end_day, 'YYYY-MM-DD') AS end_s FROM contracts ORDER BY investor_id, id LIMIT $1 OFFSET $2`,
      [limit, offset],
    ),
    db.query<{ n: string }>('SELECT count(*) AS n FROM contracts'),
  ]);
  return { rows: page.rows.map(toContract), total: Number(count.rows[0]!.n) };
}

/**
 * The terms of every contract active on a day, by contract id: what the daily run allocates over (fee terms in force
 * that day). Ordered in byte order (ids are ASCII): the order allocateDay sorts into, without a locale-aware sort.
 * The terms in force are picked once over the fee changes and hash-joined (a lookup per contract cost 100,000
 * index probes a day).
 */
export async function activeContractTerms(db: Queryable, day: string): Promise<ContractTerms[]> {
  const { rows } = await db.query<{ id: string; investor_id: string; hashrate_ths: string; maintenance_usd_per_ths_day: string; revenue_fee_pct: string }>(
    `SELECT c.id, c.investor_id, c.hashrate_ths, coalesce(t.maintenance_usd_per_ths_day, c.maintenance_usd_per_ths_day) AS maintenance_usd_per_ths_day,
            coalesce(t.revenue_fee_pct, c.revenue_fee_pct) AS revenue_fee_pct
       FROM contracts c LEFT JOIN (
         SELECT DISTINCT ON (contract_id) contract_id, maintenance_usd_per_ths_day, revenue_fee_pct FROM contract_fee_terms
          WHERE from_day <= $1::date ORDER BY contract_id, from_day DESC) t ON t.contract_id = c.id
      WHERE $1::date BETWEEN c.start_day AND c.end_day ORDER BY c.id COLLATE "C"`,
    [day],
  );
  return rows.map((r) => ({
    id: r.id,
    investorId: r.investor_id,
    hashrateThs: r.hashrate_ths,
    maintenanceUsdPerThsDay: r.maintenance_usd_per_ths_day,
    revenueFeePct: r.revenue_fee_pct,
  }));
}

/** The first day of the earliest contract, or null without contracts. */
export async function firstContractDay(db: Queryable): Promise<string | null> {
  const { rows } = await db.query<{ first: string | null }>(`SELECT to_char(min(start_day), 'YYYY-MM-DD') AS first FROM contracts`);
  return rows[0]?.first ?? null;
}

/** Records what the investor paid for a contract (set once, at sale; a recorded price is never changed). */
export async function recordPurchasePrice(db: Queryable, contractId: string, purchasePriceUsd: string): Promise<void> {
  const { rowCount } = await db.query('UPDATE contracts SET purchase_price_usd = $2 WHERE id = $1 AND purchase_price_usd IS NULL', [contractId, purchasePriceUsd]);
  if (rowCount !== 1) throw new BillingInputError(`purchasePriceUsd: contract ${contractId} does not exist or already has a purchase price`);
}

/** Purchase price (USD, decimal string) by contract id for an investor's contracts; contracts without one are absent. */
export async function purchasePrices(db: Queryable, investorId: string): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; purchase_price_usd: string }>(
    'SELECT id, purchase_price_usd FROM contracts WHERE investor_id = $1 AND purchase_price_usd IS NOT NULL',
    [investorId],
  );
  return new Map(rows.map((r) => [r.id, r.purchase_price_usd]));
}
