/**
 * A monthly statement as a printable HTML page and as a PDF (pdfkit with embedded TrueType fonts, fonts.ts, so any
 * investor's name prints and the text can be searched and extracted). Both show the same figures from the same `MonthlyStatement`: BTC with all 8 decimals
 * from integer satoshi (never rounded), money rounded to the cent only when shown.
 */
import PDFDocument from 'pdfkit';
import type Decimal from 'decimal.js';
import { moneyText } from '../portal/explain';
import { satsToBtc } from '../portal/forms';
import { html, SafeHtml } from '../portal/html';
import { fontRuns, statementFonts, type LoadedFont, type PdfFonts } from './fonts';
import type { MonthlyStatement, StatementLine } from './monthly';

const btc = (sat: number): string => `${satsToBtc(BigInt(sat))} BTC`;
const monthName = (month: string): string =>
  new Date(`${month}-01T00:00:00Z`).toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });

/** The summary rows, in order: label and satoshi (both renderings use these). */
export function summaryRows(s: MonthlyStatement): Array<[label: string, sat: number]> {
  const t = s.totals;
  const rows: Array<[string, number]> = [
    [`Opening balance on ${s.from}`, s.openingSat],
    ['Credits', t.creditedSat],
  ];
  if (t.reversedSat !== 0) rows.push(['Reversals of recomputed days', t.reversedSat]);
  rows.push(['Payouts requested', t.payoutsSat]);
  if (t.returnedSat !== 0) rows.push(['Refused payouts returned', t.returnedSat]);
  if (t.adjustmentsSat !== 0) rows.push(['Contract changes and adjustments', t.adjustmentsSat]);
  rows.push([`Closing balance on ${s.to}`, s.closingSat]);
  if (s.openingOwedSat !== 0 || s.closingOwedSat !== 0) {
    rows.push([`Owed to the farm on ${s.from} (carried fees, clawbacks)`, s.openingOwedSat]);
    rows.push([`Owed to the farm on ${s.to}, recovered from the next credits`, s.closingOwedSat]);
  }
  return rows;
}

/** "worth $1,234.56 (€1,135.80) at each day's price", or why a value is missing. */
export function valueText(s: MonthlyStatement): string {
  const cur = s.investor.currency;
  if (s.creditedUsd === null) return 'No USD value: a credited day has no recorded BTC price.';
  let text = `This month's credits were worth ${moneyText(s.creditedUsd, 'USD')} at each day's BTC price`;
  if (cur !== 'USD') text += s.creditedInCurrency === null ? ` (no ${cur} value: a day has no recorded ${cur} rate)` : ` = ${moneyText(s.creditedInCurrency, cur)}`;
  return `${text}.`;
}

const signed = (sat: number | null): string => (sat === null ? '' : btc(sat));
/** The line's text, with what it did to the amount owed (a carried fee, a clawback, a repayment). */
const lineText = (l: StatementLine): string =>
  l.owedSat > 0 ? `${l.text}; ${satsToBtc(BigInt(l.owedSat))} BTC more owed` : l.owedSat < 0 ? `${l.text}; repays ${satsToBtc(BigInt(-l.owedSat))} BTC owed` : l.text;
const lineValue = (l: StatementLine, currency: string): string =>
  l.valueUsd === null ? '' : currency !== 'USD' && l.valueInCurrency !== null ? moneyText(l.valueInCurrency as Decimal, currency) : moneyText(l.valueUsd, 'USD');

const PRINT_STYLE = `
body{font:12px/1.4 system-ui,sans-serif;color:#1d232a;max-width:960px;margin:1.5rem auto;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .25rem}table{border-collapse:collapse;width:100%;margin:.75rem 0}
th,td{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #dde1e6;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.summary td.num{font-weight:600}.muted{color:#66707a}.provisional{color:#a11;font-weight:600}
@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}.noprint{display:none}}
@page{size:A4;margin:14mm}
`;

