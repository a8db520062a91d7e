/**
 * InfluxDB line protocol formatting. Every string that reaches a line goes through the escapers below, so a value
 * from a miner, a pool URL or a user can never add a tag, a field or a line.
 *
 * Rules, measured on InfluxDB 1.6.7 (see docs/influx-storage.md for the stored result of each character class):
 * - C0 control characters (including NUL, TAB, CR, LF) and DEL become U+FFFD everywhere: a newline would end the
 *   line, and the spool frames lines by '\n'.
 * - Measurement, tag keys, tag values, field keys: ',' ' ' '=' are backslash-escaped. A backslash is kept as is,
 *   except where InfluxDB 1.x would read it as an escape, where no spelling survives: directly before ',' ' ' '='
 *   or at the very end, and in measurements and field keys also before '"'. There it becomes U+29F5 '⧵'.
 * - String field values: '"' and '\' are backslash-escaped (exact round trip).
 * - Integer fields outside int64 are left out (1.x refuses the whole line: `1e+21i`, `9223372036854775808i`).
 * - Tag values are cut to MAX_TAG_VALUE_LENGTH: 1.x refuses a line whose series key exceeds 65,535 bytes.
 */

/** A field value; undefined, null, NaN, ±Infinity and integers outside int64 are skipped (no valid reading). */
export type FieldValue = number | bigint | boolean | string | null | undefined;

export type TagSet = Readonly<Record<string, string | null | undefined>>;
export type FieldSet = Readonly<Record<string, FieldValue>>;

export interface FormatLineOptions {
  /** Fields written as InfluxDB integers (`123i`); numbers are rounded. All other numbers are floats. */
  integerFields?: ReadonlySet<string>;
}

