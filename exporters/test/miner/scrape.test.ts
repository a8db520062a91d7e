/**
 * One scrape over real TCP against a miner of ours that replays a real capture (Antminer S19 Pro, 2022) byte for
 * byte and refuses one command with code 45, as Hiveon does for read commands.
 */
import { emptyHealthState, evaluateMinerHealth } from '../../src/miner/health';
import { scrapeMiner } from '../../src/miner/scrape';
import { catalogSpec, rawFixture, replayMiner } from './fixtures';

const REPLIES: Record<string, string> = {
  version: 'antminer-s19pro-2022-version.json',
  stats: 'antminer-s19pro-2022-stats.json',
  pools: 'antminer-s19pro-2022-pools.json',
};
const ACCESS_DENIED = '{"STATUS":[{"STATUS":"E","When":1650000000,"Code":45,"Msg":"Access denied to \'summary\' command","Description":"cgminer 1.0.0"}],"id":1}';

test('a refused optional command leaves a partial sample, not a failed scrape', async () => {
  const miner = await replayMiner((command) => {
    const file = REPLIES[command];
    return Buffer.concat([file ? rawFixture(file) : Buffer.from(ACCESS_DENIED), Buffer.from([0])]);
  });
  const port = miner.port;
  try {
    const result = await scrapeMiner({ host: '127.0.0.1', port });
    if (!result.ok) throw new Error(`scrape failed: ${result.failure.message}`);
    expect(result.dialect.family).toBe('antminer-stock');
    const s = result.sample;
    expect(s.errors).toEqual([expect.objectContaining({ command: 'summary', kind: 'access-denied' })]);
    // Values from the capture's stats: three boards, hashing, a sane hashrate in TH/s.
    expect(s.mode).toBe('hashing');
    expect(s.boards.filter((b) => b.present)).toHaveLength(3);
    expect(s.hashrateThs).toBeGreaterThan(80);
    expect(s.hashrateThs).toBeLessThan(130);
    expect(s.pools.length).toBeGreaterThan(0);
    const { faults } = evaluateMinerHealth(s, catalogSpec(), emptyHealthState(), s.time);
    expect(faults.map((f) => `${f.code} ${f.severity}`)).toEqual(['SCRAPE_PARTIAL info']);
  } finally {
    await miner.close();
  }
});
