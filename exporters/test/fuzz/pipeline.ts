/**
 * Everything a miner's reply bytes go through in the exporter, for the fuzz test and bench/miner-fuzz.ts: parse →
 * envelope → detection → every dialect → bounds → sample → points → line protocol → health. `judgeReplies` runs it on
 * one set of replies and returns what went wrong (nothing, for a sound exporter), so one hostile input is one call.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  encodePoints,
  faultPoint,
  samplePoints,
  upPoint,
  type MinerSpec,
  type SchemaPoint,
} from '@flymining/shared';
import { evaluateMinerHealth } from '../../src/miner/health';
import { DIALECTS, MinerReplyError, detectDialect, parseMinerReply, type Replies } from '../../src/miner';
import { readCommandReply, sampleFromOutcomes, type CommandOutcome } from '../../src/miner/scrape';
import { catalogSpec } from '../miner/fixtures';

/** The project's copy of the miner API corpus. */
export const CORPUS_DIR = join(__dirname, '..', 'fixtures', 'miner-api');

/** Commands the dialects read; a corpus file `<capture>-<command>.json` is that command's reply. */
const DIALECT_COMMANDS: ReadonlySet<string> = new Set(DIALECTS.flatMap((d) => d.commands));

export interface CorpusReply {
  file: string;
  /** The command this capture answers, or 'stats' for files that answer none of the dialects' commands. */
  command: string;
  bytes: Buffer;
}

/** A capture: the replies of one miner, keyed by command (one file per command). */
export interface CorpusCapture {
  name: string;
  replies: CorpusReply[];
}

/** Every corpus file, grouped into captures by the name before `-<command>.json`. */
export function loadCorpus(dir = CORPUS_DIR): CorpusCapture[] {
  const captures = new Map<string, CorpusReply[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const match = /^(.*)-([a-z_]+)\.json$/.exec(file);
    const known = match?.[2] !== undefined && DIALECT_COMMANDS.has(match[2]);
    const name = known && match?.[1] ? match[1] : file;
    const list = captures.get(name) ?? [];
    list.push({ file, command: known && match?.[2] ? match[2] : 'stats', bytes: readFileSync(join(dir, file)) });
    captures.set(name, list);
  }
  return [...captures].map(([name, replies]) => ({ name, replies }));
}

/** An air-cooled S19 Pro of the catalog: every health rule applies to it. */
export function fuzzSpec(): MinerSpec {
  return catalogSpec('Antminer S19 Pro', 'FUZZ-1');
}

/** What one input did: problems found (empty when sound), the line protocol produced, and how long it took. */
export interface Judgement {
  problems: string[];
  lines: string[];
  /** Slowest synchronous stretch (one reply's parse, or one dialect's sample-to-health run), ms. */
  longestBlockMs: number;
  samples: number;
  replyErrors: number;
  droppedValues: number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** What Go's strconv.ParseFloat (InfluxDB) takes, as our formatter writes it. */
const FLOAT_TEXT = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:e[-+]?\d+)?$/;

/**
 * Why a line is not valid InfluxDB 1.x line protocol as the schema writes it, or undefined. Checks structure (no raw
 * line break or control character, an unescaped space between the three parts), integers within int64, finite
 * floats, quoted strings and a whole-number timestamp.
 */
export function lineProblem(line: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(line)) return 'raw control character';
  const parts: string[] = [];
  let start = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '"') inString = !inString;
    else if (ch === ' ' && !inString) {
      parts.push(line.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(line.slice(start));
  if (inString) return 'unterminated string field';
  if (parts.length !== 3) return `${parts.length} space-separated parts, expected 3`;
  const [series = '', fields = '', time = ''] = parts;
  if (!/^-?\d+$/.test(time)) return `timestamp ${time.slice(0, 30)}`;
  if (series === '' || series.startsWith(',')) return 'no measurement';
  if (Buffer.byteLength(series) > 65535) return 'series key over 64 KiB';
  for (const field of splitUnescaped(fields, ',')) {
    const eq = indexUnescaped(field, '=');
    if (eq <= 0) return `field without key: ${field.slice(0, 40)}`;
    const value = field.slice(eq + 1);
    if (value.startsWith('"')) {
      if (!value.endsWith('"') || value.length < 2) return `bad string field ${value.slice(0, 40)}`;
    } else if (value.endsWith('i')) {
      if (!/^-?\d+i$/.test(value)) return `bad integer ${value.slice(0, 40)}`;
      const n = BigInt(value.slice(0, -1));
      if (n < INT64_MIN || n > INT64_MAX) return `integer outside int64: ${value}`;
    } else if (value !== 'true' && value !== 'false') {
      if (!FLOAT_TEXT.test(value) || !Number.isFinite(Number(value))) return `bad float ${value.slice(0, 40)}`;
    }
  }
  return undefined;
}

function indexUnescaped(text: string, ch: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ch) return i;
  }
  return -1;
}

