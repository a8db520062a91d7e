/** An investor's statement as CSV: one line per credit, reversal and payout movement, with the running sum of the period's net movements. */
import { stringify } from 'csv-stringify/sync';
import type { Pool } from 'pg';
import { daySchema, parseInput } from './domain';
import { selectCredits } from './store/credits';
import { satoshi } from './db';

const COLUMNS = [
  'date', 'type', 'contract', 'revision', 'contracted_ths', 'farm_delivered_ths', 'sold_ths', 'revenue_sat', 'revenue_source',
  'difficulty', 'btc_price_usd', 'gross_sat', 'maintenance_fee_sat', 'revenue_fee_sat', 'net_sat', 'payout_id', 'btc_txid', 'period_net_sat',
] as const;

export type CsvValue = string | number | null | undefined;

/**
 * CSV text with a header line (RFC 4180 quoting, "\n" line ends). Spreadsheets run a cell that starts with
 * = + - @ (or tab/CR) as a formula, so such text cells get a leading single quote (OWASP, CSV injection).
 * Amounts are JavaScript numbers and are never escaped: -100000 stays a number the spreadsheet can sum.
 */
export function toCsv<C extends string>(columns: readonly C[], rows: ReadonlyArray<Partial<Record<C, CsvValue>>>): string {
  return stringify([...rows], { header: true, columns: [...columns], escape_formulas: true, record_delimiter: 'unix' });
}

export async function statementCsv(pool: Pool, investorId: string, from: string, to: string): Promise<string> {
  parseInput(daySchema, from, '--from');
  parseInput(daySchema, to, '--to');
  type Line = Partial<Record<(typeof COLUMNS)[number], string | number | null>> & { sortKey: string };
  const lines: Line[] = [];
  for (const c of await selectCredits(pool, investorId, { from, to })) {
    lines.push({
      sortKey: `${c.day}|0|${String(c.transactionId).padStart(15, '0')}`,
      date: c.day,
      type: c.kind,
      contract: c.contractId,
      revision: c.revision,
      contracted_ths: c.contractedThs,
      farm_delivered_ths: c.inputs.farmDeliveredThs,
      sold_ths: c.inputs.soldThs,
      revenue_sat: c.inputs.revenueSat,
      revenue_source: c.inputs.revenueSource,
      difficulty: c.inputs.difficulty,
      btc_price_usd: c.inputs.btcPriceUsd,
      gross_sat: c.grossSat,
      maintenance_fee_sat: c.maintenanceFeeSat,
      revenue_fee_sat: c.revenueFeeSat,
      net_sat: c.netSat,
    });
  }
  // Payout movements as the ledger booked them: the request takes the balance, a rejection gives it back.
  const { rows } = await pool.query<{ id: string; kind: string; amount_sat: string; day: string; created_id: string; btc_txid: string | null }>(
    `SELECT p.id, t.kind, e.amount_sat, to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, t.id AS created_id, p.btc_txid
       FROM payouts p JOIN journal_transactions t ON t.id IN (p.request_transaction_id, p.settle_transaction_id)
       JOIN journal_entries e ON e.transaction_id = t.id JOIN accounts a ON a.id = e.account_id AND a.investor_id = p.investor_id
      WHERE p.investor_id = $1 AND (t.created_at AT TIME ZONE 'UTC')::date BETWEEN $2::date AND $3::date`,
    [investorId, from, to],
  );
  for (const r of rows) {
    lines.push({
      sortKey: `${r.day}|1|${r.created_id.padStart(15, '0')}`,
      date: r.day,
      type: r.kind,
      net_sat: -satoshi(r.amount_sat),
      payout_id: r.id,
      btc_txid: r.btc_txid,
    });
  }
  lines.sort((a, b) => (a.sortKey < b.sortKey ? -1 : 1));
  let balance = 0;
  return toCsv(
    COLUMNS,
    lines.map(({ sortKey: _sortKey, ...line }) => {
      balance += Number(line.net_sat ?? 0);
      return { ...line, period_net_sat: balance };
    }),
  );
}
