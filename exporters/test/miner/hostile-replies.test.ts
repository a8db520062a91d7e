/**
 * Hostile miner replies (issue #10, "Hostile miners"): each shape the probe found harmful, at 64 KiB and at the 1 MiB
 * transport cap, read as the scraper reads it (bytes → parse → envelope → dialect → bounds), under a time bound.
 * Before the fix the 64 KiB cases took seconds (quadratic regexes and repair list), the board count exhausted the
 * heap, and deep nesting or long lists threw RangeError out of the scrape.
 */
import type { JsonObject } from '@flymining/shared';
import { antminerStock, avalon, luxos, MinerReplyError, parseMinerReply, vnish, whatsminer, type Dialect } from '../../src/miner';
import { MAX_LISTED_REPAIRS, MAX_VALUES } from '../../src/miner/json-repair';
import { MINER_LIMITS, TEXT_LIMITS } from '../../src/miner/limits';
import { readCommandReply, sampleFromOutcomes, type CommandOutcome, type ScrapeVerdict } from '../../src/miner/scrape';
import { fuzzSpec, judgeReplies } from '../fuzz/pipeline';
import { InventoryHolder, createLogger } from '@flymining/shared';
import { MinerExporter } from '../../src/miner/exporter';
import { freshStore, writeInventory } from '../e2e/helpers';
import { catalogSpec, rawFixture, replayMiner, reply } from './fixtures';

// Bounds that a linear reader meets even on a machine loaded ten times over, and a quadratic one misses by far
// (64 KiB squared is ~4e9 steps: seconds; 1 MiB squared: hours).
const SIZES = [
  { label: '64 KiB', bytes: 64 * 1024, boundMs: 1000 },
  { label: '1 MiB', bytes: 1024 * 1024 - 4096, boundMs: 10_000 },
] as const;

/** `unit` repeated to about `bytes` characters. */
function run(unit: string, bytes: number): string {
  return unit.repeat(Math.max(1, Math.floor(bytes / unit.length)));
}

/** A deep copy of a corpus reply to edit. */
function corpus(name: string): JsonObject {
  return structuredClone(reply(name));
}

function entry(value: JsonObject, section: string, index: number): JsonObject {
  const list = value[section];
  const found = Array.isArray(list) ? list[index] : undefined;
  if (found === undefined || found === null || typeof found !== 'object' || Array.isArray(found)) throw new Error(`no ${section}[${index}]`);
  return found;
}

/** Reads replies (command → JSON text or object) as the scraper does, timing the whole synchronous run. */
function readAs(dialect: Dialect, replies: Record<string, JsonObject | string>): { verdict: ScrapeVerdict; ms: number } {
  const t0 = performance.now();
  const outcomes: Array<[string, CommandOutcome]> = Object.entries(replies).map(([command, value]) => [
    command,
    readCommandReply(typeof value === 'string' ? value : JSON.stringify(value), '10.0.0.9:4028', command),
  ]);
  const verdict = sampleFromOutcomes(dialect, outcomes, 1_700_000_000_000, '10.0.0.9:4028');
  return { verdict, ms: performance.now() - t0 };
}

function sampleOf(verdict: ScrapeVerdict): Extract<ScrapeVerdict, { ok: true }>['sample'] {
  if (!verdict.ok) throw new Error(`no sample: ${verdict.failure.message}`);
  return verdict.sample;
}

const S19 = { version: 'antminer-s19pro-2022-version.json', stats: 'antminer-s19pro-2022-stats.json', summary: 'antminer-s19pro-2022-summary.json', pools: 'antminer-s19pro-2022-pools.json' };

/** The S19 Pro capture with `edit` applied to its stats data entry and to `setType` for both Type fields. */
function s19(edit: (stats: JsonObject) => void, type?: string): Record<string, JsonObject> {
  const stats = corpus(S19.stats);
  const version = corpus(S19.version);
  edit(entry(stats, 'STATS', 1));
  if (type !== undefined) {
    entry(stats, 'STATS', 0).Type = type;
    entry(version, 'VERSION', 0).Type = type;
  }
  return { version, stats, pools: corpus(S19.pools) };
}

