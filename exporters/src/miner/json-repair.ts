import type { JsonObject, JsonValue } from '@flymining/shared';

/**
 * Tolerant reader for miner API replies (QUIRKS §1, §3).
 *
 * Firmware sends JSON with known defects (missing commas, trailing commas, bare nan, bad escapes, cut-off
 * replies ...). Instead of regex rewrites over the whole text (which would also rewrite pool URLs or other
 * string content), this is a single-pass, iterative parser that knows where string literals are and repairs
 * defects only between tokens. Every repair is reported, so callers can log what the firmware got wrong.
 * Time is linear in the input and nesting is bounded, so hostile input fails fast.
 *
 * Quoted "nan"/"inf" are left as strings: a valid document must read exactly as JSON.parse reads it, and only
 * the reader of a numeric field knows a number belongs there (dialects/values.ts `num` gives no value for them).
 */

export type MinerReplyErrorKind = 'malformed' | 'not-json' | 'empty';

export class MinerReplyError extends Error {
  constructor(
    readonly kind: MinerReplyErrorKind,
    readonly source: string,
    detail: string,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'MinerReplyError';
  }
}

export interface ParsedReply {
  value: JsonObject;
  /** Human-readable list of repairs applied, empty for valid JSON. */
  repairs: string[];
  /** The reply was cut off (unterminated, or flagged with "id":0 by cgminer). */
  truncated: boolean;
}

/** The repair old bmminer's stats need (QUIRKS §3); the native parser makes it when it is the only one. */
const MISSING_COMMA_BETWEEN_OBJECTS = 'missing comma between }{ inserted';

/** Real replies nest 4 levels at most; the limit keeps a stream of `[` from exhausting memory or the stack. */
const MAX_DEPTH = 64;
/**
 * Most values (containers, members, items) one reply may hold. The corpus has 2,605 at most (Whatsminer M3 stats);
 * 1 MiB of `{},` is 350,000 objects (some 30 MB of heap held while the scrape awaits its other commands).
 */
export const MAX_VALUES = 65_536;
/**
 * Distinct repairs listed per reply; further kinds are counted in one last entry. A Set, not a list scan: a reply
 * of 20,000 distinct bad escapes took seconds with `repairs.includes`.
 */
export const MAX_LISTED_REPAIRS = 16;
const EXCERPT_LENGTH = 60;

/** Escapes control and non-ASCII characters so an excerpt of binary garbage is printable in a log line. */
export function escapeExcerpt(text: string, from = 0, length = EXCERPT_LENGTH): string {
  const slice = text.slice(from, from + length);
  let out = '';
  for (const ch of slice) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\\') out += '\\\\';
    else if (code < 0x20 || code === 0x7f || code === 0xfffd) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code > 0x7e) out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return text.length > from + length ? `"${out}…"` : `"${out}"`;
}

type Container =
  | { type: 'object'; value: Record<string, JsonValue>; key: string | undefined; count: number }
  | { type: 'array'; value: JsonValue[]; count: number; pairKey: string | undefined; pairs: Array<[string, JsonValue]> | undefined };

