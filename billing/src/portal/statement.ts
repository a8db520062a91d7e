/** The downloadable statement: one CSV row per daily credit and per payout, oldest first. */
import { satsToBtc } from './forms';
import type { ContractSummary, DailyCredit, Payout } from './ledger-view';

export const STATEMENT_COLUMNS = ['date', 'type', 'contract', 'purchased_ths', 'delivered_ths', 'amount_sats', 'amount_btc', 'status', 'details'] as const;

/** Quotes every cell; text that a spreadsheet would run as a formula gets a leading apostrophe. */
function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function statementCsv(contracts: readonly ContractSummary[], credits: readonly DailyCredit[], payouts: readonly Payout[]): string {
  const label = new Map(contracts.map((c) => [c.id, c.label]));
  const rows: { sortKey: string; cells: string[] }[] = [];
  for (const c of credits) {
    rows.push({
      sortKey: `${c.day}T99`,
      cells: [c.day, c.kind, label.get(c.contractId) ?? c.contractId, c.purchasedThs, c.deliveredThs, c.netSats, satsToBtc(c.netSats), 'credited',
        Object.entries(c.inputs).map(([k, v]) => `${k}=${v}`).join('; ')],
    });
  }
  for (const p of payouts) {
    const amount = (-BigInt(p.amountSats)).toString();
    rows.push({
      sortKey: p.requestedAt,
      cells: [p.requestedAt.slice(0, 10), 'payout', '', '', '', amount, satsToBtc(amount), p.status, `address=${p.address}${p.txid ? `; txid=${p.txid}` : ''}`],
    });
  }
  rows.sort((a, b) => a.sortKey.localeCompare(b.sortKey));
  return [STATEMENT_COLUMNS.join(','), ...rows.map((r) => r.cells.map(cell).join(','))].join('\r\n') + '\r\n';
}
