/**
 * An investor's monthly statement, read straight from the journal: every entry on the investor's account booked in
 * the month, the balance before it (opening) and after it (closing). Nothing here is computed twice, so the
 * statement's figures are the ledger's to the satoshi.
 *
 * Booking date: a day's first credit (revision 1) belongs to the day it credits (it is posted shortly after that
 * day closes); everything else (a reversal or corrected credit of a recomputed day, a payout, a contract change)
 * belongs to the UTC day it was posted. A statement issued once every day of its month is credited is therefore
 * final: later corrections appear on the statement of the month they are made in.
 */
import Decimal from 'decimal.js';
import { z } from 'zod';
import { satoshi, type Queryable } from '../db';
import { BillingInputError, parseInput } from '../domain';

export const monthSchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month is YYYY-MM, e.g. 2026-10');

/** First and last day (inclusive) of a YYYY-MM month. */
export function monthDays(month: string): { from: string; to: string } {
  parseInput(monthSchema, month, 'month');
  const [year, mon] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(year, mon, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

export type StatementLineKind = 'credit' | 'reversal' | 'payout_request' | 'payout_rejected' | 'adjustment';

export interface StatementLine {
  /** Booking date (UTC), see above. */
  date: string;
  kind: StatementLineKind;
  /** The journal transaction's kind as stored (credit, reversal, payout_request, ...). */
  journalKind: string;
  transactionId: number;
  text: string;
  contractId: string | null;
  /** The day a credit or reversal is for; null for other movements. */
  creditDay: string | null;
  /** For credits and reversals: the contract's share before fees, and the fees (negative on a reversal). */
  grossSat: number | null;
  feesSat: number | null;
  /** What the movement did to the investor's balance (+ credited, − debited). */
  amountSat: number;
  /** What it did to what the investor owes the farm (+ a carried fee or clawback, − repaid from this credit). */
  owedSat: number;
  /** The credit's value at that day's BTC price; null without a price or for other movements. */
  valueUsd: Decimal | null;
  /** The same in the investor's currency at that day's recorded rate; null without one (or when USD). */
  valueInCurrency: Decimal | null;
}

export interface MonthlyStatement {
  investor: { id: string; name: string; email: string | null; currency: string };
  month: string;
  from: string;
  to: string;
  openingSat: number;
  closingSat: number;
  /** Owed to the farm (carried fees, clawbacks) before and after the month; recovered from later credits. */
  openingOwedSat: number;
  closingOwedSat: number;
  lines: StatementLine[];
  totals: {
    creditedSat: number; // net credits booked in the month (corrected credits included)
    reversedSat: number; // reversals (negative)
    grossSat: number; // contracts' gross of those credits and reversals
    feesSat: number; // our fees and maintenance charges of those
    payoutsSat: number; // payouts requested (negative)
    returnedSat: number; // refused payouts given back
    adjustmentsSat: number; // any other movement (contract changes, carried fees, clawbacks)
  };
  /** Net credits of the month valued at each day's price; null when a day lacked a price. */
  creditedUsd: Decimal | null;
  creditedInCurrency: Decimal | null;
  /** Days of the month the investor had a contract on and that are not credited yet (empty: the statement is final). */
  openDays: string[];
}

interface LineRow {
  id: string;
  kind: string;
  memo: string;
  contract_id: string | null;
  booked: string;
  amount_sat: string;
  owed_sat: string;
  credit_day: string | null;
  revision: number | null;
  gross_sat: string | null;
  fees_sat: string | null;
  payout_id: string | null;
  address: string | null;
  rejected_reason: string | null;
  btc_price_usd: string | null;
  per_usd: string | null;
}

/** The booking date of a journal transaction `t` (see the file comment), as SQL. */
const BOOKED = `CASE WHEN t.kind = 'credit' AND t.idempotency_key LIKE '%:r1' THEN t.day ELSE (t.created_at AT TIME ZONE 'UTC')::date END`;

function lineText(r: LineRow): { kind: StatementLineKind; text: string } {
  switch (r.kind) {
    case 'credit':
      return { kind: 'credit', text: r.revision !== null && r.revision > 1 ? `Corrected credit for ${r.credit_day} (revision ${r.revision})` : `Credit for ${r.credit_day}` };
    case 'reversal':
      return { kind: 'reversal', text: `Reversal of the credit for ${r.credit_day ?? '?'} (the day was recomputed)` };
    case 'payout_request':
      return { kind: 'payout_request', text: `Payout ${r.payout_id ?? ''} requested to ${r.address ?? '?'}` };
    case 'payout_rejected':
      return { kind: 'payout_rejected', text: `Payout ${r.payout_id ?? ''} refused (${r.rejected_reason ?? 'no reason'}): amount returned` };
    default:
      return { kind: 'adjustment', text: r.memo || r.kind.replace(/_/g, ' ') };
  }
}

/**
 * The statement of one investor for one month. `db` may be a transaction (REPEATABLE READ) so that many statements
 * are read from one snapshot of the ledger.
 */
export async function loadMonthlyStatement(db: Queryable, investorId: string, month: string): Promise<MonthlyStatement> {
  const { from, to } = monthDays(month);
  const investorRows = await db.query<{ id: string; name: string; email: string | null; currency: string; account_id: string | null; receivable_id: string | null }>(
    `SELECT i.id, i.name, i.email, i.currency, a.id AS account_id, (SELECT id FROM accounts WHERE code = 'receivable:' || i.id) AS receivable_id
       FROM investors i LEFT JOIN accounts a ON a.investor_id = i.id WHERE i.id = $1`,
    [investorId],
  );
  const investor = investorRows.rows[0];
  if (!investor) throw new BillingInputError(`investor ${investorId} does not exist`);
  const accountId = investor.account_id === null ? null : Number(investor.account_id);
  const receivableId = investor.receivable_id === null ? null : Number(investor.receivable_id);

  // The transactions that touched the investor: entries on their account, and credits of theirs that moved
  // nothing (fees took the whole share, or a day without revenue), which still belong on the statement.
  const opening = await db.query<{ opening: string | null; owed: string | null }>(
    `SELECT -sum(e.amount_sat) FILTER (WHERE e.account_id = $1) AS opening, sum(e.amount_sat) FILTER (WHERE e.account_id = $3) AS owed
       FROM journal_entries e JOIN journal_transactions t ON t.id = e.transaction_id
      WHERE e.account_id IN ($1, $3) AND ${BOOKED} < $2::date`,
    [accountId, from, receivableId],
  );
  const { rows } = await db.query<LineRow>(
    `WITH touched AS (
       SELECT transaction_id FROM journal_entries WHERE account_id IN ($1, $6)
       UNION SELECT transaction_id FROM daily_credits WHERE investor_id = $2)
     SELECT t.id, t.kind, t.memo, t.contract_id, to_char(${BOOKED}, 'YYYY-MM-DD') AS booked,
            coalesce((SELECT -sum(e.amount_sat) FROM journal_entries e WHERE e.transaction_id = t.id AND e.account_id = $1), 0) AS amount_sat,
            coalesce((SELECT sum(e.amount_sat) FROM journal_entries e WHERE e.transaction_id = t.id AND e.account_id = $6), 0) AS owed_sat,
            to_char(dc.day, 'YYYY-MM-DD') AS credit_day, dc.revision, dc.gross_sat, dc.maintenance_fee_sat + dc.revenue_fee_sat AS fees_sat,
            p.id AS payout_id, p.address, p.rejected_reason, dc.inputs->>'btcPriceUsd' AS btc_price_usd, fx.per_usd::text AS per_usd
       FROM touched JOIN journal_transactions t ON t.id = touched.transaction_id
       LEFT JOIN daily_credit_records dc ON dc.transaction_id = t.id
       LEFT JOIN payouts p ON t.id IN (p.request_transaction_id, p.settle_transaction_id)
       LEFT JOIN fx_rates fx ON fx.day = dc.day AND fx.currency = $5
      WHERE ${BOOKED} BETWEEN $3::date AND $4::date
      ORDER BY ${BOOKED}, t.created_at, t.id`,
    [accountId, investorId, from, to, investor.currency, receivableId],
  );

  const totals = { creditedSat: 0, reversedSat: 0, grossSat: 0, feesSat: 0, payoutsSat: 0, returnedSat: 0, adjustmentsSat: 0 };
  let creditedUsd: Decimal | null = new Decimal(0);
  let creditedInCurrency: Decimal | null = investor.currency === 'USD' ? null : new Decimal(0);
  let missingRate = false;
  const lines = rows.map((r): StatementLine => {
    const { kind, text } = lineText(r);
    const amountSat = satoshi(r.amount_sat);
    const isCredit = kind === 'credit' || kind === 'reversal';
    const valueUsd = isCredit && r.btc_price_usd !== null ? new Decimal(amountSat).times(r.btc_price_usd).div(1e8) : null;
    const valueInCurrency = valueUsd !== null && r.per_usd !== null && investor.currency !== 'USD' ? valueUsd.times(r.per_usd) : null;
    if (kind === 'credit') totals.creditedSat += amountSat;
    else if (kind === 'reversal') totals.reversedSat += amountSat;
    else if (kind === 'payout_request') totals.payoutsSat += amountSat;
    else if (kind === 'payout_rejected') totals.returnedSat += amountSat;
    else totals.adjustmentsSat += amountSat;
    if (isCredit) {
      totals.grossSat += satoshi(r.gross_sat);
      totals.feesSat += satoshi(r.fees_sat);
      if (valueUsd === null) creditedUsd = null;
      else if (creditedUsd !== null) creditedUsd = creditedUsd.plus(valueUsd);
      if (investor.currency !== 'USD' && valueInCurrency === null) missingRate = true;
      else if (valueInCurrency !== null && creditedInCurrency !== null) creditedInCurrency = creditedInCurrency.plus(valueInCurrency);
    }
    return {
      date: r.booked,
      kind,
      journalKind: r.kind,
      transactionId: Number(r.id),
      text,
      contractId: r.contract_id,
      creditDay: r.credit_day,
      grossSat: r.gross_sat === null ? null : satoshi(r.gross_sat),
      feesSat: r.fees_sat === null ? null : satoshi(r.fees_sat),
      amountSat,
      owedSat: satoshi(r.owed_sat),
      valueUsd,
      valueInCurrency,
    };
  });
  if (missingRate) creditedInCurrency = null;
  const openingSat = satoshi(opening.rows[0]?.opening);
  const closingSat = openingSat + lines.reduce((s, l) => s + l.amountSat, 0);
  const openingOwedSat = satoshi(opening.rows[0]?.owed);
  const closingOwedSat = openingOwedSat + lines.reduce((s, l) => s + l.owedSat, 0);
  return {
    investor: { id: investor.id, name: investor.name, email: investor.email, currency: investor.currency },
    month,
    from,
    to,
    openingSat,
    closingSat,
    openingOwedSat,
    closingOwedSat,
    lines,
    totals,
    creditedUsd,
    creditedInCurrency,
    openDays: await openDays(db, investorId, from, to),
  };
}

/** Days between from and to on which one of the investor's contracts ran and that have no finished daily run. */
export async function openDays(db: Queryable, investorId: string | null, from: string, to: string): Promise<string[]> {
  const { rows } = await db.query<{ day: string }>(
    `SELECT to_char(d, 'YYYY-MM-DD') AS day FROM generate_series($2::date, $3::date, interval '1 day') AS d
      WHERE EXISTS (SELECT 1 FROM contracts c WHERE ($1::text IS NULL OR c.investor_id = $1) AND d::date BETWEEN c.start_day AND c.end_day)
        AND NOT EXISTS (SELECT 1 FROM daily_runs r WHERE r.day = d::date AND r.status = 'done')
      ORDER BY d`,
    [investorId, from, to],
  );
  return rows.map((r) => r.day);
}

/** Months (YYYY-MM) from the investor's first contract to `lastMonth`, newest first. */
export async function statementMonths(db: Queryable, investorId: string, lastMonth: string): Promise<string[]> {
  const { rows } = await db.query<{ first: string | null }>(`SELECT to_char(min(start_day), 'YYYY-MM') AS first FROM contracts WHERE investor_id = $1`, [investorId]);
  const first = rows[0]?.first;
  if (!first) return [];
  const months: string[] = [];
  for (let m = first; m <= lastMonth; m = nextMonth(m)) months.unshift(m);
  return months;
}

export function previousMonth(month: string): string {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  return mon === 1 ? `${year - 1}-12` : `${year}-${String(mon - 1).padStart(2, '0')}`;
}

export function nextMonth(month: string): string {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  return mon === 12 ? `${year + 1}-01` : `${year}-${String(mon + 1).padStart(2, '0')}`;
}
