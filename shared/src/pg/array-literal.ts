/**
 * PostgreSQL array literals ('{a,b,"c d"}') for array parameters of bulk statements (`unnest($1::text[])`).
 * node-postgres serialises a JavaScript array element by element, quoting and escaping each with two regular
 * expressions; a bulk statement of a few thousand rows sends tens of thousands of elements, most of them plain
 * numbers and keys that need no quoting. This quotes only the elements that need it.
 */

/** Elements written bare: no quote, backslash, comma, brace, whitespace or other delimiter, and not empty. */
const BARE = /^[A-Za-z0-9_:.+\-@/]+$/;
/** A bare element spelled NULL would read back as a null, so it is quoted. */
const NULL_WORD = /^null$/i;

function element(value: string | number | bigint | null | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`array element ${value} is not a finite number`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (BARE.test(value) && !NULL_WORD.test(value)) return value;
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** A one-dimensional array literal of these values, for a parameter cast to an array type (`$1::text[]`). */
export function pgArrayLiteral(values: readonly (string | number | bigint | null | undefined)[]): string {
  // One native join of the elements: appending them one by one builds a rope the engine must flatten again.
  const elements = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) elements[i] = element(values[i]);
  return `{${elements.join(',')}}`;
}
