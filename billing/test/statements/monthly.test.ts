/**
 * Monthly statements read from the ledger: every figure equals the journal's to the satoshi (checked against
 * daily_credits and the account balance, which are kept separately), and the PDF renders (pdftoppm) with those
 * figures in its text (pdftotext).
 */
import { getBalance } from '../../src/api';
import { satsToBtc } from '../../src/portal/forms';
import { loadMonthlyStatement, monthDays } from '../../src/statements/monthly';
import { statementHtml, statementPdf } from '../../src/statements/render';
import { utcToday } from '../../src/run';
import { createTestDatabase, type TestDatabase } from '../pg';
import { renderPdf } from '../pdf';
import { seedStatementMonths, type SeededMonths } from './seed';

let db: TestDatabase;
let seeded: SeededMonths;

beforeAll(async () => {
  db = await createTestDatabase('statements');
  seeded = await seedStatementMonths(db.pool);
}, 120_000);
afterAll(async () => {
  await db?.drop();
});

/** Net credits of revision 1 per transaction, from daily_credits (not from the journal the statement reads). */
async function firstCredits(investorId: string, from: string, to: string): Promise<Map<number, number>> {
  const { rows } = await db.pool.query<{ transaction_id: string; net_sat: string }>(
    `SELECT transaction_id, net_sat FROM daily_credits WHERE investor_id = $1 AND day BETWEEN $2 AND $3 AND revision = 1 AND kind = 'credit'`,
    [investorId, from, to],
  );
  return new Map(rows.map((r) => [Number(r.transaction_id), Number(r.net_sat)]));
}

test("last month's statement: one line per credit, each the ledger's net, closing = opening + the month's credits", async () => {
  const { from, to } = monthDays(seeded.month);
  const s = await loadMonthlyStatement(db.pool, 'alice', seeded.month);
  const credits = await firstCredits('alice', from, to);
  expect(s.openingSat).toBe(0);
  expect(s.openDays).toEqual([]);
  const creditLines = s.lines.filter((l) => l.kind === 'credit');
  // Days with a zero net (none here) would also be listed; every credit of the month is there, once.
  expect(new Set(creditLines.map((l) => l.transactionId))).toEqual(new Set(credits.keys()));
  for (const l of creditLines) expect(l.amountSat).toBe(credits.get(l.transactionId));
  expect(s.lines.every((l) => l.date >= from && l.date <= to)).toBe(true);
  const sum = [...credits.values()].reduce((a, b) => a + b, 0);
  expect(sum).toBeGreaterThan(0);
  expect(s.totals.creditedSat).toBe(sum);
  expect(s.closingSat).toBe(sum);
  // Gross less fees is the net: alice-c1 pays maintenance and 10 %, so the fees are not zero.
  expect(s.totals.grossSat - s.totals.feesSat).toBe(sum);
  expect(s.totals.feesSat).toBeGreaterThan(0);
  // Valued at each day's price and EUR rate (all recorded).
  expect(s.creditedUsd?.toNumber()).toBeGreaterThan(0);
  expect(s.creditedInCurrency?.toNumber()).toBeCloseTo(s.creditedUsd!.toNumber() * 0.9, 6);
});

test("this month's statement opens at last month's closing, carries today's correction and payouts, and closes at the account's balance", async () => {
  const last = await loadMonthlyStatement(db.pool, 'alice', seeded.month);
  const s = await loadMonthlyStatement(db.pool, 'alice', seeded.thisMonth);
  expect(s.openingSat).toBe(last.closingSat);
  expect(s.closingSat).toBe((await getBalance(db.pool, 'alice')).availableSat);
  const today = utcToday();
  const reversals = s.lines.filter((l) => l.kind === 'reversal');
  // Only alice-c1 ran on the 10th (alice-c2 starts on the 15th).
  expect(reversals.map((l) => [l.date, l.creditDay, l.contractId])).toEqual([[today, seeded.correctedDay, 'alice-c1']]);
  // Each reversal undoes exactly the credit of last month it reverses.
  const reversed = new Map(last.lines.filter((l) => l.creditDay === seeded.correctedDay).map((l) => [l.contractId, l.amountSat]));
  for (const r of reversals) expect(r.amountSat).toBe(-reversed.get(r.contractId)!);
  expect(s.lines.filter((l) => l.kind === 'credit' && l.creditDay === seeded.correctedDay).map((l) => l.text)).toEqual([
    `Corrected credit for ${seeded.correctedDay} (revision 2)`,
  ]);
  expect(s.lines.filter((l) => l.kind === 'payout_request').map((l) => l.amountSat)).toEqual([-seeded.alicePayoutSat]);
  expect(s.totals.payoutsSat).toBe(-seeded.alicePayoutSat);
  // The month is not over: the days still to come are listed, so the statement says it is provisional.
  expect(s.openDays[0]).toBe(today);

  const bob = await loadMonthlyStatement(db.pool, 'bob', seeded.thisMonth);
  expect(bob.totals.payoutsSat).toBe(-200_000);
  expect(bob.totals.returnedSat).toBe(200_000);
  expect(bob.closingSat).toBe((await getBalance(db.pool, 'bob')).availableSat);
});

test('the PDF renders (pdftoppm: a page with ink) and its text has every figure of the statement', async () => {
  const s = await loadMonthlyStatement(db.pool, 'alice', seeded.month);
  const pdf = await statementPdf(s);
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  const rendered = await renderPdf(pdf);
  expect(rendered.pages).toBeGreaterThanOrEqual(1);
  expect(rendered.png.width).toBeGreaterThan(300);
  expect(rendered.png.inkShare).toBeGreaterThan(0.005);
  expect(rendered.png.inkShare).toBeLessThan(0.5);
  const text = rendered.text.replace(/[ \t]+/g, ' ');
  expect(text).toContain(`Closing balance on ${s.to} ${satsToBtc(BigInt(s.closingSat))} BTC`);
  expect(text).toContain(`Opening balance on ${s.from} 0.00000000 BTC`);
  expect(text).toContain('Alice Example (investor alice)');
  for (const l of s.lines) expect(text).toContain(satsToBtc(BigInt(l.amountSat)));
  expect(text).toContain('€');

  const page = statementHtml(s, { nonce: 'n' });
  expect(page).toContain(`${satsToBtc(BigInt(s.closingSat))} BTC`);
  expect(page.match(/<tr data-transaction=/g)?.length).toBe(s.lines.length);
});

test('a PDF of a month without movements still renders, with zero balances', async () => {
  // bob requested and got back a payout this month, but nothing happened to carol at all.
  const s = await loadMonthlyStatement(db.pool, 'carol', seeded.month);
  expect(s.lines).toEqual([]);
  const rendered = await renderPdf(await statementPdf(s));
  expect(rendered.text).toContain('No movements this month.');
  expect(rendered.png.inkShare).toBeGreaterThan(0.001);
});
