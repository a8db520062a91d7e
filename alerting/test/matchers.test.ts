/**
 * Issue #10, "a silence can stall alerting": matchers run on the linear-time engine of src/regex.ts. It must mean
 * what RegExp means for every pattern it accepts (checked against RegExp on generated patterns), finish in bounded
 * time on the nested quantifiers that take RegExp minutes, and refuse, naming the matcher, what it cannot run.
 */
import fc from 'fast-check';
import { parseMatcher } from '../src/matchers';
import { LinearRegex, MAX_PATTERN_LENGTH } from '../src/regex';
import { config } from './helpers';

/** Patterns from the accepted syntax over a small alphabet, so generated values often match. */
const pattern: fc.Arbitrary<string> = fc.letrec<{ alt: string; concat: string; atom: string }>((tie) => ({
  alt: fc.oneof({ maxDepth: 3, depthIdentifier: 'pattern', withCrossShrink: true }, tie('concat'), fc.tuple(tie('concat'), tie('concat')).map(([a, b]) => `${a}|${b}`)),
  concat: fc.array(
    fc.tuple(tie('atom'), fc.constantFrom('', '', '*', '+', '?', '{2}', '{0,2}', '{1,}', '*?')).map(([a, q]) => a + q),
    { minLength: 0, maxLength: 4 },
  ).map((parts) => parts.join('')),
  atom: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'pattern' },
    fc.constantFrom('a', 'b', '-', '.', '\\d', '\\w', '\\s', '\\.', '[ab]', '[^a]', '[a-c1]', '[\\d-]', '\\x61'),
    tie('alt').map((inner) => `(${inner})`),
    tie('alt').map((inner) => `(?:${inner})`),
  ),
})).alt.filter((p) => p.length <= 200);

const value = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '1', '-', '.', ' ', '\n', '_'), maxLength: 12 });

describe('linear-time matchers', () => {
  test('agree with RegExp (anchored) on 3,000 generated patterns and values', () => {
    fc.assert(
      fc.property(pattern, fc.array(value, { minLength: 1, maxLength: 8 }), (p, values) => {
        const reference = new RegExp(`^(?:${p})$`);
        const linear = new LinearRegex(p);
        for (const v of values) expect({ p, v, matched: linear.test(v) }).toEqual({ p, v, matched: reference.test(v) });
      }),
      { numRuns: 3000, seed: 10 },
    );
  });

  test('the nested quantifier of the finding matches a 100,000-character value in bounded time', () => {
    const matcher = parseMatcher('alertname=~"(a+)+$"');
    const long = 'a'.repeat(100_000);
    const started = performance.now();
    expect(matcher.regex!.test(`${long}b`)).toBe(false); // RegExp backtracks 2^n here
    expect(matcher.regex!.test(long)).toBe(true);
    expect(parseMatcher('x=~"(x+x+)+y"').regex!.test('x'.repeat(50_000))).toBe(false);
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(2000);
    process.stdout.write(`matchers: (a+)+$ and (x+x+)+y over 100,000 and 50,000 characters in ${Math.round(ms)} ms\n`);
  });

  test.each([
    ['a back-reference', 'job=~"(a)\\\\1"', /"job=~.*": regular expression refused: \\1 is not supported/],
    ['a look-ahead', 'job=~"(?=a)a"', /regular expression refused: look-around .* not supported/],
    ['a repeat expanding past the state bound', 'job=~"((a{1000}){1000})"', /regular expression refused: pattern too large/],
    ['a pattern over the length bound', `job=~"${'a'.repeat(MAX_PATTERN_LENGTH + 1)}"`, /regular expression longer than 1000 characters/],
    ['bad syntax', 'job=~"a**"', /regular expression refused: nothing to repeat/],
  ])('refuses %s, naming the matcher', (_what, text, message) => {
    expect(() => parseMatcher(text)).toThrow(message);
  });

  test('config loading refuses a pattern the engine refuses, with file, line and field', () => {
    const yaml = `
route: { receiver: oncall }
receivers: [{ name: oncall, slack: { webhook_url: 'http://127.0.0.1:9/x' } }]
maintenance_windows:
  - name: night
    matchers: ['container=~"(C1)\\\\1"']
    schedule: { start: '01:00', end: '02:00' }
`;
    expect(() => config(yaml)).toThrow(/test\.yaml:6:16: maintenance_windows\[0\]\.matchers\[0\]: "container=~"\(C1\)\\\\1"": regular expression refused/);
  });
});