describe.each(SIZES)('a $label reply is read within $boundMs ms', ({ bytes, boundMs }) => {
  test('numeric fields holding a long digit run (the number regex was quadratic)', () => {
    const { verdict, ms } = readAs(antminerStock, s19((data) => {
      data['GHS 5s'] = `${run('1', bytes)}x`;
      data.chain_rate1 = `${run('1', bytes / 4)}x`;
    }));
    expect(ms).toBeLessThan(boundMs);
    // The garbage is no reading; the rest of the sample stands.
    expect(sampleOf(verdict).hashrateThs).toBeUndefined();
    expect(sampleOf(verdict).boards.length).toBeGreaterThan(0);
  });

  test.each([
    ['whitespace before a missing "(vnish"', (n: number) => `${run(' ', n)}x`],
    ['braiins-am with a long digit run', (n: number) => `braiins-am1-s${run('9', n)}!`],
    ['"(vnish " repeated without a closing bracket', (n: number) => run('(vnish ', n)],
    ['whitespace before a missing "hiveon"', (n: number) => `Antminer${run(' ', n)}x`],
  ])('model names: %s', (_what, type) => {
    for (const dialect of [antminerStock, vnish]) {
      const { verdict, ms } = readAs(dialect, s19(() => undefined, type(bytes)));
      expect(ms).toBeLessThan(boundMs);
      if (verdict.ok) expect((verdict.sample.model ?? '').length).toBeLessThanOrEqual(TEXT_LIMITS.model);
    }
  });

  test.each([
    ['text without brackets', (n: number) => run('a', n)],
    ['a run of [', (n: number) => `Ver[1047-x] ${run('[', n)}`],
    ['a long per-board list', (n: number) => `Ver[1047-x] SYSTEMSTATU[Work: In Work, Hash Board: 2 ] MGHS[${run('1 ', n)}] PVT_T0[${run('70 ', n)}]`],
  ])('Avalon module fields: %s', (_what, moduleText) => {
    const stats = corpus('avalon-1047-stats.json');
    entry(stats, 'STATS', 0)['MM ID0'] = moduleText(bytes);
    const { verdict, ms } = readAs(avalon, { stats });
    expect(ms).toBeLessThan(boundMs);
    if (verdict.ok) {
      expect(verdict.sample.boards.length).toBeLessThanOrEqual(MINER_LIMITS.boards);
      for (const board of verdict.sample.boards) expect(board.chipsFound ?? 0).toBeLessThanOrEqual(MINER_LIMITS.chipsPerBoard);
    }
  });

  test('distinct repairs: thousands of different bad escapes are listed up to a bound (the list scan was quadratic)', () => {
    let text = '{"STATUS":[{"STATUS":"S","Msg":"';
    // Letters from U+0100 on: no valid escape among them, about 55,000 distinct ones.
    for (let i = 0; text.length < bytes; i++) text += `\\${String.fromCharCode(0x100 + (i % 0xd600))}`;
    text += '"}],"id":1}';
    const t0 = performance.now();
    const parsed = parseMinerReply(text, 'escapes');
    expect(performance.now() - t0).toBeLessThan(boundMs);
    expect(parsed.repairs).toHaveLength(MAX_LISTED_REPAIRS + 1);
    expect(parsed.repairs[MAX_LISTED_REPAIRS]).toMatch(/^\d+ more repair\(s\) of kinds not listed$/);
  });

  test('a deeply nested Msg is the reply error, not a RangeError out of the scrape', () => {
    const depth = Math.floor(bytes / 2) - 100;
    const text = `{"STATUS":[{"STATUS":"E","Code":14,"Msg":${'['.repeat(depth)}1${']'.repeat(depth)}}],"id":1}`;
    const t0 = performance.now();
    const outcome = readCommandReply(text, '10.0.0.9:4028', 'stats');
    expect(performance.now() - t0).toBeLessThan(boundMs);
    expect(outcome).toMatchObject({ ok: false, error: { command: 'stats', kind: 'malformed', message: expect.stringContaining('nesting deeper than') } });
    expect(() => parseMinerReply(text, 'nested')).toThrow(MinerReplyError);
  });

  test('huge lists: dash temperatures, devs, pools and fans (spreads into Math.max threw RangeError)', () => {
    const dashed = readAs(antminerStock, s19((data) => (data.temp_pcb1 = run('61-', bytes))));
    expect(dashed.ms).toBeLessThan(boundMs);
    expect(sampleOf(dashed.verdict).boards.length).toBeGreaterThan(0);

    const devs = corpus('whatsminer-m30s-edevs.json');
    const dev = entry(devs, 'DEVS', 0);
    devs.DEVS = Array.from({ length: Math.floor(bytes / JSON.stringify(dev).length) + 1 }, () => dev);
    const pools = corpus('whatsminer-m30s-pools.json');
    const pool = entry(pools, 'POOLS', 0);
    pools.POOLS = Array.from({ length: Math.floor(bytes / JSON.stringify(pool).length) + 1 }, (_, i) => ({ ...pool, POOL: i }));
    const listed = readAs(whatsminer, { summary: corpus('whatsminer-m30s-summary.json'), devs, pools });
    expect(listed.ms).toBeLessThan(boundMs);
    const sample = sampleOf(listed.verdict);
    expect(sample.boards.length).toBeLessThanOrEqual(MINER_LIMITS.boards);
    expect(sample.pools.length).toBeLessThanOrEqual(MINER_LIMITS.pools);
    expect(listed.verdict.ok && listed.verdict.dropped.count).toBeGreaterThan(0);

    const fans = corpus('luxos-antminer-s19kpro-fans.json');
    fans.FANS = Array.from({ length: Math.floor(bytes / 60) }, (_, i) => ({ FAN: i, ID: i, RPM: 4000 + (i % 100), Speed: 50 }));
    const luxFans = readAs(luxos, { summary: corpus('luxos-antminer-s19kpro-summary.json'), fans });
    expect(luxFans.ms).toBeLessThan(boundMs);
    expect(sampleOf(luxFans.verdict).fans.length).toBeLessThanOrEqual(MINER_LIMITS.fans);
  });

  test("a firmware version of quotes (/'+$/ was quadratic)", () => {
    const summary = corpus('whatsminer-m30s-summary.json');
    entry(summary, 'SUMMARY', 0)['Firmware Version'] = `${run("'", bytes)}x`;
    const { verdict, ms } = readAs(whatsminer, { summary });
    expect(ms).toBeLessThan(boundMs);
    expect(sampleOf(verdict).firmwareVersion).toBe('x');
  });

  test('the whole pipeline (every dialect, points, line protocol, health) stays bounded and sound', () => {
    const stats = s19((data) => (data.temp_chip1 = run('1-', bytes)));
    const judged = judgeReplies(Object.entries(stats).map(([command, value]) => ({ command, bytes: JSON.stringify(value) })), fuzzSpec());
    expect(judged.problems).toEqual([]);
    expect(judged.longestBlockMs).toBeLessThan(boundMs);
  });
});

