import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, JsonValue } from '@flymining/shared';
import { MinerReplyError, parseMinerReply } from '../../src/miner';
import { CORPUS_DIR, corpusFiles, rawFixture } from './fixtures';

/** Files SOURCES.md marks as not valid JSON: kept malformed on purpose. */
const MALFORMED = new Set([
  'antminer-s9-bad-temp-sensor-stats.json',
  'antminer-s9k-version.json',
  'hiveon-antminer-s9-stats.json',
  'vnish-antminer-s9-stats.json',
  'whatsminer-m20s-fw20200917-summary.json',
  'avalon-1047-pools+summary+stats-nan.json',
]);

function expectError(run: () => unknown, kind: MinerReplyError['kind']): MinerReplyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MinerReplyError);
    expect((error as MinerReplyError).kind).toBe(kind);
    return error as MinerReplyError;
  }
  throw new Error('expected a MinerReplyError');
}

const stats = (value: JsonObject): JsonObject[] => value.STATS as JsonObject[];

describe('the corpus copy', () => {
  it('holds every file SOURCES.md lists, byte for byte (SHA-256)', () => {
    const sources = readFileSync(join(CORPUS_DIR, 'SOURCES.md'), 'utf8');
    const listed = [...sources.matchAll(/^([0-9a-f]{64})  (\S+\.json)$/gm)].map((m) => [m[2], m[1]] as const);
    expect(listed.map(([name]) => name).sort()).toEqual(corpusFiles());
    for (const [name, sha] of listed) {
      expect(`${name} ${createHash('sha256').update(rawFixture(name!)).digest('hex')}`).toBe(`${name} ${sha}`);
    }
  });
});

describe('parseMinerReply on valid corpus files', () => {
  const valid = corpusFiles().filter((name) => !MALFORMED.has(name));

  it.each(valid)('%s reads exactly as JSON.parse, with no repairs', (name) => {
    const raw = rawFixture(name);
    const parsed = parseMinerReply(raw, name);
    expect(parsed.value).toEqual(JSON.parse(raw.toString('utf8')));
    expect(parsed.repairs).toEqual([]);
    expect(parsed.truncated).toBe(false);
  });

  it('strips the NUL terminator and trailing newline cgminer/bosminer send', () => {
    const raw = Buffer.concat([rawFixture('braiins-bos-s9-fans.json'), Buffer.from('\n\0')]);
    const parsed = parseMinerReply(raw, 'bos fans');
    expect(parsed.repairs).toEqual([]);
    expect((parsed.value.FANS as JsonObject[])[0]).toEqual({ FAN: 0, ID: 0, RPM: 1560, Speed: 1 });
  });
});

describe('parseMinerReply repairs the malformed corpus files', () => {
  it.each(['antminer-s9-bad-temp-sensor-stats.json', 'hiveon-antminer-s9-stats.json', 'vnish-antminer-s9-stats.json'])(
    '%s: `}{` between STATS[0] and STATS[1] gets its comma; both objects are kept',
    (name) => {
      const parsed = parseMinerReply(rawFixture(name), name);
      expect(parsed.repairs).toEqual(['missing comma between }{ inserted']);
      expect(stats(parsed.value)).toHaveLength(2);
      expect(stats(parsed.value)[1]?.fan_num).toBe(2);
    },
  );

  it('S9 bad temp sensor: keeps the Type with its escaped newline and the -83 chip reading', () => {
    const value = parseMinerReply(rawFixture('antminer-s9-bad-temp-sensor-stats.json'), 's9').value;
    expect(stats(value)[0]?.Type).toBe('Antminer S9\nV1.3.58');
    expect(stats(value)[1]?.['GHS 5s']).toBe('13883.81');
    expect(stats(value)[1]?.temp2_7).toBe(-83);
  });

  it('Vnish S9: the first STATS object uses the key "Cgminer"', () => {
    const value = parseMinerReply(rawFixture('vnish-antminer-s9-stats.json'), 'vnish').value;
    expect(stats(value)[0]?.Cgminer).toBe('4.11.1');
    expect(stats(value)[1]?.chain_consumption6).toBe(495);
  });

  it('S9k version: the stray `"}` after the closing brace is ignored', () => {
    const parsed = parseMinerReply(rawFixture('antminer-s9k-version.json'), 's9k');
    expect(parsed.repairs).toEqual(['ignored 2 trailing byte(s) after the JSON value']);
    expect((parsed.value.VERSION as JsonObject[])[0]?.Type).toBe('Antminer S9k');
    expect(parsed.value.id).toBe(1);
  });

  it("Whatsminer M20S fw 20200917: the invalid escape \\' is read as a plain quote", () => {
    const parsed = parseMinerReply(rawFixture('whatsminer-m20s-fw20200917-summary.json'), 'm20s');
    expect(parsed.repairs).toEqual(["invalid escape \\' in string"]);
    const summary = (parsed.value.SUMMARY as JsonObject[])[0];
    expect(summary?.['Firmware Version']).toBe("'20200917.22.REL'");
    expect(summary?.['Device Rejected%']).toBe(135.7304);
  });

  it('Avalon 1047 nan variant: bare nan becomes null (not 0) and the stray quote is ignored', () => {
    const parsed = parseMinerReply(rawFixture('avalon-1047-pools+summary+stats-nan.json'), 'avalon nan');
    expect(parsed.repairs).toEqual(['bare nan replaced by null', 'ignored 1 trailing byte(s) after the JSON value']);
    const summary = (((parsed.value.summary as JsonObject[])[0]?.SUMMARY as JsonObject[]) ?? [])[0];
    expect(summary?.['MHS av']).toBeNull();
    expect(summary?.Elapsed).toBe(155);
    expect(Object.keys(parsed.value)).toEqual(['summary', 'stats', 'pools', 'id']);
  });
});

