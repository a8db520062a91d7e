/** SQL of the investors aggregate. */
import type { Queryable } from '../db';
import { BillingInputError, type Investor } from '../domain';
import { toInvestor, type InvestorRow } from './rows';

export async function insertInvestor(db: Queryable, v: { id: string; name: string; email?: string }): Promise<Investor> {
  const { rows } = await db.query<InvestorRow>('INSERT INTO investors (id, name, email) VALUES ($1, $2, $3) RETURNING *', [v.id, v.name, v.email ?? null]);
  return toInvestor(rows[0]!);
}

export async function selectInvestors(db: Queryable): Promise<Investor[]> {
  const { rows } = await db.query<InvestorRow>('SELECT * FROM investors ORDER BY id');
  return rows.map(toInvestor);
}

export async function selectInvestor(db: Queryable, investorId: string): Promise<Investor | null> {
  const { rows } = await db.query<InvestorRow>('SELECT * FROM investors WHERE id = $1', [investorId]);
  return rows[0] ? toInvestor(rows[0]) : null;
}

/** The currency the investor reads values in (ISO 4217, USD unless set). */
export async function investorCurrency(db: Queryable, investorId: string): Promise<string> {
  const { rows } = await db.query<{ currency: string }>('SELECT currency FROM investors WHERE id = $1', [investorId]);
  return rows[0]?.currency ?? 'USD';
}

export async function setInvestorCurrency(db: Queryable, investorId: string, currency: string): Promise<void> {
  if (!/^[A-Z]{3}$/.test(currency)) throw new BillingInputError(`currency: "${currency}" is not a three-letter ISO 4217 code`);
  const { rowCount } = await db.query('UPDATE investors SET currency = $2 WHERE id = $1', [investorId, currency]);
  if (!rowCount) throw new BillingInputError(`no investor "${investorId}"`);
}