/** The whole printable page (its own document: the browser prints it as it is). `nonce` is the response's CSP nonce. */
export function statementHtml(s: MonthlyStatement, options: { nonce: string; pdfHref?: string }): string {
  const cur = s.investor.currency;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Statement ${s.month} · ${s.investor.name} · FlyMining</title>
<style nonce="${options.nonce}">${new SafeHtml(PRINT_STYLE)}</style></head><body>
<p class="noprint"><a href="/statements">All statements</a>${options.pdfHref ? html` · <a href="${options.pdfHref}">Download PDF</a>` : ''}</p>
<h1>FlyMining statement: ${monthName(s.month)}</h1>
<p>${s.investor.name} (investor ${s.investor.id}) · ${s.from} to ${s.to} (UTC) · amounts in BTC, to the satoshi</p>
${s.openDays.length ? html`<p class="provisional">Provisional: ${s.openDays.length} day(s) not credited yet (${s.openDays[0]} …).</p>` : ''}
<table class="summary"><tbody>${summaryRows(s).map(([label, sat]) => html`<tr><td>${label}</td><td class="num">${btc(sat)}</td></tr>`)}</tbody></table>
<p>Gross share of the farm's revenue ${btc(s.totals.grossSat)}, less our fees and maintenance charges ${btc(s.totals.feesSat)}. ${valueText(s)}</p>
<h2>Movements</h2>
${
  s.lines.length
    ? html`<table class="lines"><thead><tr><th>Date</th><th>What</th><th>Contract</th><th class="num">Gross</th><th class="num">Fees</th><th class="num">Amount</th><th class="num">Value${cur === 'USD' ? '' : ` (${cur})`}</th></tr></thead><tbody>
${s.lines.map(
  (l) => html`<tr data-transaction="${l.transactionId}"><td>${l.date}</td><td>${lineText(l)}</td><td>${l.contractId ?? ''}</td><td class="num">${signed(l.grossSat)}</td>
<td class="num">${signed(l.feesSat)}</td><td class="num">${btc(l.amountSat)}</td><td class="num">${lineValue(l, cur)}</td></tr>`,
)}</tbody></table>`
    : html`<p class="muted">No movements this month.</p>`
}
<p class="muted">A day's credit is dated the day it is for; corrections, payouts and contract changes the day they were booked.</p>
</body></html>`.value;
}

/** Without embedded fonts (fonts.ts), Helvetica encodes WinAnsi only: the minus sign (U+2212) becomes a hyphen. */
const winAnsi = (text: string): string => text.replace(/\u2212/g, '-');

type TextOptions = PDFKit.Mixins.TextOptions & { x?: number; y?: number };

/** Writes text in the statement's fonts: regular or bold, with the fallback font for characters the main one lacks. */
class StatementWriter {
  constructor(
    private readonly doc: PDFKit.PDFDocument,
    private readonly fonts: PdfFonts | null,
  ) {
    if (fonts) {
      // A parsed fontkit font, not the file's bytes: parsing DejaVu Sans for every PDF made each statement 4× slower.
      // (@types/pdfkit lists paths and buffers only; pdfkit takes any object with a layout() as a parsed font.)
      const register = (name: string, font: LoadedFont): void => void doc.registerFont(name, font.font as unknown as Buffer);
      register('regular', fonts.regular);
      register('bold', fonts.bold);
      if (fonts.fallback) register('fallback', fonts.fallback);
    }
  }

  /** Selects the main font (for measuring, and for the text that follows). */
  font(bold: boolean): PDFKit.PDFDocument {
    return this.doc.font(this.fonts ? (bold ? 'bold' : 'regular') : bold ? 'Helvetica-Bold' : 'Helvetica');
  }

  text(text: string, bold: boolean, { x, y, ...options }: TextOptions = {}): void {
    const doc = this.font(bold);
    // pdfkit reads text(t, undefined, undefined, options) as text(t, {}): the position only when there is one.
    const place = (t: string, o: PDFKit.Mixins.TextOptions) => (x === undefined && y === undefined ? doc.text(t, o) : doc.text(t, x, y, o));
    if (!this.fonts) return void place(winAnsi(text), options);
    const runs = fontRuns(text, bold ? this.fonts.bold : this.fonts.regular, this.fonts.fallback);
    runs.forEach((run, i) => {
      doc.font(run.fallback ? 'fallback' : bold ? 'bold' : 'regular');
      const continued = i < runs.length - 1;
      // The first run places the text; the others continue its line (pdfkit keeps the width and alignment).
      if (i === 0) place(run.text, { ...options, continued });
      else doc.text(run.text, { continued });
    });
  }
}

const PAGE_MARGIN = 40;
/** Column x positions and widths on A4 portrait (595 pt wide). */
const COLUMNS = [
  { key: 'date', x: 40, w: 56, align: 'left' },
  { key: 'text', x: 98, w: 140, align: 'left' },
  { key: 'contract', x: 240, w: 50, align: 'left' },
  { key: 'gross', x: 292, w: 62, align: 'right' },
  { key: 'fees', x: 356, w: 56, align: 'right' },
  { key: 'amount', x: 414, w: 70, align: 'right' },
  { key: 'value', x: 486, w: 69, align: 'right' },
] as const;

/** The statement as a PDF (A4). */
export function statementPdf(s: MonthlyStatement): Promise<Buffer> {
  const fonts = statementFonts();
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE_MARGIN,
    // No default Helvetica when fonts are embedded: loading its metrics for every PDF cost more than the rest.
    ...(fonts ? { font: null as unknown as string } : {}),
    info: { Title: `FlyMining statement ${s.month}: ${s.investor.name}`, Author: 'FlyMining', CreationDate: new Date(`${s.to}T23:59:59Z`) },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const cur = s.investor.currency;
  const w = new StatementWriter(doc, fonts);
  w.font(true).fontSize(16);
  w.text(`FlyMining statement: ${monthName(s.month)}`, true);
  w.font(false).fontSize(10);
  w.text(`${s.investor.name} (investor ${s.investor.id}) · ${s.from} to ${s.to} (UTC) · amounts in BTC, to the satoshi`, false);
  if (s.openDays.length) {
    doc.fillColor('#aa1111');
    w.text(`Provisional: ${s.openDays.length} day(s) not credited yet (${s.openDays[0]} …).`, false);
    doc.fillColor('black');
  }
  doc.moveDown();
  for (const [label, sat] of summaryRows(s)) {
    const y = doc.y;
    const bold = label.startsWith('Closing');
    w.text(label, bold, { x: PAGE_MARGIN, y, width: 300 });
    w.text(btc(sat), bold, { x: 340, y, width: 215, align: 'right' });
  }
  doc.moveDown().fontSize(9);
  w.text(`Gross share of the farm's revenue ${btc(s.totals.grossSat)}, less our fees and maintenance charges ${btc(s.totals.feesSat)}. ${valueText(s)}`, false, {
    x: PAGE_MARGIN,
    y: doc.y,
    width: 515,
  });
  doc.moveDown().fontSize(12);
  w.text('Movements', true, { x: PAGE_MARGIN });
  doc.moveDown(0.3);
  const header = { date: 'Date', text: 'What', contract: 'Contract', gross: 'Gross', fees: 'Fees', amount: 'Amount', value: cur === 'USD' ? 'Value' : `Value (${cur})` };
  const row = (cells: Record<(typeof COLUMNS)[number]['key'], string>, bold: boolean): void => {
    w.font(bold).fontSize(8);
    // Only the description wraps; the other cells are one line each (measuring every cell doubled the time).
    const text = COLUMNS[1];
    const height = Math.max(doc.currentLineHeight(true), doc.heightOfString(cells.text, { width: text.w })) + 3;
    if (doc.y + height > doc.page.height - PAGE_MARGIN) doc.addPage();
    const y = doc.y;
    for (const c of COLUMNS) w.text(cells[c.key], bold, { x: c.x, y, width: c.w, align: c.align, lineBreak: c.key === 'text' });
    doc.y = y + height;
  };
  row(header, true);
  if (s.lines.length === 0) {
    doc.fontSize(9);
    w.text('No movements this month.', false, { x: PAGE_MARGIN });
  }
  for (const l of s.lines) {
    row(
      {
        date: l.date,
        text: lineText(l),
        contract: l.contractId ?? '',
        gross: l.grossSat === null ? '' : satsToBtc(BigInt(l.grossSat)),
        fees: l.feesSat === null ? '' : satsToBtc(BigInt(l.feesSat)),
        amount: satsToBtc(BigInt(l.amountSat)),
        value: lineValue(l, cur),
      },
      false,
    );
  }
  doc.moveDown().fontSize(8).fillColor('#66707a');
  w.text("A day's credit is dated the day it is for; corrections, payouts and contract changes the day they were booked.", false, { x: PAGE_MARGIN, y: doc.y, width: 515 });
  doc.end();
  return done;
}
