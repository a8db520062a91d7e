/**
 * Hostile miners in a real sweep: a reply that never ends, a 50 MB reply, a connection that opens and stalls,
 * binary garbage, and a miner whose pool URL and worker name carry line-protocol and InfluxQL metacharacters.
 * None of them may delay the healthy miners, crash the exporter or corrupt what is stored.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { influxql, storedString, type InfluxStore } from '@flymining/shared';
import { SimulatedFarm, generateFarmSpecs, inventoryYaml } from '@flymining/simulator';
import { InventoryHolder } from '@flymining/shared';
import { describeSnapshots, exporterFor, freshStore, latestSnapshots, writeInventory } from './helpers';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'miner-api');
const NASTY_URL = `stratum+tcp://evil.example:3333,site=x y="1" \\\nDROP MEASUREMENT miner;' OR ''='`;
const NASTY_USER = `worker\\,tag=1 x=2i 0\n'; DROP DATABASE "e2e_hostile"; --`;

type Behaviour = (socket: net.Socket, request: string) => void;

/** A real TCP server of ours on a 127.x address, port 4028. */
async function hostileMiner(host: string, behave: Behaviour): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (d) => behave(socket, d.toString()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(4028, host, resolve);
  });
  return server;
}

/** Answers as the captured Antminer S17 Pro did, with the pool URL and worker replaced by hostile text. */
const replayS17: Behaviour = (socket, request) => {
  const command = (JSON.parse(request) as { command: string }).command;
  const file = { version: 'antminer-s17pro-version.json', stats: 'antminer-s17pro-stats.json', pools: 'antminer-s17pro-pools.json' }[command];
  if (!file) {
    socket.end(`{"STATUS":[{"STATUS":"E","When":0,"Code":14,"Msg":"Invalid command","Description":"bmminer"}],"id":1}\0`);
    return;
  }
  let text = readFileSync(path.join(FIXTURES, file), 'utf8');
  if (command === 'pools') {
    const pools = JSON.parse(text) as { POOLS: Array<Record<string, unknown>> };
    for (const p of pools.POOLS) {
      p.URL = NASTY_URL;
      p.User = NASTY_USER;
    }
    text = JSON.stringify(pools);
  }
  socket.end(text + '\0');
};

