import { z } from 'zod';
import type { JsonValue } from '../../src/sample';
import { bracketPath, dottedPath, escapeHtml, formatIssues, isObject, YamlLocator } from '../../src/text';

const settings = z.object({ port: z.number().int(), hosts: z.array(z.string()) });

describe('formatIssues', () => {
  it('writes one "path: message" line per issue, the whole value by the name given', () => {
    const bad = settings.safeParse({ port: 1.5, hosts: ['a', 7] });
    expect(bad.success).toBe(false);
    expect(formatIssues(bad.error!)).toEqual([
      expect.stringMatching(/^port: .*expected int/),
      expect.stringMatching(/^hosts\.1: .*string/i),
    ]);
    const notObject = settings.safeParse('text');
    expect(formatIssues(notObject.error!, { whole: '(settings)' })).toEqual([expect.stringMatching(/^\(settings\): .*object/i)]);
  });

  it('names places with the locator given and stops at the limit', () => {
    const bad = settings.safeParse({ port: 'x', hosts: 'y' });
    expect(formatIssues(bad.error!, { locate: (path) => `FLYMINING_${String(path[0]).toUpperCase()}` })).toEqual([
      expect.stringMatching(/^FLYMINING_PORT: /),
      expect.stringMatching(/^FLYMINING_HOSTS: /),
    ]);
    expect(formatIssues(bad.error!, { limit: 1 })).toHaveLength(1);
    expect(formatIssues(bad.error!, { messagesOnly: true })).toEqual([expect.stringMatching(/^Invalid input: expected number/), expect.stringMatching(/^Invalid input: expected array/)]);
  });

  it('writes paths dotted or bracketed', () => {
    expect(dottedPath(['rules', 2, 'for'])).toBe('rules.2.for');
    expect(bracketPath(['rules', 2, 'for'])).toBe('rules[2].for');
    expect(bracketPath([])).toBe('');
  });
});

describe('YamlLocator', () => {
  const text = 'site: north\ncontainers:\n  - id: c1\n    miners: 12\n  - id: c2\n';
  const locator = new YamlLocator(text, 'farm.yaml');

  it('names file:line:column of a path, or of its deepest existing parent', () => {
    expect(locator.where(['containers', 0, 'miners'])).toBe('farm.yaml:4:13: containers[0].miners');
    expect(locator.where(['containers', 1, 'racks'])).toBe('farm.yaml:5:5: containers[1].racks');
    expect(locator.where([])).toBe('farm.yaml:1:1: (document)');
  });

  it('names syntax errors by line', () => {
    expect(new YamlLocator('a: [1, 2\nb: 3\n', 'bad.yaml').syntaxErrors()[0]).toMatch(/^bad\.yaml:\d+:\d+: YAML syntax: /);
    expect(locator.syntaxErrors()).toEqual([]);
  });
});

describe('escapeHtml', () => {
  it('turns the five markup characters into entities and leaves the rest', () => {
    expect(escapeHtml(`<a href="x" title='y'>Tom & Jerry</a> ünï`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt; ünï',
    );
  });
});

describe('isObject', () => {
  it('is true only for JSON objects', () => {
    const objects: JsonValue[] = [{}, { a: 1 }];
    const others: Array<JsonValue | undefined> = [null, [], 'x', 1, true, undefined];
    expect(objects.map((v) => isObject(v))).toEqual([true, true]);
    expect(others.map((v) => isObject(v))).toEqual([false, false, false, false, false, false]);
  });
});
