import {
  BACKSLASH_REPLACEMENT,
  CONTROL_REPLACEMENT,
  formatLine,
  ident,
  influxql,
  storedName,
  storedString,
  type InfluxStore,
} from '../../src/influx';
import { openTestStore } from './helpers';

describe('formatLine', () => {
  test('formats tags sorted, floats, declared integers, booleans and strings', () => {
    const line = formatLine(
      'miner',
      { site: 'a', container: 'c1', empty: '', missing: undefined },
      { hashrate: 95.5, chips: 126, ok: true, note: 'hi', nan: NaN, inf: Infinity, none: undefined },
      1_700_000_000_123.9,
      { integerFields: new Set(['chips']) },
    );
    expect(line).toBe('miner,container=c1,site=a hashrate=95.5,chips=126i,ok=true,note="hi" 1700000000123');
  });

  test('returns undefined when no field has a value', () => {
    expect(formatLine('m', { a: 'b' }, { x: undefined, y: NaN }, 1)).toBeUndefined();
  });

  test('refuses names InfluxDB would drop and non-finite times', () => {
    expect(() => formatLine('m', {}, { time: 1 }, 1)).toThrow(/time/);
    expect(() => formatLine('', {}, { v: 1 }, 1)).toThrow(/empty measurement/);
    expect(() => formatLine('m', {}, { v: 1 }, NaN)).toThrow(/finite/);
  });

  test('no value can add a tag, a field or a line', () => {
    const evil = 'x,evil=1 hacked=1i 0\nm2 v=1';
    const line = formatLine('m', { t: evil }, { s: evil }, 5) as string;
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toBe(`m,t=x\\,evil\\=1\\ hacked\\=1i\\ 0${CONTROL_REPLACEMENT}m2\\ v\\=1 s="x,evil=1 hacked=1i 0${CONTROL_REPLACEMENT}m2 v=1" 5`);
  });
});

/** Strings that have broken line-protocol writers: every class the docs list. */
const NASTY: Record<string, string> = {
  comma: 'a,b',
  space: 'a b',
  equals: 'a=b',
  doubleQuote: 'a"b',
  singleQuote: "a'b",
  backslashInside: 'a\\b',
  backslashTrailing: 'ab\\',
  backslashDouble: 'a\\\\',
  backslashBeforeComma: 'a\\,b',
  backslashBeforeSpace: 'a\\ b',
  backslashBeforeEquals: 'a\\=b',
  backslashQuote: 'a\\"b',
  // Distinct texts: control characters all become U+FFFD, so 'a\nb' and 'a\tb' would be one series.
  newline: 'nl\nb',
  carriageReturn: 'cr\r\nb',
  tab: 'tab\tb',
  nul: 'nul\0b',
  control: 'ctl\x01\x1f\x7fb',
  unicode: 'été ⚡ 矿机 😀',
  injection: 'x" ,t=1 v=2i 0\nevil v=1',
};

describe('metacharacters round trip through InfluxDB 1.6.7', () => {
  let store: InfluxStore;
  beforeAll(async () => {
    store = await openTestStore('lp', {}, { spool: false });
  });
  afterAll(() => store.close());

  test('tag values and string fields come back as documented, one point per input', async () => {
    const entries = Object.entries(NASTY);
    const t0 = Date.now() - 60_000;
    store.write(entries.map(([kind, value], i) => formatLine('nasty', { kind, value }, { s: value, i }, t0 + i) as string));
    await store.flush();
    expect(store.stats()).toMatchObject({ written: entries.length, failed: 0 });

    const rows = await store.queryRows('SELECT "s", "i", "kind", "value" FROM "nasty"');
    expect(rows).toHaveLength(entries.length);
    for (const [kind, value] of entries) {
      const row = rows.find((r) => r.kind === kind);
      expect({ kind, tag: row?.value, field: row?.s }).toEqual({ kind, tag: storedName(value), field: storedString(value) });
      // A value without control characters or unstorable backslashes comes back exactly.
      if (!/[\x00-\x1f\x7f]|\\(?=[, =]|$)/.test(value)) expect(row?.value).toBe(value);
      // The stored tag can be queried back by its value.
      const found = await store.queryRows(influxql`SELECT "i" FROM "nasty" WHERE "value" = ${storedName(value)}`);
      expect(found.map((r) => r.i)).toEqual([row?.i]);
    }
    expect(storedName('ab\\')).toBe(`ab${BACKSLASH_REPLACEMENT}`);
    expect(storedString('ab\\')).toBe('ab\\');

    // Nasty measurement, tag key and field key names.
    const name = 'm e,a=s\\"u\\';
    store.write([formatLine(name, { [name]: 'v' }, { [name]: 1 }, t0) as string]);
    await store.flush();
    expect(store.stats().failed).toBe(0);
    const back = await store.query(influxql`SELECT * FROM ${ident(storedName(name, 'measurement'))}`);
    expect(back[0]?.name).toBe(storedName(name, 'measurement'));
    expect(back[0]?.name).toBe(`m e,a=s${BACKSLASH_REPLACEMENT}"u${BACKSLASH_REPLACEMENT}`);
    expect(back[0]?.rows[0]).toMatchObject({ [storedName(name, 'field key')]: 1, [storedName(name, 'tag key')]: 'v' });
  });
});
