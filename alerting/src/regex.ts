/**
 * Linear-time regular expressions for label matchers. Silences and rules are written by people over the API, and
 * every cycle runs them against every alert: a backtracking engine (JavaScript's RegExp) takes minutes on a
 * nested quantifier such as (a+)+$, and the whole service stalls. This is a Thompson NFA run as a state set
 * (time O(pattern × value), no backtracking), over the part of the RegExp syntax that needs no backtracking:
 * literals and escapes, ., classes [a-z] [^…] \d \w \s, groups (…) (?:…) (?<name>…), |, * + ? {n} {n,} {n,m}
 * (a trailing ? is accepted: laziness does not change a full match), ^ and $. Back-references and look-arounds
 * are refused. Matching is over UTF-16 code units, like RegExp without flags, so a pattern means what it meant
 * before.
 */

/** Longest pattern accepted: a matcher is a selection of alerts, not a program. */
export const MAX_PATTERN_LENGTH = 1000;
/** Largest compiled program: repetition counts multiply (x{100}){100} beyond this is refused. */
export const MAX_PROGRAM_STATES = 20_000;
const MAX_REPEAT = 1000;

export class RegexSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexSyntaxError';
  }
}

/** Inclusive ranges of code units; `negated` inverts the set. */
interface CharSet {
  ranges: Array<[number, number]>;
  negated: boolean;
}

type Node =
  | { kind: 'set'; set: CharSet }
  | { kind: 'empty' }
  | { kind: 'concat'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number /* Infinity: unbounded */ }
  | { kind: 'assert'; at: 'start' | 'end' };

const DIGIT: Array<[number, number]> = [[48, 57]];
const WORD: Array<[number, number]> = [[48, 57], [65, 90], [95, 95], [97, 122]];
// What \s means to RegExp: ASCII and Unicode white space, line terminators and the BOM.
const SPACE: Array<[number, number]> = [
  [9, 13], [32, 32], [160, 160], [5760, 5760], [8192, 8202], [8232, 8233], [8239, 8239], [8287, 8287], [12288, 12288], [65279, 65279],
];
const LINE_TERMINATORS: Array<[number, number]> = [[10, 10], [13, 13], [8232, 8233]];

function invert(ranges: ReadonlyArray<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0xffff) out.push([next, 0xffff]);
  return out;
}

function inSet(set: CharSet, c: number): boolean {
  let hit = false;
  for (const [lo, hi] of set.ranges) {
    if (c >= lo && c <= hi) {
      hit = true;
      break;
    }
  }
  return hit !== set.negated;
}