/** Where the parser stands inside the innermost container. */
type Expect = 'value-or-close' | 'value' | 'key-or-close' | 'key' | 'colon' | 'comma-or-close';

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function setMember(target: Record<string, JsonValue>, key: string, value: JsonValue): void {
  // Plain assignment of "__proto__" would change the prototype instead of adding a key (JSON.parse adds a key).
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const NON_NUMBERS: Record<string, true> = { nan: true, '-nan': true, inf: true, '-inf': true, '+inf': true, infinity: true, '-infinity': true };

function isNonNumberWord(word: string): boolean {
  return NON_NUMBERS[word.toLowerCase()] === true;
}

function classifyNonJson(text: string, start: number, source: string): MinerReplyError {
  const excerpt = escapeExcerpt(text, start);
  if (/^STATUS=[A-Z]/.test(text.slice(start, start + 10))) {
    return new MinerReplyError('not-json', source, `cgminer text-format reply, not JSON (was the request sent as JSON?): ${excerpt}`);
  }
  return new MinerReplyError('not-json', source, `reply is not JSON: ${excerpt}`);
}

/**
 * Parses one miner reply. Throws MinerReplyError for empty, non-JSON, encrypted or unrepairable input.
 * `source` names where the bytes came from (e.g. "10.0.0.5:4028 stats"); it prefixes every error message.
 */
/** The repairs of one reply: each kind once, the first MAX_LISTED_REPAIRS kinds by name, the rest counted. */
class RepairLog {
  private readonly listed = new Set<string>();
  private unlisted = 0;

  note(what: string): void {
    if (this.listed.has(what)) return;
    if (this.listed.size < MAX_LISTED_REPAIRS) this.listed.add(what);
    else this.unlisted++;
  }

  list(): string[] {
    const repairs = [...this.listed];
    if (this.unlisted > 0) repairs.push(`${this.unlisted} more repair(s) of kinds not listed`);
    return repairs;
  }
}

export function parseMinerReply(raw: Buffer | string, source: string): ParsedReply {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');

  // cgminer terminates with NUL (QUIRKS §1.2); strip NULs and whitespace at the end, whitespace at the start.
  let end = text.length;
  while (end > 0) {
    const code = text.charCodeAt(end - 1);
    if (code === 0 || isWhitespace(code)) end--;
    else break;
  }
  let pos = 0;
  while (pos < end && (isWhitespace(text.charCodeAt(pos)) || text.charCodeAt(pos) === 0xfeff)) pos++;
  if (pos >= end) throw new MinerReplyError('empty', source, 'empty reply');

  const first = text[pos];
  if (first === '{') {
    // Fast path: most replies are valid JSON, and the native parser is far cheaper in CPU and garbage than the
    // repairing one. On valid input both give the same value (tested), so only broken replies take the slow road.
    // A `}{` outside strings is never valid JSON: text holding one (old bmminer's stats, every sweep) is read with
    // its commas at once instead of after a failed parse of the whole text.
    const body = pos === 0 && end === text.length ? text : text.slice(pos, end);
    const joined = body.includes('}{') ? withCommasBetweenObjects(body) : undefined;
    if (joined !== undefined) return checkedReply(joined, text, source, [MISSING_COMMA_BETWEEN_OBJECTS], false);
    let parsed: JsonValue | undefined;
    try {
      parsed = JSON.parse(body) as JsonValue;
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) return checkedReply(parsed, text, source, [], false);
  }
  const repairs = new RepairLog();
  const noteRepair = (what: string): void => repairs.note(what);
  const stack: Container[] = [];
  // Declared wide: emit/open/close change it inside closures, which control-flow narrowing does not see.
  let expect = 'value' as Expect;
  let root: JsonValue | undefined;
  let truncated = false;

  if (first === ',') {
    // Avalon garbage like `,"id":1}`: pyasic turns the leading comma into `{` (QUIRKS §3).
    noteRepair('leading comma replaced by {');
    stack.push({ type: 'object', value: {}, key: undefined, count: 0 });
    expect = 'key-or-close';
    pos++;
  } else if (first !== '{' && first !== '[') {
    throw classifyNonJson(text, pos, source);
  }

  const fail = (at: number, what: string): MinerReplyError =>
    new MinerReplyError('malformed', source, `${what} at offset ${at}: ${escapeExcerpt(text, Math.max(0, at - 20), 50)}`);

  let valueCount = 0;
  /** Attaches a finished value to the innermost container (or makes it the root). */
  const emit = (value: JsonValue): void => {
    if (++valueCount > MAX_VALUES) throw fail(pos, `more than ${MAX_VALUES} values`);
    const top = stack[stack.length - 1];
    if (!top) {
      root = value;
      return;
    }
    if (top.type === 'object') {
      setMember(top.value, top.key ?? '', value);
      top.key = undefined;
    } else if (top.pairKey !== undefined) {
      (top.pairs ??= []).push([top.pairKey, value]);
      top.pairKey = undefined;
    } else {
      top.value.push(value);
    }
    top.count++;
    expect = 'comma-or-close';
  };

  const open = (container: Container): void => {
    if (stack.length >= MAX_DEPTH) throw fail(pos, `nesting deeper than ${MAX_DEPTH}`);
    stack.push(container);
    expect = container.type === 'object' ? 'key-or-close' : 'value-or-close';
  };

  const close = (): void => {
    const done = stack.pop();
    if (!done) return;
    if (done.type === 'object') emit(done.value);
    else if (done.pairs !== undefined) {
      // A list written like a dict (`"error_code":["110":"..."]`, Whatsminer API 2.0.4): keep it as an object.
      const asObject: Record<string, JsonValue> = {};
      for (const [k, v] of done.pairs) setMember(asObject, k, v);
      emit(asObject);
    } else emit(done.value);
  };

  /** Reads a string literal starting at the opening quote; returns the decoded text, or undefined at EOF. */
  const readString = (): string | undefined => {
    let out = '';
    let i = pos + 1;
    let chunkStart = i;
    while (i < end) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        out += text.slice(chunkStart, i);
        pos = i + 1;
        return out;
      }
      if (code === 0x5c) {
        out += text.slice(chunkStart, i);
        const esc = text[i + 1];
        if (esc === undefined) break;
        switch (esc) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const hex = text.slice(i + 2, i + 6);
            if (hex.length < 4) {
              i = end;
              continue;
            }
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw fail(i, 'bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            // `\'` (Whatsminer M20S fw 20200917) and other invalid escapes: keep the character, drop the backslash.
            noteRepair(`invalid escape \\${esc} in string`);
            out += esc;
        }
        i += 2;
        chunkStart = i;
        continue;
      }
      if (code === 0x0a || code === 0x0d) {
        // Raw newlines are not allowed inside JSON strings; btminer sends them (QUIRKS §3).
        out += text.slice(chunkStart, i);
        noteRepair('raw newline removed from string');
        i++;
        chunkStart = i;
        continue;
      }
      // Other raw control characters are kept (line protocol replaces them) but are a defect all the same.
      if (code < 0x20) noteRepair('raw control character in string');
      i++;
    }
    return undefined;
  };

  /** Reads a bare word (number, true/false/null, nan/inf). Returns undefined when the word runs into EOF. */
  const readBareWord = (): JsonValue | undefined => {
    let i = pos;
    while (i < end) {
      const c = text[i] as string;
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '-' || c === '+' || c === '.') i++;
      else break;
    }
    const word = text.slice(pos, i);
    if (word === '') throw fail(pos, 'unexpected character');
    if (i >= end && stack.length > 0) return undefined;
    pos = i;
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (isNonNumberWord(word)) {
      // An exporter must emit no value rather than a false 0 (QUIRKS §3: bare nan/inf on Avalon).
      noteRepair(`bare ${word} replaced by null`);
      return null;
    }
    if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(word)) return Number(word);
    const lenient = Number(word);
    if (word.length <= 40 && /^[-+]?[0-9.]+([eE][+-]?[0-9]+)?$/.test(word) && Number.isFinite(lenient)) {
      noteRepair(`non-standard number ${word}`);
      return lenient;
    }
    throw fail(pos - word.length, `unexpected word ${JSON.stringify(word.slice(0, 20))}`);
  };

  scan: while (pos < end) {
    const code = text.charCodeAt(pos);
    if (isWhitespace(code)) {
      pos++;
      continue;
    }
    if (stack.length === 0 && root !== undefined) {
      // A complete value has been read; the rest is garbage (S9k fixture `}"}`, the nan fixture's stray quote).
      noteRepair(`ignored ${end - pos} trailing byte(s) after the JSON value`);
      break;
    }
    const ch = text[pos] as string;
    const top = stack[stack.length - 1];

    if (expect === 'comma-or-close') {
      if (ch === ',') {
        pos++;
        expect = top?.type === 'object' ? 'key' : 'value';
        continue;
      }
      if ((ch === '}' && top?.type === 'object') || (ch === ']' && top?.type === 'array')) {
        pos++;
        close();
        continue;
      }
      if (ch === '"' || ch === '{' || ch === '[') {
        // `}{` between STATS entries (old bmminer) and `""temp0` (btminer 2023-01-06): insert the missing comma.
        noteRepair(ch === '{' ? MISSING_COMMA_BETWEEN_OBJECTS : 'missing comma inserted');
        expect = top?.type === 'object' ? 'key' : 'value';
        continue;
      }
      if (ch === ':' && top?.type === 'array' && top.pairKey === undefined && top.value.length > 0) {
        const last = top.value[top.value.length - 1];
        if (typeof last === 'string') {
          // `["key":value, ...]`: a dict written with list brackets. Convert what we have so far into pairs.
          noteRepair('list written as an object converted');
          top.value.pop();
          top.count--;
          if (top.pairs === undefined) {
            if (top.value.length > 0) throw fail(pos, 'list mixes plain values and key:value pairs');
            top.pairs = [];
          }
          top.pairKey = last;
          pos++;
          expect = 'value';
          continue;
        }
      }
      throw fail(pos, `expected , or closing bracket`);
    }

    if (expect === 'colon') {
      if (ch === ':') {
        pos++;
        expect = 'value';
        continue;
      }
      throw fail(pos, 'expected :');
    }

    if (expect === 'key-or-close' || expect === 'key') {
      if (ch === '}') {
        if (expect === 'key') noteRepair('trailing comma before } removed');
        pos++;
        close();
        continue;
      }
      if (ch === ',') {
        noteRepair('stray comma in object removed');
        pos++;
        continue;
      }
      if (ch === '"') {
        const key = readString();
        if (key === undefined) break scan;
        if (top?.type === 'object') top.key = key;
        expect = 'colon';
        continue;
      }
      throw fail(pos, 'expected a quoted key');
    }

    // expect is 'value' or 'value-or-close'
    if (ch === ']' && top?.type === 'array') {
      if (expect === 'value' && top.count > 0) noteRepair('trailing comma before ] removed');
      pos++;
      close();
      continue;
    }
    if (ch === ',' && top?.type === 'object') {
      // `"bitmain-fan-ctrl" : ,` (Antminer CGI templates print nothing for an unset value): drop the key.
      noteRepair('key without value dropped');
      top.key = undefined;
      pos++;
      expect = 'key';
      continue;
    }
    if (ch === '}' && top?.type === 'object') {
      // `{"a":}`: a key without a value. Drop the key rather than guess a value.
      noteRepair('key without value dropped');
      top.key = undefined;
      pos++;
      close();
      continue;
    }
    if (ch === ',' && top?.type === 'array') {
      // `[,{` (bmminer): a leading or doubled comma in an array.
      noteRepair('stray comma in array removed');
      pos++;
      continue;
    }
    if (ch === '{') {
      pos++;
      open({ type: 'object', value: {}, key: undefined, count: 0 });
      continue;
    }
    if (ch === '[') {
      pos++;
      open({ type: 'array', value: [], count: 0, pairKey: undefined, pairs: undefined });
      continue;
    }
    if (ch === '"') {
      const str = readString();
      if (str === undefined) break scan;
      emit(str);
      continue;
    }
    if (code < 0x20 || code === 0x7f || code === 0xfffd) throw fail(pos, 'binary data');
    const word = readBareWord();
    if (word === undefined) break scan;
    emit(word);
  }

  if (stack.length > 0) {
    // Cut off mid-reply (QUIRKS §1.5): keep every complete member, drop the partial one, close the containers.
    truncated = true;
    noteRepair('truncated reply closed');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top?.type === 'object') top.key = undefined;
      if (top?.type === 'array') top.pairKey = undefined;
      close();
    }
  }

  if (root === undefined) throw fail(pos, 'no JSON value');
  return checkedReply(root, text, source, repairs.list(), truncated);
}

