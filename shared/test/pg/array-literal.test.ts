/** Array literals read back by a real PostgreSQL server exactly as sent, whatever the strings hold. */
import { Client } from 'pg';
import { pgArrayLiteral } from '../../src/pg/array-literal';

const url = process.env.FLYMINING_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
let client: Client;

beforeAll(async () => {
  client = new Client({ connectionString: url });
  await client.connect();
});
afterAll(() => client.end());

async function roundTrip(values: readonly (string | null)[], type = 'text'): Promise<unknown[]> {
  const { rows } = await client.query<{ v: unknown[] }>(`SELECT $1::${type}[] AS v`, [pgArrayLiteral(values)]);
  return rows[0]!.v;
}

test('strings that need quoting come back unchanged', async () => {
  const hostile = ['plain', 'credit:c1:2026-01-15:r1', '', ' ', 'NULL', 'null', 'a,b', '{x}', 'say "hi"', 'back\\slash', '\\"', 'tab\there', 'line\nbreak', 'ünïcödé ₿', "it's"];
  expect(await roundTrip(hostile)).toEqual(hostile);
});

test('null elements are nulls, not the word', async () => {
  expect(await roundTrip([null, 'NULL', null])).toEqual([null, 'NULL', null]);
});

test('numbers, bigints and numeric strings keep every digit', async () => {
  const { rows } = await client.query<{ b: string[]; n: string[] }>('SELECT $1::bigint[]::text[] AS b, $2::numeric[]::text[] AS n', [
    pgArrayLiteral([0, -1, Number.MAX_SAFE_INTEGER, 9223372036854775807n, -42n]),
    pgArrayLiteral(['12.345678', '-0.000001', '1e3', '100000000000000000000.5']),
  ]);
  expect(rows[0]!.b).toEqual(['0', '-1', '9007199254740991', '9223372036854775807', '-42']);
  expect(rows[0]!.n).toEqual(['12.345678', '-0.000001', '1000', '100000000000000000000.5']);
});

test('an empty array is empty, and a number that is not finite is refused before it is sent', async () => {
  expect(await roundTrip([])).toEqual([]);
  expect(() => pgArrayLiteral([1, Number.NaN])).toThrow(/not a finite number/);
});

test('random strings of delimiters and quotes survive', async () => {
  const alphabet = ['a', '"', '\\', ',', '{', '}', ' ', 'N', 'U', 'L', '\t', '€'];
  let seed = 17;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const values = Array.from({ length: 300 }, () => Array.from({ length: Math.floor(next() * 8) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
  expect(await roundTrip(values)).toEqual(values);
});