class Parser {
  private pos = 0;

  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.pos < this.src.length) throw this.error(this.src[this.pos] === ')' ? 'unmatched )' : `unexpected ${this.src[this.pos]}`);
    return node;
  }

  /** `at`: where the offending token starts (0-based), the current position by default. */
  private error(what: string, at = this.pos): RegexSyntaxError {
    return new RegexSyntaxError(`${what} at position ${at + 1}`);
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private alternation(): Node {
    const options = [this.concatenation()];
    while (this.peek() === '|') {
      this.pos += 1;
      options.push(this.concatenation());
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  }

  private concatenation(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) items.push(this.quantified());
    if (items.length === 0) return { kind: 'empty' };
    return items.length === 1 ? items[0]! : { kind: 'concat', items };
  }

  private quantified(): Node {
    const start = this.pos;
    const atom = this.atom();
    const bounds = this.quantifier();
    if (!bounds) {
      if (atom === undefined) throw this.error('nothing to repeat', start);
      return atom;
    }
    if (atom === undefined || atom.kind === 'assert') throw this.error('nothing to repeat', start);
    if (this.peek() === '?') this.pos += 1; // lazy: the same full match
    // A quantifier right after another (a**) is a syntax error in RegExp too.
    if (this.quantifierAhead()) throw this.error('nothing to repeat');
    return { kind: 'repeat', node: atom, min: bounds.min, max: bounds.max };
  }

  private quantifierAhead(): boolean {
    const save = this.pos;
    const q = this.quantifier();
    this.pos = save;
    return q !== undefined;
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.peek();
    if (c === '*') return (this.pos += 1), { min: 0, max: Infinity };
    if (c === '+') return (this.pos += 1), { min: 1, max: Infinity };
    if (c === '?') return (this.pos += 1), { min: 0, max: 1 };
    if (c !== '{') return undefined;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos, this.pos + 24));
    if (!m) return undefined; // a lone { is a literal, as in RegExp
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) throw this.error(`repeat count over ${MAX_REPEAT}`);
    if (max < min) throw this.error('numbers out of order in {} quantifier');
    this.pos += m[0].length;
    return { min, max };
  }

  /** One atom, or undefined where a quantifier stands with nothing before it. */
  private atom(): Node | undefined {
    const c = this.peek()!;
    switch (c) {
      case '*':
      case '+':
      case '?':
        return undefined;
      case '{':
        if (this.quantifierAhead()) return undefined;
        this.pos += 1;
        return literal(c.charCodeAt(0));
      case '(':
        return this.group();
      case '[':
        return { kind: 'set', set: this.charClass() };
      case '.':
        this.pos += 1;
        return { kind: 'set', set: { ranges: LINE_TERMINATORS, negated: true } };
      case '^':
        this.pos += 1;
        return { kind: 'assert', at: 'start' };
      case '$':
        this.pos += 1;
        return { kind: 'assert', at: 'end' };
      case '\\':
        return { kind: 'set', set: this.escape(false) };
      default:
        this.pos += 1;
        return literal(c.charCodeAt(0));
    }
  }

  private group(): Node {
    const at = this.pos;
    this.pos += 1;
    if (this.src.startsWith('?:', this.pos)) this.pos += 2;
    else if (this.src.startsWith('?<', this.pos) && /^\?<[A-Za-z_$][\w$]*>/.test(this.src.slice(this.pos, this.pos + 70))) this.pos = this.src.indexOf('>', this.pos) + 1;
    else if (this.peek() === '?') throw this.error('look-around and other (?…) groups are not supported', at);
    const inner = this.alternation();
    if (this.peek() !== ')') throw this.error('missing )');
    this.pos += 1;
    return inner;
  }

  private charClass(): CharSet {
    this.pos += 1;
    const negated = this.peek() === '^';
    if (negated) this.pos += 1;
    const ranges: Array<[number, number]> = [];
    // A ] right away ends the class: [] matches nothing and [^] any code unit, as in RegExp.
    for (let c = this.peek(); c !== ']'; c = this.peek()) {
      if (c === undefined) throw this.error('missing ]');
      const lo = this.classAtom();
      if (this.peek() === '-' && this.src[this.pos + 1] !== ']' && this.src[this.pos + 1] !== undefined && lo.single !== undefined) {
        this.pos += 1;
        const hi = this.classAtom();
        if (hi.single === undefined) throw this.error('a class escape cannot end a range');
        if (hi.single < lo.single) throw this.error('range out of order in character class');
        ranges.push([lo.single, hi.single]);
      } else ranges.push(...lo.ranges);
    }
    this.pos += 1;
    return { ranges, negated };
  }

  private classAtom(): { single?: number; ranges: Array<[number, number]> } {
    const c = this.peek()!;
    if (c !== '\\') {
      this.pos += 1;
      return { single: c.charCodeAt(0), ranges: [[c.charCodeAt(0), c.charCodeAt(0)]] };
    }
    const set = this.escape(true);
    const single = !set.negated && set.ranges.length === 1 && set.ranges[0]![0] === set.ranges[0]![1] ? set.ranges[0]![0] : undefined;
    return { single, ranges: set.negated ? invert(set.ranges) : set.ranges };
  }

  private escape(inClass: boolean): CharSet {
    const at = this.pos;
    this.pos += 1;
    const c = this.peek();
    if (c === undefined) throw this.error('\\ at end of pattern', at);
    this.pos += 1;
    const one = (code: number): CharSet => ({ ranges: [[code, code]], negated: false });
    switch (c) {
      case 'd':
        return { ranges: DIGIT, negated: false };
      case 'D':
        return { ranges: DIGIT, negated: true };
      case 'w':
        return { ranges: WORD, negated: false };
      case 'W':
        return { ranges: WORD, negated: true };
      case 's':
        return { ranges: SPACE, negated: false };
      case 'S':
        return { ranges: SPACE, negated: true };
      case 'n':
        return one(10);
      case 'r':
        return one(13);
      case 't':
        return one(9);
      case 'f':
        return one(12);
      case 'v':
        return one(11);
      case '0':
        if (/[0-9]/.test(this.peek() ?? '')) throw this.error('octal escapes are not supported', at);
        return one(0);
      case 'x':
      case 'u': {
        const digits = c === 'x' ? 2 : 4;
        const hex = this.src.slice(this.pos, this.pos + digits);
        if (!new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(hex)) throw this.error(`\\${c} needs ${digits} hex digits`, at);
        this.pos += digits;
        return one(parseInt(hex, 16));
      }
      case 'b':
        if (inClass) return one(8);
        throw this.error('\\b (word boundary) is not supported', at);
      default:
        if (/[A-Za-z0-9]/.test(c)) throw this.error(`\\${c} is not supported (back-references, \\B, \\c, \\p are refused)`, at);
        return one(c.charCodeAt(0));
    }
  }
}

function literal(code: number): Node {
  return { kind: 'set', set: { ranges: [[code, code]], negated: false } };
}

/** One NFA state: consume a code unit in `set`, branch without consuming, assert a position, or accept. */
type State =
  | { op: 'char'; set: CharSet; next: number }
  | { op: 'split'; a: number; b: number }
  | { op: 'assert'; at: 'start' | 'end'; next: number }
  | { op: 'match' };