test('a board count of 99,999,999 in an Avalon module gives at most the physical maximum of boards, at once', () => {
  // Before the bound this loop allocated a board per count and exhausted the 256 MB heap in 2 s.
  const stats = corpus('avalon-1047-stats.json');
  const module = entry(stats, 'STATS', 0);
  module['MM ID0'] = String(module['MM ID0']).replace(/Hash Board: \d+/, 'Hash Board: 99999999');
  expect(module['MM ID0']).toContain('Hash Board: 99999999');
  const { verdict, ms } = readAs(avalon, { stats });
  expect(ms).toBeLessThan(250);
  expect(sampleOf(verdict).boards).toHaveLength(MINER_LIMITS.boards);
});

test.each([
  ['valid JSON (native parser)', ''],
  ['cut short (repairing parser)', '{'],
])('1 MiB of empty objects is refused as too many values: %s', (_path, cut) => {
  const body = `{"STATUS":[{"STATUS":"S","Code":70,"Msg":"stats"}],"STATS":[${run('{},', 1024 * 1024 - 4096)}{}]${cut === '' ? '}' : ',"x":{'}`;
  const t0 = performance.now();
  const outcome = readCommandReply(body, '10.0.0.9:4028', 'stats');
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(outcome).toMatchObject({ ok: false, error: { kind: 'malformed', message: expect.stringContaining(`more than ${MAX_VALUES} values`) } });
});

