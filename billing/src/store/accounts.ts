/** Ledger accounts: the system accounts, and the investor accounts (opened here and nowhere else). */
import type { Queryable, Tx } from '../db';
import { satoshi } from '../db';

export type SystemAccount = 'pool:receivable' | 'farm:revenue' | 'farm:fees' | 'payouts:pending' | 'payouts:sent';

export async function systemAccountId(db: Queryable, code: SystemAccount): Promise<number> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM accounts WHERE code = $1', [code]);
  if (!rows[0]) throw new Error(`system account ${code} is missing: run the billing migrations`);
  return Number(rows[0].id);
}

/** The investors' account ids (investor id → account id), opening the accounts not opened yet. */
export async function investorAccountIds(db: Queryable, investorIds: readonly string[]): Promise<Map<string, number>> {
  const unique = [...new Set(investorIds)];
  await db.query(
    `INSERT INTO accounts (code, kind, investor_id, normal_side) SELECT 'investor:' || i, 'investor', i, -1 FROM unnest($1::text[]) AS i
     ON CONFLICT (code) DO NOTHING`,
    [unique],
  );
  const { rows } = await db.query<{ id: string; investor_id: string }>('SELECT id, investor_id FROM accounts WHERE investor_id = ANY($1::text[])', [unique]);
  return new Map(rows.map((r) => [r.investor_id, Number(r.id)]));
}

/** The investor's account id, opening the account on first use. */
export async function investorAccountId(db: Queryable, investorId: string): Promise<number> {
  const id = (await investorAccountIds(db, [investorId])).get(investorId);
  if (id === undefined) throw new Error(`the account of investor ${investorId} could not be opened`);
  return id;
}

/** Locks the investor's account row until the transaction ends; undefined when it has no account. */
export async function lockInvestorAccount(tx: Tx, investorId: string): Promise<{ id: number; balanceSat: number } | undefined> {
  const { rows } = await tx.query<{ id: string; balance_sat: string }>('SELECT id, balance_sat FROM accounts WHERE investor_id = $1 FOR UPDATE', [investorId]);
  const row = rows[0];
  return row ? { id: Number(row.id), balanceSat: satoshi(row.balance_sat) } : undefined;
}

/** Available balance, payouts pending and sent, net credits, and what the investor owes (carried fees, clawbacks). */
export async function selectBalance(
  db: Queryable,
  investorId: string,
): Promise<{ available: number; pending: number; paid: number; credited: number; owed: number }> {
  const { rows } = await db.query<{ available: string | null; pending: string; paid: string; credited: string; owed: string | null }>(
    `SELECT (SELECT balance_sat FROM accounts WHERE investor_id = $1) AS available,
            (SELECT balance_sat FROM accounts WHERE code = 'receivable:' || $1) AS owed,
            (SELECT coalesce(sum(amount_sat), 0) FROM payouts WHERE investor_id = $1 AND status IN ('requested', 'approved')) AS pending,
            (SELECT coalesce(sum(amount_sat), 0) FROM payouts WHERE investor_id = $1 AND status = 'sent') AS paid,
            (SELECT coalesce(sum(net_sat), 0) FROM daily_credits WHERE investor_id = $1) AS credited`,
    [investorId],
  );
  const r = rows[0];
  return { available: satoshi(r?.available), pending: satoshi(r?.pending), paid: satoshi(r?.paid), credited: satoshi(r?.credited), owed: satoshi(r?.owed) };
}
