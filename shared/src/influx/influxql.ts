/**
 * Safe InfluxQL construction. Values from outside reach a query only as quoted string literals, quoted
 * identifiers, finite numbers or time literals; the InfluxQL scanner knows the escapes \\ \" \' and \n inside
 * quotes and rejects a raw newline, so these quoters cover every character.
 */

const QUOTE_SPECIALS = /[\\'"\n]/g;

function escapeQuoted(text: string): string {
  return text.replace(QUOTE_SPECIALS, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`));
}

/** "name" with \" and \\ escaped: for measurements, tag keys, fields, databases, retention policies. */
export function quoteIdentifier(name: string): string {
  return `"${escapeQuoted(name)}"`;
}

/** 'text' with \' and \\ escaped. */
export function quoteString(text: string): string {
  return `'${escapeQuoted(text)}'`;
}

/** A finite number as an InfluxQL number literal. */
export function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`influxql: ${value} is not a finite number`);
  return String(value);
}

/** RFC 3339 time literal, e.g. '2026-11-24T20:00:00.000Z'. */
export function timeLiteral(time: number | Date): string {
  const ms = typeof time === 'number' ? time : time.getTime();
  if (!Number.isFinite(ms)) throw new Error(`influxql: invalid time ${String(time)}`);
  return `'${new Date(ms).toISOString()}'`;
}

/** Duration literal in whole milliseconds, e.g. 30000ms; also usable as an epoch time: time >= 1732000000000ms. */
export function durationLiteral(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`influxql: invalid duration ${ms}`);
  return `${Math.trunc(ms)}ms`;
}

const REGEX_METACHARS = /[.*+?^${}()|[\]\\/]/g;

/** A regex literal /^…$/ matching exactly the given text (metacharacters and the '/' delimiter escaped). */
export function exactRegexLiteral(text: string): string {
  return `/^${text.replace(REGEX_METACHARS, '\\$&').replace(/\n/g, '\\n')}$/`;
}

/** A regex literal from a trusted pattern; only the '/' delimiter is escaped. */
export function regexLiteral(pattern: string): string {
  return `/${pattern.replace(/(?<!\\)\//g, '\\/')}/`;
}

/** A fragment that the influxql template inserts verbatim. Only for text the code itself wrote. */
export class InfluxQLFragment {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Marks a value as an identifier: interpolated as "quoted identifier". */
export function ident(name: string): InfluxQLFragment {
  return new InfluxQLFragment(quoteIdentifier(name));
}

/** Marks trusted text (a clause the code built) to be inserted as is. */
export function raw(text: string): InfluxQLFragment {
  return new InfluxQLFragment(text);
}

/** Marks a duration in ms: interpolated as `123ms`. */
export function duration(ms: number): InfluxQLFragment {
  return new InfluxQLFragment(durationLiteral(ms));
}

export type InfluxQLValue = string | number | boolean | Date | InfluxQLFragment | readonly InfluxQLFragment[];

function formatValue(value: InfluxQLValue): string {
  if (value instanceof InfluxQLFragment) return value.text;
  if (value instanceof Date) return timeLiteral(value);
  if (Array.isArray(value)) return value.map((v: InfluxQLFragment) => v.text).join(', ');
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number':
      return numberLiteral(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      throw new Error(`influxql: cannot interpolate a ${typeof value}`);
  }
}

/**
 * Tagged template: strings become string literals, numbers number literals, Dates time literals, ident()/raw()/
 * duration() fragments are inserted as built. `influxql\`SELECT * FROM "miner" WHERE "id" = ${id}\``
 */
export function influxql(strings: TemplateStringsArray, ...values: InfluxQLValue[]): string {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    out += formatValue(values[i] as InfluxQLValue) + (strings[i + 1] ?? '');
  }
  return out;
}