describe('parseMinerReply repairs the other defects of QUIRKS §3', () => {
  const cases: Array<[string, string, JsonValue, string]> = [
    ['`[,{` leading comma in an array', '{"STATS":[,{"a":1}],"id":1}', { STATS: [{ a: 1 }], id: 1 }, 'stray comma in array removed'],
    ['`,}` trailing comma', '{"SUMMARY":[{"MHS 5s":1.5,}],"id":1}', { SUMMARY: [{ 'MHS 5s': 1.5 }], id: 1 }, 'trailing comma before } removed'],
    ['raw newline inside a string', '{"Msg":"line1\nline2","id":1}', { Msg: 'line1line2', id: 1 }, 'raw newline removed from string'],
    ['missing comma `""temp0`', '{"a":"""temp0":5}', { a: '', temp0: 5 }, 'missing comma inserted'],
    ['bare inf', '{"GHSavg":inf,"x":-inf}', { GHSavg: null, x: null }, 'bare inf replaced by null'],
    ['reply starting with `,`', ',"id":1}', { id: 1 }, 'leading comma replaced by {'],
    [
      'error_code written as a list',
      '{"STATUS":"S","Msg":{"error_code":["110":"2023-01-01","111":"2023-01-02"]}}',
      { STATUS: 'S', Msg: { error_code: { '110': '2023-01-01', '111': '2023-01-02' } } },
      'list written as an object converted',
    ],
  ];

  it.each(cases)('%s', (_label, input, expected, repair) => {
    const parsed = parseMinerReply(input, 'synthetic');
    expect(parsed.value).toEqual(expected);
    expect(parsed.repairs).toContain(repair);
  });

  it('repairs between tokens never touch string content that looks like a defect', () => {
    const input = '{"POOLS":[{"URL":"stratum+tcp://a}{b,}c[,{:3333","User":"nan.worker","Note":"it\'s"}{"URL":"x"},],}';
    const parsed = parseMinerReply(input, 'pools');
    expect(parsed.value).toEqual({ POOLS: [{ URL: 'stratum+tcp://a}{b,}c[,{:3333', User: 'nan.worker', Note: "it's" }, { URL: 'x' }] });
  });

  it('keeps the last value of a duplicate key, as the M3 stats reply needs', () => {
    const value = parseMinerReply(rawFixture('whatsminer-m3-stats.json'), 'm3').value;
    const sm0 = stats(value)[0];
    expect(sm0?.chip_ok_cores_4).toBe(78);
    expect(sm0?.err_chips).toBe(1);
  });

  it('a reply cut off mid-way keeps its complete members and says truncated', () => {
    const full = rawFixture('antminer-s19pro-2022-pools.json').toString('utf8');
    const cut = full.slice(0, full.indexOf('"POOL": 1,') + 20);
    const parsed = parseMinerReply(cut, 'cut pools');
    expect(parsed.truncated).toBe(true);
    const pools = parsed.value.POOLS as JsonObject[];
    expect(pools[0]?.URL).toBe('stratum+tcp://btc.global.luxor.tech:700');
    expect(pools[0]?.['Pool Stale%%']).toBe(0);
    // The cut fell inside the second pool's URL: that member is dropped, not kept half-written.
    expect(pools[1]).toEqual({ POOL: 1 });
  });

  it('"id":0 (cgminer output overflow) marks the reply truncated', () => {
    const parsed = parseMinerReply('{"STATUS":[{"STATUS":"S","Code":70}],"STATS":[],"id":0}\0', 'stats');
    expect(parsed.truncated).toBe(true);
  });
});

