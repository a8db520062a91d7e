/**
 * A seeded mutation fuzzer for miner replies: each input is a corpus reply with 1-4 mutations, from byte noise to
 * the shapes the issue #10 probe found harmful (huge counts, long runs a regex chews on, deep nesting, numbers beyond
 * int64, `__proto__` keys, control characters, cut-off replies). Same seed, same inputs, so a failure names a seed
 * that reproduces it.
 */

/** Largest input: the transport refuses bigger replies (DEFAULT_TRANSPORT.maxBytes). */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** mulberry32: small, fast, good enough to pick mutations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Tokens worth splicing in: JSON structure, firmware defects, hostile numbers and keys. */
const TOKENS = [
  '{', '}', '[', ']', '"', ',', ':', '\\', '\\u', '\u0000', '\u0001', '\n', '\r', '\t', '\u007f', '\ufffd', '\ud800',
  'nan', '-inf', 'NaN', 'Infinity', '1e400', '-1e400', '1e21', '-1', '-0', '9223372036854775808', '18446744073709551616',
  '1.7976931348623157e308', '0x10', '01', '1.', '.5', '+1',
  '"__proto__":{"polluted":1},', '"constructor":{"prototype":{"polluted":1}},', '"prototype":{"x":1},',
  '"STATUS":"E",', '"Msg":', '"id":0,', '"Hash Board: 99999999"', 'SYSTEMSTATU[Work: In Work, Hash Board: 99999999]',
  '"MM ID0":"', 'MGHS[', 'PVT_T0[', ']', 'Fan1[', '"chain_acn1":', '"fan_num":', '"Type":"', '(vnish ', ' hiveon',
  '"DEVS":[', '"POOLS":[', '"STATS":[', '"SUMMARY":[', '"Slot":', '"ID":', '"POOL":', '"Elapsed":', '"GHS 5s":',
];

/** Runs that grow an input to test linear time: one character class repeated. */
const RUNS = ['1', ' ', "'", '[', ']', '{', '"', '-', 'a', '1-', '1 ', '\\x', '\\q', '"x":1,', '{},', '[],', 'a[1]', '0.'];

/** Numbers outside physical ranges, beyond int64 or beyond double, and counts no miner has. */
const HOSTILE_NUMBERS = ['-1', '-5000', '1e21', '9223372036854775808', '1e400', '-1e400', '1e308', '99999999', '4294967296', '0.000001', '-0', '2.5'];

/** A run of `unit` about `size` characters long. */
function run(unit: string, size: number): string {
  return unit.repeat(Math.max(1, Math.floor(size / unit.length)));
}

/** Text that a reader of a module field (`Key[...]`) must handle in bounded time: no `]` inside. */
function hostileFieldText(random: () => number): string {
  const size = growSize(random);
  return pick(
    [
      () => pick(HOSTILE_NUMBERS, random),
      () => `Work: In Work, Hash Board: ${pick(HOSTILE_NUMBERS, random)}`,
      () => run('1 ', size),
      () => run('7', size) + 'x',
      () => run('a', size),
      () => run('[', size),
      () => run(' ', size) + '%',
    ],
    random,
  )();
}

/** A JSON value a dialect reads as a number, text or list, shaped against linear-time and allocation bounds. */
function hostileValue(random: () => number): string {
  const size = growSize(random);
  return pick(
    [
      () => pick(HOSTILE_NUMBERS, random),
      () => `"${pick(HOSTILE_NUMBERS, random)}"`,
      () => `"${run('1', size)}x"`,
      () => `"${run(' ', size)}x"`,
      () => `"${run("'", size)}x"`,
      () => `"${run('1-', size)}"`,
      () => `"${run('1 ', size)}"`,
      () => `"${run('(vnish ', size)}"`,
      () => `"${run('a', size)}"`,
      () => `"${run('\\q', size)}"`,
      () => `"braiins-am1-s${run('9', size)}!"`,
      () => `[${run('{},', size)}{}]`,
      () => `[${run('1,', size)}1]`,
      () => `${run('[', size / 2)}1${run(']', size / 2)}`,
      () => `{"STATUS":"E","Msg":${run('[', size / 2)}1${run(']', size / 2)}}`,
    ],
    random,
  )();
}

type Mutation = (input: string, random: () => number) => string;

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function at(input: string, random: () => number): number {
  return Math.floor(random() * (input.length + 1));
}

