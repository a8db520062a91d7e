/**
 * A reply cut short is a partial scrape, never grounds for a hardware fault (issue #10). Over real TCP, a miner of
 * ours replays the S19 Pro capture but closes `stats` part-way (after the second fan, before any chain): read as
 * complete, that reply says two of four fans and no boards, which raised FAN_MISSING and BOARD_MISSING. The sample
 * now lists `stats` in `errors` and leaves boards and fans empty, which health reads as "section lost".
 */
import { evaluateMinerHealth } from '../../src/miner/health';
import { scrapeMiner, type ScrapeResult } from '../../src/miner/scrape';
import { catalogSpec, rawFixture, replayMiner } from './fixtures';

const CAPTURE: Record<string, string> = {
  version: 'antminer-s19pro-2022-version.json',
  stats: 'antminer-s19pro-2022-stats.json',
  summary: 'antminer-s19pro-2022-summary.json',
  pools: 'antminer-s19pro-2022-pools.json',
};

/** The stats capture cut right after `"fan2":…,`: every complete member before it survives. */
function statsCutAfterFan2(): Buffer {
  const text = rawFixture(CAPTURE.stats as string).toString('utf8');
  const at = text.indexOf('"fan3"');
  if (at < 0) throw new Error('capture has no fan3');
  return Buffer.from(text.slice(0, at));
}

async function scrapeWith(stats: Buffer): Promise<Extract<ScrapeResult, { ok: true }>> {
  const miner = await replayMiner((command) => {
    if (command === 'stats') return stats;
    const file = CAPTURE[command];
    return Buffer.concat([file ? rawFixture(file) : Buffer.from('{"STATUS":[{"STATUS":"E","Code":14,"Msg":"Invalid command"}],"id":1}'), Buffer.from([0])]);
  });
  try {
    const result = await scrapeMiner({ host: '127.0.0.1', port: miner.port, firmware: 'antminer-stock' });
    if (!result.ok) throw new Error(`scrape failed: ${result.failure.message}`);
    return result;
  } finally {
    await miner.close();
  }
}

const HARDWARE_CODES = ['BOARD_MISSING', 'FAN_MISSING', 'FAN_STOPPED', 'CHIPS_DEAD', 'TEMP_SENSOR_FAULT'];

test('a stats reply cut short is a partial scrape: stats in errors, boards and fans left unknown, no hardware fault', async () => {
  const { sample } = await scrapeWith(statsCutAfterFan2());
  expect(sample.errors).toEqual([expect.objectContaining({ command: 'stats', kind: 'malformed', message: expect.stringContaining('cut short') })]);
  expect(sample.boards).toEqual([]);
  expect(sample.fans).toEqual([]);
  // What the complete replies said still counts: hashing, with the summary's hashrate and the pools.
  expect(sample.mode).toBe('hashing');
  expect(sample.hashrateThs).toBeGreaterThan(80);
  expect(sample.pools.length).toBeGreaterThan(0);

  const { faults } = evaluateMinerHealth(sample, catalogSpec(), undefined, sample.time);
  expect(faults.map((f) => f.code)).toEqual(['SCRAPE_PARTIAL']);
});

test('hardware faults raised before stay as they were through a cut-short reply: neither cleared nor raised anew', async () => {
  const spec = catalogSpec();
  // A complete scrape in which board 3 is missing (its chain emptied) raises BOARD_MISSING for it.
  const stats = rawFixture(CAPTURE.stats as string).toString('utf8');
  const boardGone = JSON.parse(stats) as { STATS: Array<Record<string, unknown>> };
  const data = boardGone.STATS[1] as Record<string, unknown>;
  Object.assign(data, { chain_acn3: 0, chain_rate3: '', chain_acs3: '' });
  const before = await scrapeWith(Buffer.from(`${JSON.stringify(boardGone)}\0`));
  const first = evaluateMinerHealth(before.sample, spec, undefined, before.sample.time);
  const missing = first.faults.find((f) => f.code === 'BOARD_MISSING');
  expect(missing?.part).toBe('board 3');

  const cut = await scrapeWith(statsCutAfterFan2());
  const after = evaluateMinerHealth(cut.sample, spec, first.state, before.sample.time + 30_000);
  expect(after.faults.filter((f) => HARDWARE_CODES.includes(f.code)).map((f) => [f.code, f.part, f.since])).toEqual([['BOARD_MISSING', 'board 3', missing?.since]]);
});

test('a complete reply the miner flags as cut ("id":0) is a partial scrape too', async () => {
  const text = rawFixture(CAPTURE.stats as string).toString('utf8').replace(/"id"\s*:\s*1/, '"id":0');
  expect(text).toContain('"id":0');
  const { sample } = await scrapeWith(Buffer.from(`${text}\0`));
  expect(sample.errors.map((e) => e.command)).toEqual(['stats']);
  expect(sample.boards).toEqual([]);
  const { faults } = evaluateMinerHealth(sample, catalogSpec(), undefined, sample.time);
  expect(faults.map((f) => f.code)).toEqual(['SCRAPE_PARTIAL']);
});

test('a miner whose required reply nests too deep fails its scrape as malformed, and health says so', async () => {
  const depth = 200_000;
  const nested = Buffer.from(`{"STATUS":[{"STATUS":"E","Code":14,"Msg":${'['.repeat(depth)}1${']'.repeat(depth)}}],"id":1}\0`);
  const miner = await replayMiner((command) => (command === 'stats' ? nested : Buffer.concat([rawFixture(CAPTURE[command] ?? CAPTURE.version as string), Buffer.from([0])])));
  try {
    const result = await scrapeMiner({ host: '127.0.0.1', port: miner.port, firmware: 'antminer-stock' });
    expect(result).toMatchObject({ ok: false, failure: { kind: 'malformed', message: expect.stringContaining('nesting deeper than') } });
    if (result.ok) return;
    const { faults } = evaluateMinerHealth(result.failure, catalogSpec(), undefined, Date.now());
    expect(faults.map((f) => f.code)).toEqual(['MINER_UNREACHABLE']);
  } finally {
    await miner.close();
  }
});