describe('values outside physical ranges are dropped and counted', () => {
  /** The S19 Pro capture with hostile numbers written into its text (1e400 must reach the reader as written). */
  const hostile = (): Record<string, string> => {
    const replies = s19((data) => {
      data.chain_hw1 = -5; // negative counter
      data.chain_hw2 = 9223372036854775808; // beyond int64
      data.chain_rate3 = 1e21; // 1e21 GH/s
      data.fan1 = -4000;
    });
    const summary = corpus(S19.summary);
    Object.assign(entry(summary, 'SUMMARY', 0), { Elapsed: -1, 'Hardware Errors': 1e21 });
    const pools = corpus(S19.pools);
    entry(pools, 'POOLS', 0)['Last Share Time'] = 'INFINITE';
    const text: Record<string, string> = Object.fromEntries(Object.entries({ ...replies, summary, pools }).map(([c, v]) => [c, JSON.stringify(v)]));
    text.pools = (text.pools ?? '').replace('"INFINITE"', '1e400');
    return text;
  };

  test('each is removed from the sample, named in the count, and the rest of the sample stands', () => {
    const { verdict } = readAs(antminerStock, hostile());
    if (!verdict.ok) throw new Error(verdict.failure.message);
    const s = verdict.sample;
    expect(s.uptimeS).toBeUndefined();
    expect(s.hwErrors).toBeUndefined();
    expect(s.boards.find((b) => b.index === 1)?.hwErrors).toBeUndefined();
    expect(s.boards.find((b) => b.index === 2)?.hwErrors).toBeUndefined();
    expect(s.boards.find((b) => b.index === 3)?.hashrateThs).toBeUndefined();
    expect(s.fans.map((f) => f.index)).not.toContain(1);
    expect(s.pools[0]?.lastShareTime).toBeUndefined();
    expect(verdict.dropped.count).toBe(7);
    expect(verdict.dropped.examples).toEqual(expect.arrayContaining(['boards[1].hwErrors=-5', 'uptimeS=-1']));
    // What stayed is the capture's: three boards, the pools, the hashrate.
    expect(s.boards.filter((b) => b.present)).toHaveLength(3);
    expect(s.pools.length).toBeGreaterThan(0);
    expect(s.hashrateThs).toBeGreaterThan(80);
  });

  test('the points of such a sample are valid line protocol: the real InfluxDB takes every line', async () => {
    const judged = judgeReplies(Object.entries(hostile()).map(([command, bytes]) => ({ command, bytes })), fuzzSpec());
    expect(judged.problems).toEqual([]);
    expect(judged.droppedValues).toBeGreaterThan(0);
    const url = process.env.FLYMINING_TEST_INFLUX_URL;
    if (!url) throw new Error('FLYMINING_TEST_INFLUX_URL is not set (jest globalSetup starts InfluxDB)');
    const database = `hostile_values_${process.pid}`;
    const query = (q: string): Promise<Response> => fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q }) });
    await query(`CREATE DATABASE ${database}`);
    try {
      const res = await fetch(`${url}/write?db=${database}&precision=ms`, { method: 'POST', body: judged.lines.join('\n') });
      expect([res.status, await res.text()]).toEqual([204, '']);
    } finally {
      await query(`DROP DATABASE ${database}`);
    }
  });

  test('a miner sending them is counted on the exporter\'s /metrics (flymining_miner_values_dropped_total)', async () => {
    const texts = hostile();
    const miner = await replayMiner((command) => `${texts[command] ?? '{"STATUS":[{"STATUS":"E","Msg":"Invalid command"}],"id":1}'}\0`);
    const store = await freshStore(`hostile_metric_${process.pid}`);
    try {
      const exporter = new MinerExporter(
        new InventoryHolder(writeInventory('site: s\ncontainers:\n  - { name: C01, racks: [] }\n')),
        store,
        { name: 'hostile-metric', intervalMs: 30_000, jitterMs: 0, concurrency: 1 },
        createLogger('hostile-metric', 'silent'),
      );
      const spec = { ...catalogSpec(), host: '127.0.0.1', port: miner.port, firmware: 'antminer-stock' as const };
      const result = await exporter.scrapeOne(spec);
      expect(result.ok).toBe(true);
      const metric = await exporter.metrics.registry.getSingleMetric('flymining_miner_values_dropped_total')!.get();
      expect(metric.values[0]?.value).toBe(7);
    } finally {
      await store.close();
      await miner.close();
    }
  });

  test('a model tag over its length is dropped, so the point falls back to the inventory model', () => {
    const { verdict } = readAs(antminerStock, s19(() => undefined, `Antminer S19 ${'Pro'.repeat(40)}`));
    expect(sampleOf(verdict).model).toBeUndefined();
    expect(verdict.ok && verdict.dropped.examples).toEqual(expect.arrayContaining([expect.stringMatching(/^model=/)]));
  });

  test('raw control characters in strings are counted as a repair', () => {
    const parsed = parseMinerReply('{"STATUS":[{"STATUS":"S","Msg":"ok\u0001\u001b[31m"}],"id":1}', 'control');
    expect(parsed.repairs).toContain('raw control character in string');
  });
});
