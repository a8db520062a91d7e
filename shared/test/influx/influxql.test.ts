import { exactRegexLiteral, formatLine, ident, influxql, quoteIdentifier, quoteString, raw, type InfluxStore } from '../../src/influx';
import { openTestStore } from './helpers';

describe('InfluxQL quoting', () => {
  test('quotes identifiers and strings with escapes', () => {
    expect(quoteIdentifier('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteString("it's \\ \n")).toBe("'it\\'s \\\\ \\n'");
    expect(influxql`SELECT * FROM ${ident('m')} WHERE "miner" = ${"x' OR 1=1"} AND v > ${2.5} AND time > ${new Date(0)}`).toBe(
      `SELECT * FROM "m" WHERE "miner" = 'x\\' OR 1=1' AND v > 2.5 AND time > '1970-01-01T00:00:00.000Z'`,
    );
    expect(() => influxql`SELECT ${NaN}`).toThrow(/finite/);
    expect(influxql`SELECT ${raw('mean("v")')} FROM m`).toBe('SELECT mean("v") FROM m');
  });
});

const ATTACKS = [
  "' OR 1=1 --",
  "x' OR '1'='1",
  '"; DROP DATABASE x',
  `'; DROP DATABASE "victim"; SELECT '`,
  'a\nDROP DATABASE victim',
  'trailing\\',
  "\\' OR 1=1 --",
  '.*',
  '/.*/',
];

describe('injection attempts against InfluxDB 1.6.7', () => {
  let store: InfluxStore;
  const db = () => store.config.database;
  beforeAll(async () => {
    store = await openTestStore('ql', {}, { spool: false });
    await store.query('CREATE DATABASE "victim"');
    const now = Date.now();
    store.write([formatLine('miner', { miner: 'm1' }, { v: 1 }, now) as string, formatLine('miner', { miner: 'm2' }, { v: 2 }, now) as string]);
    await store.flush();
  });
  afterAll(async () => {
    await store.query('DROP DATABASE "victim"');
    await store.close();
  });

  test.each(ATTACKS)('%j matches nothing and drops nothing', async (attack) => {
    expect(await store.queryRows(influxql`SELECT "v" FROM "miner" WHERE "miner" = ${attack}`)).toEqual([]);
    expect(await store.queryRows(influxql`SELECT "v" FROM "miner" WHERE "miner" =~ ${raw(exactRegexLiteral(attack))}`)).toEqual([]);
    // As an identifier: a measurement of that name does not exist.
    expect(await store.query(influxql`SELECT * FROM ${ident(attack)}`)).toEqual([]);
    const dbs = await store.queryRows('SHOW DATABASES');
    expect(dbs.map((r) => r.name)).toEqual(expect.arrayContaining(['victim', db()]));
    expect(await store.queryRows(influxql`SELECT "v" FROM "miner"`)).toHaveLength(2);
  });

  test('the same quoting finds the real value', async () => {
    expect(await store.queryRows(influxql`SELECT "v" FROM "miner" WHERE "miner" = ${'m2'}`)).toMatchObject([{ v: 2 }]);
    expect(await store.queryRows(influxql`SELECT "v" FROM "miner" WHERE "miner" =~ ${raw(exactRegexLiteral('m1'))}`)).toMatchObject([{ v: 1 }]);
  });

  test('a query error names the statement and InfluxDB reason', async () => {
    await expect(store.query('SELECT FROM')).rejects.toThrow(/InfluxDB query failed .*error parsing query/);
  });
});