describe('hostile miners in a sweep', () => {
  const healthySpecs = generateFarmSpecs({ miners: 6, containers: 1, baseAddress: '127.34.0.1', seed: 3, profileMix: { 'antminer-s19pro': 1 } });
  const farm = new SimulatedFarm({ specs: healthySpecs, seed: 3 });
  const servers: net.Server[] = [];
  const hostile = {
    endless: '127.34.1.1',
    huge: '127.34.1.2',
    stall: '127.34.1.3',
    garbage: '127.34.1.4',
    nasty: '127.34.1.5',
  };
  let store: InfluxStore;

  beforeAll(async () => {
    await farm.start();
    servers.push(
      await hostileMiner(hostile.endless, (s) => {
        const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('{"STATUS":[')), 10);
      }),
      await hostileMiner(hostile.huge, (s) => {
        const chunk = Buffer.alloc(1 << 20, 0x7b);
        let sent = 0;
        const pump = (): void => {
          while (sent < 50 && !s.destroyed) {
            sent++;
            if (!s.write(chunk)) return void s.once('drain', pump);
          }
          s.end();
        };
        pump();
      }),
      await hostileMiner(hostile.stall, () => undefined),
      await hostileMiner(hostile.garbage, (s) => s.end(Buffer.from([0x00, 0xff, 0x13, 0x88, 0x7b, 0x22, 0xc3, 0x28, 0x00]))),
      await hostileMiner(hostile.nasty, replayS17),
    );
    store = await freshStore('e2e_hostile');
  });

  afterAll(async () => {
    await farm.stop();
    for (const s of servers) await new Promise((r) => s.close(r));
    await store.close();
  });

  test('bad miners fail alone, with their reason, and hostile text is stored as data', async () => {
    const base = inventoryYaml(healthySpecs);
    const slots = Object.entries(hostile)
      .map(([name, host], i) => `              - { slot: ${90 + i}, id: ${name}, host: ${host}, model: Antminer S17 Pro }`)
      .join('\n');
    // Append the hostile miners to the first shelf of the generated inventory.
    const yaml = base.replace(/(\n\s+slots:\n)/, `$1${slots}\n`);
    const exporter = exporterFor(new InventoryHolder(writeInventory(yaml)), store, { name: 'e2e-hostile' });

    const t0 = Date.now();
    const report = await exporter.sweep(0);
    // Each bad miner costs at most its own deadline (1.5 s read), in parallel: never the others' turns.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(report.scraped).toBe(healthySpecs.length + 5);
    await store.flush();

    const up = await store.queryRows('SELECT last(reachable) AS ok, last(failure) AS failure FROM miner_up GROUP BY miner');
    const byMiner = Object.fromEntries(up.map((r) => [r.miner as string, { ok: r.ok, failure: r.failure }]));
    expect(byMiner.endless).toEqual({ ok: 0, failure: 'timeout' });
    expect(byMiner.huge).toEqual({ ok: 0, failure: 'too-large' });
    expect(byMiner.stall).toEqual({ ok: 0, failure: 'timeout' });
    expect(byMiner.garbage).toEqual({ ok: 0, failure: 'malformed' });
    expect(byMiner.nasty).toEqual({ ok: 1, failure: '' });
    for (const s of healthySpecs) expect(byMiner[s.id]).toEqual({ ok: 1, failure: '' });

    const unreachable = exporter.health.activeFaults().filter((f) => f.code === 'MINER_UNREACHABLE');
    expect(unreachable.map((f) => f.minerId).sort()).toEqual(['endless', 'garbage', 'huge', 'stall']);
    // What the center reads: one complete snapshot holding exactly the edge's active faults (the four bad miners,
    // and whatever the nasty one's partial answers raised); the healthy ones and the nasty one answered.
    const snapshots = await latestSnapshots(store, 'e2e-hostile', 'miner');
    const active = exporter.health.activeFaults().map((f) => `${f.code} ${f.minerId} ${f.part}`.trim());
    expect(describeSnapshots(snapshots)).toEqual({ faults: active.sort(), complete: true });
    expect(active.filter((f) => f.startsWith('MINER_UNREACHABLE'))).toHaveLength(4);
    expect([...snapshots.values()].map((s) => ({ miners: s.heartbeat.miners, reachable: s.heartbeat.reachable }))).toEqual([
      { miners: healthySpecs.length + 5, reachable: healthySpecs.length + 1 },
    ]);
    const bad = await exporter.metrics.registry.getSingleMetricAsString('flymining_bad_replies_total');
    expect(Number(/flymining_bad_replies_total (\d+)/.exec(bad)?.[1])).toBeGreaterThanOrEqual(2); // huge + garbage

    // The hostile pool text is one string field, queried back by exact match; nothing else appeared.
    const pools = await store.queryRows(influxql`SELECT url, "user" FROM miner_pool WHERE miner = ${'nasty'} AND url = ${storedString(NASTY_URL)}`);
    expect(pools.length).toBeGreaterThan(0);
    expect(pools[0]?.url).toBe(storedString(NASTY_URL));
    expect(pools[0]?.user).toBe(storedString(NASTY_USER));
    const measurements = (await store.queryRows('SHOW MEASUREMENTS')).map((r) => r.name).sort();
    // The schema's own (dashboard_tier: the rollup tier table the database setup writes) and nothing made of hostile text.
    expect(measurements).toEqual(['container_sweep', 'dashboard_tier', 'edge_heartbeat', 'exporter', 'fault', 'fault_state', 'miner', 'miner_board', 'miner_fan', 'miner_pool', 'miner_up']);
    const databases = (await store.queryRows('SHOW DATABASES')).map((r) => r.name);
    expect(databases).toContain('e2e_hostile');
    expect((await store.queryRows('SELECT count(hashrate_ths) AS n FROM miner')).at(0)?.n).toBe(healthySpecs.length + 1);
  });
});
