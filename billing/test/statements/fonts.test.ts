/**
 * PDF statements print any investor's name: Cyrillic, Greek, Latin with diacritics and Chinese come back exactly
 * from the PDF's text (pdftotext), as does the minus sign of a negative value, and the page has ink (pdftoppm).
 * A font file named in the environment that is not there is refused with the setting's name.
 */
import Decimal from 'decimal.js';
import { pdfFontsFromEnv } from '../../src/statements/fonts';
import type { MonthlyStatement } from '../../src/statements/monthly';
import { statementPdf } from '../../src/statements/render';
import { renderPdf } from '../pdf';

/** A month with one credit and the reversal of an earlier one (a negative value), for `name`. */
function statementFor(name: string, memo: string): MonthlyStatement {
  const line = { journalKind: 'credit', contractId: 'c1', creditDay: '2026-10-05', owedSat: 0, valueInCurrency: null };
  return {
    investor: { id: 'inv1', name, email: null, currency: 'USD' },
    month: '2026-10',
    from: '2026-10-01',
    to: '2026-10-31',
    openingSat: 100_000,
    closingSat: 130_000,
    openingOwedSat: 0,
    closingOwedSat: 0,
    lines: [
      { ...line, date: '2026-10-05', kind: 'credit', transactionId: 1, text: 'Credit for 2026-10-05', grossSat: 60_000, feesSat: 0, amountSat: 60_000, valueUsd: new Decimal('36.12') },
      { ...line, date: '2026-10-20', kind: 'reversal', journalKind: 'reversal', transactionId: 2, text: 'Reversal of the credit for 2026-09-30 (the day was recomputed)', grossSat: -30_000, feesSat: 0, amountSat: -30_000, valueUsd: new Decimal('-18.06') },
      { ...line, date: '2026-10-21', kind: 'adjustment', journalKind: 'adjustment', transactionId: 3, text: memo, contractId: null, creditDay: null, grossSat: null, feesSat: null, amountSat: 0, valueUsd: null },
    ],
    totals: { creditedSat: 60_000, reversedSat: -30_000, grossSat: 30_000, feesSat: 0, payoutsSat: 0, returnedSat: 0, adjustmentsSat: 0 },
    creditedUsd: new Decimal('18.06'),
    creditedInCurrency: null,
    openDays: [],
  };
}

const NAMES: Array<[script: string, name: string, memo: string]> = [
  ['Cyrillic', 'Зоя Иванова', 'Перерасчёт по договору'],
  ['Greek', 'Σωκράτης Παπαδόπουλος', 'Διόρθωση'],
  ['Latin with diacritics', 'Ørjan Ødegård-Çelik Łukasz Dvořák', 'Übertrag für Ångström'],
  ['Chinese (fallback font)', '李雷 (Li Lei)', '合同调整'],
];

test.each(NAMES)('%s: the name, the memo and the minus sign come back exactly from the PDF', async (_script, name, memo) => {
  const rendered = await renderPdf(await statementPdf(statementFor(name, memo)));
  const text = rendered.text.replace(/[ \t]+/g, ' ');
  expect(text).toContain(`${name} (investor inv1)`);
  expect(text).toContain(memo);
  // The reversal's value: U+2212, not a hyphen, and not dropped.
  expect(text).toContain('−$18.06');
  expect(text).toContain('$36.12');
  expect(text).toContain('Closing balance on 2026-10-31 0.00130000 BTC');
  expect(rendered.png.inkShare).toBeGreaterThan(0.005);
});

test('a font file named in the environment must exist and be a font; the defaults are DejaVu Sans and Droid Sans Fallback', () => {
  expect(() => pdfFontsFromEnv({ FLYMINING_BILLING_PDF_FONT: '/nonexistent/Font.ttf' })).toThrow(/^FLYMINING_BILLING_PDF_FONT: cannot read the font "\/nonexistent\/Font.ttf"/);
  expect(() => pdfFontsFromEnv({ FLYMINING_BILLING_PDF_FONT_FALLBACK: __filename })).toThrow(/^FLYMINING_BILLING_PDF_FONT_FALLBACK: ".*fonts.test.ts" is not a TrueType\/OpenType font/);
  const fonts = pdfFontsFromEnv({});
  expect(fonts?.regular.path).toBe('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf');
  expect(fonts?.fallback?.path).toBe('/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf');
  // Switched off: Chinese characters have no font then (they print as boxes), everything else is unchanged.
  expect(pdfFontsFromEnv({ FLYMINING_BILLING_PDF_FONT_FALLBACK: '' })?.fallback).toBeNull();
});
