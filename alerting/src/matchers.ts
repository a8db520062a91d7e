/** Label matchers in Alertmanager's notation: name="value", name!="value", name=~"regex", name!~"regex". */
import { LinearRegex, MAX_PATTERN_LENGTH } from './regex';
import type { Labels, MatchOp, Matcher } from './types';

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]*))\s*$/;

export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new Error(`"${text}" is not a matcher (write name="value", name!="value", name=~"regex" or name!~"regex")`);
  const op = m[2] as MatchOp;
  const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? '');
  const matcher: Matcher = { name: m[1]!, op, value };
  if (op === '=~' || op === '!~') {
    // Linear time whatever the pattern (see regex.ts): a silence cannot stall the evaluation cycle.
    if (value.length > MAX_PATTERN_LENGTH) throw new Error(`"${text.slice(0, 60)}…": regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
    try {
      const regex = new LinearRegex(value);
      // A literal prefix refuses most values at once; without one, remembered results save rerunning the automaton.
      matcher.regex = regex.prefix === '' ? memoized(regex) : regex;
    } catch (e) {
      throw new Error(`"${text}": regular expression refused: ${(e as Error).message}`);
    }
  }
  return matcher;
}

/** Distinct label values remembered per pattern: label values repeat (a few dozen containers, one alertname per rule). */
const MEMO_SIZE = 4096;

function memoized(regex: LinearRegex): { test(value: string): boolean } {
  const known = new Map<string, boolean>();
  return {
    test(value: string): boolean {
      let hit = known.get(value);
      if (hit === undefined) {
        hit = regex.test(value);
        if (known.size >= MEMO_SIZE) known.clear();
        known.set(value, hit);
      }
      return hit;
    },
  };
}

const compiled = new Map<string, Matcher>();

/**
 * parseMatcher for text stored in Redis (silences), kept compiled between cycles; undefined for text this version
 * refuses (a silence saved before the pattern rules existed mutes nothing rather than failing every cycle).
 */
export function storedMatcher(text: string): Matcher | undefined {
  let m = compiled.get(text);
  if (m === undefined) {
    try {
      m = parseMatcher(text);
    } catch {
      return undefined;
    }
    if (compiled.size >= 10 * MEMO_SIZE) compiled.clear();
    compiled.set(text, m);
  }
  return m;
}

export function matches(matcher: Matcher, labels: Labels): boolean {
  return matchesValue(matcher, labels[matcher.name] ?? '');
}

/** The matcher against its label's value (absent labels are ''). */
export function matchesValue(matcher: Matcher, actual: string): boolean {
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return matcher.regex!.test(actual);
    case '!~':
      return !matcher.regex!.test(actual);
  }
}

export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  // A plain loop: called for every alert several times a cycle, without a closure each time.
  for (let i = 0; i < matchers.length; i++) if (!matches(matchers[i]!, labels)) return false;
  return true;
}

export function matcherText(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}