/**
 * Why a value is too deep or too big to keep (see MAX_DEPTH, MAX_VALUES), or undefined. Without recursion (a 1 MiB
 * `[[[…` is 500,000 levels deep) and with parallel stacks, so the walk allocates nothing per container.
 */
/**
 * The one defect of old bmminer's stats (`}{` between the entries of its STATS list, QUIRKS §3) repaired by the
 * native parser: every `}{` gets its comma and JSON.parse reads the text again. Accepted only when no string of the
 * result holds `},{`: a `}{` inside a string would have come out so, and then the repairing parser, which knows
 * where strings are, reads it instead. A comma between two objects parses only inside an array, which is where the
 * repairing parser inserts it too, so both read the same value (tested); anything else gives undefined.
 */
function withCommasBetweenObjects(body: string): JsonValue | undefined {
  let value: JsonValue;
  try {
    value = JSON.parse(body.replaceAll('}{', '},{')) as JsonValue;
  } catch {
    return undefined;
  }
  return holdsString(value, '},{') ? undefined : value;
}

/** Whether any string (key or value) in `root` contains `needle`; iterative, like shapeProblem. */
function holdsString(root: JsonValue, needle: string): boolean {
  const values: JsonValue[] = [root];
  while (values.length > 0) {
    const value = values.pop() as JsonValue;
    if (typeof value === 'string') {
      if (value.includes(needle)) return true;
    } else if (Array.isArray(value)) {
      for (const child of value) values.push(child);
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        if (key.includes(needle)) return true;
        values.push(value[key] as JsonValue);
      }
    }
  }
  return false;
}