/** Replacement for control characters, and for a backslash that InfluxDB 1.x cannot store literally. */
export const CONTROL_REPLACEMENT = '\uFFFD';
export const BACKSLASH_REPLACEMENT = '\u29F5';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x1f\x7f]/g;
// eslint-disable-next-line no-control-regex
const NEEDS_NAME_ESCAPE = /[\x00-\x1f\x7f, =\\]/;
// eslint-disable-next-line no-control-regex
const NEEDS_STRING_ESCAPE = /[\x00-\x1f\x7f"\\]/;
/** A backslash that 1.x would take as an escape: before a delimiter or at the end of the token. */
const UNSTORABLE_BACKSLASH_IN_TAG = /\\(?=[, =]|$)/g;
/** Measurements and field keys also unescape \" on 1.x. */
const UNSTORABLE_BACKSLASH_IN_NAME = /\\(?=[, ="]|$)/g;

export type NameKind = 'measurement' | 'tag key' | 'tag value' | 'field key';

function unstorableBackslash(kind: NameKind): RegExp {
  return kind === 'measurement' || kind === 'field key' ? UNSTORABLE_BACKSLASH_IN_NAME : UNSTORABLE_BACKSLASH_IN_TAG;
}
/** Longest tag value written (UTF-16 units); with escaping and UTF-8 a series key stays far below 64 KiB. */
export const MAX_TAG_VALUE_LENGTH = 512;
/** int64 bounds of InfluxDB integer fields, as doubles (2^63 is exact; the largest double below it is 2^63 - 1024). */
const INT64_LIMIT = 2 ** 63;

/** A tag value cut to MAX_TAG_VALUE_LENGTH, never between the halves of a surrogate pair. */
export function boundedTagValue(value: string): string {
  if (value.length <= MAX_TAG_VALUE_LENGTH) return value;
  const cut = value.charCodeAt(MAX_TAG_VALUE_LENGTH - 1);
  return value.slice(0, cut >= 0xd800 && cut <= 0xdbff ? MAX_TAG_VALUE_LENGTH - 1 : MAX_TAG_VALUE_LENGTH);
}

const NAME_DELIMITERS = /[, =]/g;
const STRING_SPECIALS = /["\\]/g;

function escapeName(raw: string, kind: NameKind): string {
  if (!NEEDS_NAME_ESCAPE.test(raw)) return raw;
  return storedName(raw, kind).replace(NAME_DELIMITERS, '\\$&');
}

/** Escapes a measurement name (',' and ' '; '=' too, harmless and keeps one rule for all names). */
export function escapeMeasurement(name: string): string {
  return escapeName(name, 'measurement');
}

export function escapeTagKey(key: string): string {
  return escapeName(key, 'tag key');
}

export function escapeTagValue(value: string): string {
  return escapeName(value, 'tag value');
}

export function escapeFieldKey(key: string): string {
  return escapeName(key, 'field key');
}

/** Escapes a string field value and wraps it in double quotes. */
export function formatStringField(value: string): string {
  if (!NEEDS_STRING_ESCAPE.test(value)) return `"${value}"`;
  return `"${value.replace(CONTROL_CHARS, CONTROL_REPLACEMENT).replace(STRING_SPECIALS, '\\$&')}"`;
}

/** What InfluxDB stores for a name or tag value after escaping (what a query must ask for). */
export function storedName(raw: string, kind: NameKind = 'tag value'): string {
  return raw.replace(CONTROL_CHARS, CONTROL_REPLACEMENT).replace(unstorableBackslash(kind), BACKSLASH_REPLACEMENT);
}

/** What InfluxDB will store for a string field value after escaping. */
export function storedString(raw: string): string {
  return raw.replace(CONTROL_CHARS, CONTROL_REPLACEMENT);
}

// Measurement and key names repeat on every line: escape each once (one cache per kind, rules differ).
const nameCaches: Record<Exclude<NameKind, 'tag value'>, Map<string, string>> = {
  measurement: new Map(),
  'tag key': new Map(),
  'field key': new Map(),
};
const NAME_CACHE_LIMIT = 10_000;

function cachedName(raw: string, kind: Exclude<NameKind, 'tag value'>): string {
  const cache = nameCaches[kind];
  let escaped = cache.get(raw);
  if (escaped === undefined) {
    if (raw.length === 0) throw new Error(`line protocol: empty ${kind}`);
    if (kind !== 'measurement' && raw === 'time') {
      throw new Error(`line protocol: "time" cannot be a ${kind} (InfluxDB drops such points)`);
    }
    escaped = escapeName(raw, kind);
    if (cache.size < NAME_CACHE_LIMIT) cache.set(raw, escaped);
  }
  return escaped;
}

function formatFieldValue(key: string, value: FieldValue, integerFields: ReadonlySet<string> | undefined): string | undefined {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) return undefined;
      if (integerFields !== undefined && integerFields.has(key)) {
        const rounded = Math.round(value);
        return rounded >= -INT64_LIMIT && rounded < INT64_LIMIT ? `${rounded}i` : undefined;
      }
      return String(value);
    case 'bigint':
      return value >= -(2n ** 63n) && value < 2n ** 63n ? `${value}i` : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return formatStringField(value);
    default:
      return undefined;
  }
}

/**
 * Formats one point. Returns undefined when no field has a value (InfluxDB rejects a line without fields).
 * Empty or missing tag values are omitted (InfluxDB rejects empty tag values). Tags are written sorted by key,
 * which InfluxDB recommends. Throws on an empty measurement/key, a key named "time" or a non-finite time.
 */
export function formatLine(
  measurement: string,
  tags: TagSet,
  fields: FieldSet,
  timeMs: number,
  options?: FormatLineOptions,
): string | undefined {
  if (!Number.isFinite(timeMs)) throw new Error(`line protocol: time of "${measurement}" is not a finite number`);
  const integerFields = options?.integerFields;
  let fieldPart = '';
  for (const key in fields) {
    const formatted = formatFieldValue(key, fields[key], integerFields);
    if (formatted === undefined) continue;
    fieldPart += (fieldPart.length === 0 ? '' : ',') + cachedName(key, 'field key') + '=' + formatted;
  }
  if (fieldPart.length === 0) return undefined;

  let line = cachedName(measurement, 'measurement');
  for (const key of sortedTagKeys(measurement, tags)) {
    const value = tags[key];
    if (value === undefined || value === null || value.length === 0) continue;
    line += ',' + cachedName(key, 'tag key') + '=' + escapeName(boundedTagValue(value), 'tag value');
  }
  return `${line} ${fieldPart} ${Math.trunc(timeMs)}`;
}

/**
 * The last unsorted key list seen per measurement and its sorted order: the points of one kind are built with their
 * tag keys in one order (e.g. the location first), so sorting them again for every line is spared.
 */
const sortedOrders = new Map<string, { keys: string[]; sorted: string[] }>();

function sortedTagKeys(measurement: string, tags: TagSet): readonly string[] {
  const keys = Object.keys(tags);
  if (isSorted(keys)) return keys;
  const known = sortedOrders.get(measurement);
  if (known !== undefined && sameKeys(known.keys, keys)) return known.sorted;
  const sorted = [...keys].sort();
  if (known !== undefined || sortedOrders.size < NAME_CACHE_LIMIT) sortedOrders.set(measurement, { keys, sorted });
  return sorted;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  }
  return true;
}