/** Compiles to a state list: each fragment is built with its exit patched afterwards (Thompson's construction). */
class Compiler {
  readonly states: State[] = [];
  /** Nodes emitted: bounds the work of repeats of empty groups, which add no states. */
  private emitted = 0;

  private add(s: State): number {
    if (this.states.length >= MAX_PROGRAM_STATES) throw new RegexSyntaxError(`pattern too large once repeats are expanded (over ${MAX_PROGRAM_STATES} states)`);
    this.states.push(s);
    return this.states.length - 1;
  }

  /** Emits `node` so that it continues at `next`; returns its entry state. Built back to front. */
  emit(node: Node, next: number): number {
    if (++this.emitted > 4 * MAX_PROGRAM_STATES) throw new RegexSyntaxError('pattern too large once repeats are expanded');
    switch (node.kind) {
      case 'empty':
        return next;
      case 'set':
        return this.add({ op: 'char', set: node.set, next });
      case 'assert':
        return this.add({ op: 'assert', at: node.at, next });
      case 'concat': {
        let entry = next;
        for (let i = node.items.length - 1; i >= 0; i--) entry = this.emit(node.items[i]!, entry);
        return entry;
      }
      case 'alt': {
        let entry = this.emit(node.options[node.options.length - 1]!, next);
        for (let i = node.options.length - 2; i >= 0; i--) entry = this.add({ op: 'split', a: this.emit(node.options[i]!, next), b: entry });
        return entry;
      }
      case 'repeat': {
        let entry = next;
        if (node.max === Infinity) {
          // x*: a split that either enters x (looping back to the split) or leaves.
          const loop = this.add({ op: 'split', a: -1, b: next });
          const body = this.emit(node.node, loop);
          (this.states[loop] as { a: number }).a = body;
          entry = loop;
        } else {
          for (let i = node.min; i < node.max; i++) entry = this.add({ op: 'split', a: this.emit(node.node, entry), b: next });
        }
        for (let i = 0; i < node.min; i++) entry = this.emit(node.node, entry);
        return entry;
      }
    }
  }
}

/** The literal text every match starts with (`C07-` of `C07-(9{3}|x+)+`): most values are refused on it alone. */
function literalPrefix(tree: Node): string {
  let prefix = '';
  for (const node of tree.kind === 'concat' ? tree.items : [tree]) {
    if (node.kind === 'assert' && node.at === 'start' && prefix === '') continue;
    if (node.kind !== 'set' || node.set.negated || node.set.ranges.length !== 1 || node.set.ranges[0]![0] !== node.set.ranges[0]![1]) break;
    prefix += String.fromCharCode(node.set.ranges[0]![0]);
  }
  return prefix;
}

/** A compiled pattern, matched against the whole value (anchored both ends, as Alertmanager matchers are). */
export class LinearRegex {
  private readonly states: State[];
  private readonly start: number;
  /** Literal text every match starts with ('' if none). */
  readonly prefix: string;
  /** Reused between calls: a generation counter marks which states are in the current set. */
  private readonly mark: Uint32Array;
  private generation = 0;

  constructor(readonly source: string) {
    if (source.length > MAX_PATTERN_LENGTH) throw new RegexSyntaxError(`pattern longer than ${MAX_PATTERN_LENGTH} characters`);
    const tree = new Parser(source).parse();
    this.prefix = literalPrefix(tree);
    const compiler = new Compiler();
    const accept = compiler.states.push({ op: 'match' }) - 1;
    this.start = compiler.emit(tree, accept);
    this.states = compiler.states;
    this.mark = new Uint32Array(this.states.length);
  }

  /** True when the whole of `text` matches. */
  test(text: string): boolean {
    if (!text.startsWith(this.prefix)) return false;
    let current: number[] = [];
    let next: number[] = [];
    this.nextGeneration();
    this.addState(current, this.start, 0, text.length);
    for (let i = 0; i < text.length && current.length > 0; i++) {
      const c = text.charCodeAt(i);
      next.length = 0;
      this.nextGeneration();
      for (const id of current) {
        const s = this.states[id]!;
        if (s.op === 'char' && inSet(s.set, c)) this.addState(next, s.next, i + 1, text.length);
      }
      [current, next] = [next, current];
    }
    return current.some((id) => this.states[id]!.op === 'match');
  }

  private nextGeneration(): void {
    this.generation += 1;
    if (this.generation === 0xffffffff) {
      this.mark.fill(0);
      this.generation = 1;
    }
  }

  /** Adds `id` and everything reachable from it without consuming input (each state once per step). */
  private addState(into: number[], first: number, pos: number, length: number): void {
    const stack = [first];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (this.mark[id] === this.generation) continue;
      this.mark[id] = this.generation;
      const s = this.states[id]!;
      if (s.op === 'split') stack.push(s.b, s.a);
      else if (s.op === 'assert') {
        if (s.at === 'start' ? pos === 0 : pos === length) stack.push(s.next);
      } else into.push(id);
    }
  }
}