describe('parseMinerReply refuses what is not a JSON reply', () => {
  it('names the source and shows an escaped excerpt of the text Whatsminer sends with btminer down', () => {
    const error = expectError(() => parseMinerReply('Socket connect failed: Connection refused\n', '10.0.0.7:4028 summary'), 'not-json');
    expect(error.message).toBe('10.0.0.7:4028 summary: reply is not JSON: "Socket connect failed: Connection refused\\n"');
  });

  it('recognises the cgminer text format', () => {
    const error = expectError(() => parseMinerReply('STATUS=S,When=1,Code=11,Msg=Summary|SUMMARY,Elapsed=5|\0', 'mini3'), 'not-json');
    expect(error.message).toContain('text-format');
  });

  it('empty and NUL-only replies are "empty"', () => {
    expectError(() => parseMinerReply(Buffer.alloc(0), 'x'), 'empty');
    expectError(() => parseMinerReply(Buffer.from([0, 0, 10]), 'x'), 'empty');
  });

  it('binary garbage is refused, with non-printable bytes escaped in the message', () => {
    const garbage = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0xff, 0xfe]);
    const error = expectError(() => parseMinerReply(garbage, 'tls?'), 'not-json');
    expect(error.message).toContain('\\x16\\x03\\x01');
    const inside = Buffer.concat([Buffer.from('{"a":'), garbage]);
    expectError(() => parseMinerReply(inside, 'inside'), 'malformed');
  });

  it('an encrypted Whatsminer reply is not our data', () => {
    const error = expectError(() => parseMinerReply('{"enc":"q83vEjRWeJA="}', 'wm'), 'not-json');
    expect(error.message).toContain('encrypted');
  });

  it('fails fast on 50 MB of garbage, deep nesting or an endless string', () => {
    const inputs = [
      Buffer.alloc(50 * 1024 * 1024, 'A'),
      Buffer.alloc(50 * 1024 * 1024, '['),
      Buffer.concat([Buffer.from('{"a":1,"b":'), Buffer.alloc(50 * 1024 * 1024, '7'), Buffer.from('x}')]),
    ];
    for (const input of inputs) {
      const started = Date.now();
      expect(() => parseMinerReply(input, 'huge')).toThrow(MinerReplyError);
      expect(Date.now() - started).toBeLessThan(3000);
    }
  });
});

/** Small deterministic PRNG so a failing case can be reproduced. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const TRICKY_STRINGS = ['}{', ',}', '[,{', 'nan', 'inf', 'a}{b', 'x,}y', 'banana', '\\', '"', "'", '\n', 'nan,', '}"}', 'ü€', '\u0001', ':', ''];

function randomValue(rand: () => number, depth: number): JsonValue {
  const pick = rand();
  if (depth > 3 || pick < 0.35) {
    const kind = Math.floor(rand() * 5);
    if (kind === 0) return (rand() - 0.5) * 10 ** Math.floor(rand() * 12);
    if (kind === 1) return Math.floor(rand() * 1e6);
    if (kind === 2) return rand() < 0.5;
    if (kind === 3) return null;
    return Array.from({ length: 1 + Math.floor(rand() * 3) }, () => TRICKY_STRINGS[Math.floor(rand() * TRICKY_STRINGS.length)]).join('');
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const object: Record<string, JsonValue> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--) {
    object[TRICKY_STRINGS[Math.floor(rand() * TRICKY_STRINGS.length)] + String(i)] = randomValue(rand, depth + 1);
  }
  return object;
}

describe('repair never changes a valid document', () => {
  it('500 random documents with tricky strings read exactly as JSON.parse, in compact and indented form', () => {
    const rand = prng(20240601);
    for (let i = 0; i < 500; i++) {
      const doc = { STATUS: [{ STATUS: 'S' }], DATA: randomValue(rand, 0), id: 1 };
      for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, i % 4)]) {
        const parsed = parseMinerReply(text, `doc ${i}`);
        expect(parsed.value).toEqual(JSON.parse(text));
        expect(parsed.repairs).toEqual([]);
      }
    }
  });
});

describe('`}{` between list entries, the defect of old bmminer stats (read by the native parser when it is the only one)', () => {
  it('300 random lists of objects written without commas read as the list, whatever `}{` or `},{` their strings hold', () => {
    const rand = prng(20261127);
    let withBraceString = 0;
    for (let i = 0; i < 300; i++) {
      const entries = Array.from({ length: 2 + Math.floor(rand() * 3) }, (_, k) => ({ ID: k, Type: randomValue(rand, 3), Note: randomValue(rand, 2) }));
      const text = `{"STATUS":[{"STATUS":"S"}],"STATS":[${entries.map((e) => JSON.stringify(e)).join('')}],"id":1}`;
      if (/}\{|},\{/.test(entries.map((e) => JSON.stringify(e)).join(','))) withBraceString++;
      const parsed = parseMinerReply(text, `stats ${i}`);
      expect(parsed.value).toEqual({ STATUS: [{ STATUS: 'S' }], STATS: entries, id: 1 });
      expect(parsed.repairs).toEqual(['missing comma between }{ inserted']);
    }
    // The generator must reach the case the native path has to refuse (a brace pair inside a string).
    expect(withBraceString).toBeGreaterThan(20);
  });

  it('a `}{` inside a pool URL is kept as it is while the entries get their commas', () => {
    const text = '{"POOLS":[{"URL":"stratum+tcp://a}{b:3333"}{"URL":"x},{y"}],"id":1}';
    const parsed = parseMinerReply(text, 'pools');
    expect(parsed.value).toEqual({ POOLS: [{ URL: 'stratum+tcp://a}{b:3333' }, { URL: 'x},{y' }], id: 1 });
    expect(parsed.repairs).toEqual(['missing comma between }{ inserted']);
  });
});