/** Splits field sets at commas outside escapes and string values. */
function splitUnescaped(text: string, separator: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') i++;
    else if (ch === '"') inString = !inString;
    else if (ch === separator && !inString) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Paths of numbers in `value` that are NaN or ±Infinity. */
export function nonFiniteNumbers(value: unknown, path = 'sample', found: string[] = []): string[] {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) found.push(`${path}=${value}`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => nonFiniteNumbers(item, `${path}[${i}]`, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) nonFiniteNumbers(item, `${path}.${key}`, found);
  }
  return found;
}

const PROTOTYPES: ReadonlyArray<[string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['String.prototype', String.prototype],
  ['Function.prototype', Function.prototype],
];
const PROTOTYPE_KEYS = new Map(PROTOTYPES.map(([name, proto]) => [name, Reflect.ownKeys(proto).length]));

/** Prototypes that gained properties since this module loaded (a reply key like `__proto__` reaching one). */
export function pollutedPrototypes(): string[] {
  const polluted = PROTOTYPES.filter(([name, proto]) => Reflect.ownKeys(proto).length !== PROTOTYPE_KEYS.get(name)).map(([name]) => name);
  for (const key in {}) polluted.push(`enumerable ${key} on every object`);
  return polluted;
}

/** Runs `step`, recording an escaped exception as a problem and the time it took. */
function timed<T>(judgement: Judgement, what: string, step: () => T): T | undefined {
  const t0 = performance.now();
  try {
    return step();
  } catch (err) {
    judgement.problems.push(`${what} threw ${err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : String(err)}`);
    return undefined;
  } finally {
    judgement.longestBlockMs = Math.max(judgement.longestBlockMs, performance.now() - t0);
  }
}

/**
 * One set of replies (command → bytes) through the whole exporter pipeline, under every dialect (a hostile miner
 * chooses which dialect its replies look like). A sound exporter reports no problems: only MinerReplyError leaves
 * the parser, nothing else throws anywhere, no prototype changes, samples hold only finite numbers, and every line
 * is valid line protocol.
 */
export function judgeReplies(raw: ReadonlyArray<{ command: string; bytes: Buffer | string }>, spec: MinerSpec, time = 1_700_000_000_000): Judgement {
  const judgement: Judgement = { problems: [], lines: [], longestBlockMs: 0, samples: 0, replyErrors: 0, droppedValues: 0 };
  const outcomes = new Map<string, CommandOutcome>();
  for (const { command, bytes } of raw) {
    // The parser alone: its own error type is the only exception allowed out of it.
    timed(judgement, `parse of ${command}`, () => {
      try {
        parseMinerReply(bytes, command);
      } catch (err) {
        if (!(err instanceof MinerReplyError)) throw err;
      }
    });
    const outcome = timed(judgement, `readCommandReply(${command})`, () => readCommandReply(bytes, spec.host, command));
    if (outcome) outcomes.set(command, outcome);
  }
  const probe: Replies = {};
  for (const [command, outcome] of outcomes) if (outcome.ok) probe[command] = outcome.reply;
  timed(judgement, 'detectDialect', () => detectDialect(probe));

  for (const dialect of DIALECTS) {
    const ordered = dialect.commands.flatMap((c) => {
      const outcome = outcomes.get(c);
      return outcome ? [[c, outcome] as const] : [];
    });
    timed(judgement, `${dialect.family}`, () => {
      const verdict = sampleFromOutcomes(dialect, ordered, time, spec.host, {
        onDroppedValues: (e) => (judgement.droppedValues += e.dropped.count),
      });
      const points: SchemaPoint[] = [];
      if (verdict.ok) {
        judgement.samples++;
        for (const bad of nonFiniteNumbers(verdict.sample)) judgement.problems.push(`${dialect.family}: ${bad}`);
        points.push(...samplePoints(verdict.sample, spec, 1));
        const health = evaluateMinerHealth(verdict.sample, spec, undefined, time);
        points.push(...health.faults.map((f) => faultPoint(f, true, time)));
      } else {
        judgement.replyErrors++;
        points.push(upPoint(spec, time, 1, false, verdict.failure.kind));
        evaluateMinerHealth(verdict.failure, spec, undefined, time);
      }
      for (const line of encodePoints(points)) {
        const problem = lineProblem(line);
        if (problem) judgement.problems.push(`${dialect.family}: invalid line (${problem}): ${line.slice(0, 120)}`);
        judgement.lines.push(line);
      }
    });
  }
  for (const polluted of pollutedPrototypes()) judgement.problems.push(`prototype polluted: ${polluted}`);
  return judgement;
}
