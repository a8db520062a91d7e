/**
 * A tiny JSON writer for replies. JSON.stringify cannot print numbers the way cgminer's C code does
 * ("Wait":0.000000, "GHS av":13890.36), so builders wrap such values in `fixed(...)`; everything else is plain JSON.
 */

export class Fixed {
  constructor(
    readonly value: number,
    readonly digits: number,
  ) {}
}

/** A number printed with exactly `digits` decimals, as printf("%.Nf") does. */
export function fixed(value: number, digits: number): Fixed {
  return new Fixed(value, digits);
}

export type WireValue = null | boolean | number | string | Fixed | WireValue[] | WireObject;
export interface WireObject {
  [key: string]: WireValue;
}

export interface WriteOptions {
  /** serde-style output (bosminer): keys in alphabetical order. */
  sortKeys?: boolean;
}

export function writeJson(value: WireValue, options: WriteOptions = {}): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? String(value) : '0';
    case 'string':
      return JSON.stringify(value);
  }
  if (value instanceof Fixed) {
    return Number.isFinite(value.value) ? value.value.toFixed(value.digits) : '0';
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => writeJson(v, options)).join(',')}]`;
  }
  const keys = Object.keys(value);
  if (options.sortKeys) keys.sort();
  const parts: string[] = [];
  for (const key of keys) {
    const v = value[key];
    if (v !== undefined) parts.push(`${JSON.stringify(key)}:${writeJson(v, options)}`);
  }
  return `{${parts.join(',')}}`;
}
