import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import type { JsonObject, JsonValue } from '../sample';
import { formatIssues } from './issues';

/** A JSON object (not null, not an array). */
export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A JSON file given on a command line, read and checked against `schema`; errors start with the option and the file
 * ("--specs farm.json: 0.port: expected number"), so the user knows what to fix.
 */
export async function readJsonFile<T extends z.ZodTypeAny>(file: string, option: string, schema: T): Promise<z.output<T>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    // Duck-typed: fs errors come from Node's own realm, where `instanceof Error` of a test's realm is false.
    const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
    throw new Error(`${option} ${file}: ${message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`${option} ${file}: ${formatIssues(parsed.error, { limit: 3, whole: '(file)' }).join('; ')}`);
  return parsed.data as z.output<T>;
}