/** Sizes for grown inputs: mostly small, sometimes 64 KiB or up to the 1 MiB cap. */
function growSize(random: () => number): number {
  const r = random();
  if (r < 0.7) return 16 + Math.floor(random() * 4096);
  if (r < 0.93) return 64 * 1024;
  return MAX_INPUT_BYTES - 4096;
}

const MUTATIONS: ReadonlyArray<[string, Mutation]> = [
  ['flip a character', (s, r) => {
    const i = Math.floor(r() * s.length);
    return s.slice(0, i) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(i + 1);
  }],
  ['delete a range', (s, r) => {
    const i = at(s, r);
    return s.slice(0, i) + s.slice(i + 1 + Math.floor(r() * 64));
  }],
  ['insert a token', (s, r) => {
    const i = at(s, r);
    return s.slice(0, i) + pick(TOKENS, r) + s.slice(i);
  }],
  ['cut the reply short', (s, r) => s.slice(0, at(s, r))],
  ['repeat a slice', (s, r) => {
    const i = at(s, r);
    const slice = s.slice(i, i + 1 + Math.floor(r() * 200));
    if (slice === '') return s;
    const times = Math.max(1, Math.floor(growSize(r) / slice.length));
    return s.slice(0, i) + slice.repeat(times) + s.slice(i);
  }],
  ['insert a long run', (s, r) => {
    const i = at(s, r);
    const unit = pick(RUNS, r);
    return s.slice(0, i) + unit.repeat(Math.max(1, Math.floor(growSize(r) / unit.length))) + s.slice(i);
  }],
  ['replace a number', (s, r) => {
    const numbers = [...s.matchAll(/-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g)];
    if (numbers.length === 0) return s;
    const n = pick(numbers, r);
    return s.slice(0, n.index) + pick(HOSTILE_NUMBERS, r) + s.slice((n.index ?? 0) + n[0].length);
  }],
  ['replace a member value', (s, r) => {
    // `"key":value` up to the next , } or ]: a reader of that key gets a hostile value of the right size.
    const members = [...s.matchAll(/"[^"\\]{1,40}"\s*:\s*("(?:[^"\\]|\\.){0,2000}"|[-\w.+]+)/g)];
    if (members.length === 0) return s;
    const m = pick(members, r);
    const value = m[1] ?? '';
    const start = (m.index ?? 0) + m[0].length - value.length;
    return s.slice(0, start) + hostileValue(r) + s.slice(start + value.length);
  }],
  ['replace an Avalon module field', (s, r) => {
    // `Key[value]` inside an "MM ID" string: the module readers get a hostile field.
    const fields = [...s.matchAll(/[A-Za-z_][\w ]{0,20}\[([^\][\\"]{0,400})\]/g)];
    if (fields.length === 0) return s;
    const f = pick(fields, r);
    const value = f[1] ?? '';
    const start = (f.index ?? 0) + f[0].length - 1 - value.length;
    return s.slice(0, start) + hostileFieldText(r) + s.slice(start + value.length);
  }],
  ['replace a string', (s, r) => {
    const strings = [...s.matchAll(/"([^"\\]{0,200})"/g)];
    if (strings.length === 0) return s;
    const m = pick(strings, r);
    const unit = pick([...RUNS, 'x', ' ', '\u0001', 'é', '\ud83d\ude00'], r);
    const body = unit.repeat(Math.max(1, Math.floor(growSize(r) / Math.max(1, unit.length))));
    return s.slice(0, m.index) + JSON.stringify(body).replace(/\\\\/g, '\\') + s.slice((m.index ?? 0) + m[0].length);
  }],
  ['nest a value deeply', (s, r) => {
    const i = s.indexOf(':', at(s, r));
    if (i < 0) return s;
    const depth = r() < 0.5 ? 10 + Math.floor(r() * 100) : Math.floor(growSize(r) / 2);
    return `${s.slice(0, i + 1)}${'['.repeat(depth)}1${']'.repeat(depth)},${s.slice(i + 1)}`;
  }],
];

/** One mutated input from `seed`: the corpus text with 1-4 mutations, at most MAX_INPUT_BYTES bytes. */
export function mutate(input: string, random: () => number): { text: string; applied: string[] } {
  let text = input;
  const applied: string[] = [];
  const count = 1 + Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    const [name, mutation] = pick(MUTATIONS, random);
    const next = mutation(text, random);
    // Keep under the transport cap: what is bigger never reaches the parser.
    if (Buffer.byteLength(next) > MAX_INPUT_BYTES) continue;
    text = next;
    applied.push(name);
  }
  return { text, applied };
}