function shapeProblem(root: JsonValue): string | undefined {
  let count = 1;
  const values: JsonValue[] = [root];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop() as JsonValue;
    const depth = depths.pop() as number;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DEPTH) return `nesting deeper than ${MAX_DEPTH}`;
    const children = Array.isArray(value) ? value : Object.values(value);
    count += children.length;
    if (count > MAX_VALUES) return `more than ${MAX_VALUES} values`;
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

/**
 * Whether `text` is too small to hold a value past the limits, so the walk of shapeProblem can be spared: every value
 * takes at least one character (fewer than MAX_VALUES of them in a text that short), and every level of nesting an
 * opening bracket (fewer than MAX_DEPTH of them, counting those inside strings too; one level more for the object the
 * repairing parser opens for a leading comma).
 */
function withinLimitsByText(text: string): boolean {
  if (text.length >= MAX_VALUES) return false;
  let brackets = 0;
  for (const open of ['{', '[']) {
    for (let i = text.indexOf(open); i !== -1; i = text.indexOf(open, i + 1)) {
      if (++brackets >= MAX_DEPTH) return false;
    }
  }
  return true;
}

/** The checks every parsed reply goes through, whichever parser produced it. */
function checkedReply(root: JsonValue, text: string, source: string, repairs: string[], truncated: boolean): ParsedReply {
  // JSON.parse takes any depth and size, but what reads the value later recurses (JSON.stringify of a Msg) or loops.
  const problem = withinLimitsByText(text) ? undefined : shapeProblem(root);
  if (problem !== undefined) throw new MinerReplyError('malformed', source, `${problem}: ${escapeExcerpt(text)}`);
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new MinerReplyError('malformed', source, `reply is a JSON ${Array.isArray(root) ? 'array' : typeof root}, expected an object: ${escapeExcerpt(text)}`);
  }
  const value: JsonObject = root;
  if ('enc' in value && !('STATUS' in value)) {
    // Whatsminer privileged API answers encrypted (QUIRKS §11): not telemetry we can read.
    throw new MinerReplyError('not-json', source, 'encrypted Whatsminer reply ({"enc":...}); the exporter reads only the plain API');
  }
  if (value.id === 0) {
    // cgminer flags output it had to cut with "id":0 instead of 1 (QUIRKS §1.5).
    truncated = true;
    if (!repairs.includes('reply flagged truncated by the miner ("id":0)')) repairs.push('reply flagged truncated by the miner ("id":0)');
  }
  return { value, repairs, truncated };
}
