/**
 * One scrape over real TCP against a miner of ours that replays a real capture (Antminer S19 Pro, 2022) byte for
 * byte and refuses one command with code 45, as Hiveon does for read commands.
 */
import net from 'node:net';
import { DEFAULT_THRESHOLDS, MODEL_CATALOG, type MinerSpec } from '@flymining/shared';
import { emptyHealthState, evaluateMinerHealth } from '../../src/health';
import { scrapeMiner } from '../../src/miner/scrape';
import { rawFixture } from './fixtures';

const REPLIES: Record<string, string> = {
  version: 'antminer-s19pro-2022-version.json',
  stats: 'antminer-s19pro-2022-stats.json',
  pools: 'antminer-s19pro-2022-pools.json',
};
const ACCESS_DENIED = '{"STATUS":[{"STATUS":"E","When":1650000000,"Code":45,"Msg":"Access denied to \'summary\' command","Description":"cgminer 1.0.0"}],"id":1}';

/** The inventory entry of the captured S19 Pro: catalog expectations, one slot. */
function specFromInventory(): MinerSpec {
  const model = MODEL_CATALOG['Antminer S19 Pro']!;
  return {
    id: 'C01-R01-S1-1',
    host: '127.0.0.1',
    port: 4028,
    model: 'Antminer S19 Pro',
    nominalThs: model.nominalThs,
    fans: model.fans,
    hashboards: model.hashboards,
    chipsPerBoard: model.chipsPerBoard,
    cooling: 'air',
    thresholds: DEFAULT_THRESHOLDS,
    location: { site: 'north-1', container: 'C01', rack: 'R01', shelf: 'S1', slot: '1' },
  };
}

test('a refused optional command leaves a partial sample, not a failed scrape', async () => {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (d) => {
      const { command } = JSON.parse(d.toString()) as { command: string };
      const file = REPLIES[command];
      socket.end(Buffer.concat([file ? rawFixture(file) : Buffer.from(ACCESS_DENIED), Buffer.from([0])]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
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
    const { faults } = evaluateMinerHealth(s, specFromInventory(), emptyHealthState(), s.time);
    expect(faults.map((f) => `${f.code} ${f.severity}`)).toEqual(['SCRAPE_PARTIAL info']);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
