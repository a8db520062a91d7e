/**
 * The edge settings both exporters share, the health-state file, and the clock check: a store that measures the
 * edge clock far off the center's makes the exporter say so once in its log, on /healthz and /metrics, and in its
 * heartbeats, while samples keep the edge's own time.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { SimulatedFarm, generateFarmSpecs } from '@flymining/simulator';
import { z } from 'zod';
import { InfluxStore } from '@flymining/shared';
import { ClimateExporter } from '../../src/climate/climate-exporter';
import { readClimateSettings } from '../../src/climate/main';
import { EdgeStateFile } from '../../src/common/edge/state-file';
import { startHttp } from '../../src/miner/http';
import { readSettings } from '../../src/main';
import { MinerExporter, type PointSink } from '../../src/miner/exporter';
import { freshStore, inventoryFor, latestSnapshots, tempDir } from '../e2e/helpers';

interface LogLine {
  level: number;
  msg: string;
  clockOffsetMs?: number;
}

function capturingLogger(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }), lines };
}

describe('edge settings', () => {
  it('share --name, --containers, --state-dir and --clock-tolerance between both exporters, with defaults', () => {
    const env = { FLYMINING_INVENTORY: 'farm.yaml' };
    const miner = readSettings(['node', 'x', '--name', 'edge-C02', '--containers', 'C02'], env);
    expect(miner).toMatchObject({ name: 'edge-C02', containers: ['C02'], stateDir: path.join('.flymining', 'edge', 'edge-C02'), clockToleranceS: 600 });
    const climate = readClimateSettings(['node', 'x', '--name', 'edge-C02'], env);
    expect(climate).toMatchObject({ name: 'edge-C02', stateDir: miner.stateDir, clockToleranceS: 600, containers: [] });

    const fromEnv = { ...env, FLYMINING_EDGE_NAME: 'edge-C07', FLYMINING_EDGE_STATE_DIR: '/var/lib/flymining/edge', FLYMINING_EDGE_CLOCK_TOLERANCE_S: '120', FLYMINING_CONTAINERS: 'C07, C08' };
    expect(readSettings(['node', 'x'], fromEnv)).toMatchObject({ name: 'edge-C07', stateDir: '/var/lib/flymining/edge', clockToleranceS: 120, containers: ['C07', 'C08'] });
    expect(readClimateSettings(['node', 'x', '--state-dir', '/tmp/s'], fromEnv)).toMatchObject({ name: 'edge-C07', stateDir: '/tmp/s' });
  });

  it('name the flag or variable of a bad value, and know no Redis any more', () => {
    const env = { FLYMINING_INVENTORY: 'farm.yaml' };
    expect(() => readSettings(['node', 'x', '--clock-tolerance', 'soon'], env)).toThrow(/clockToleranceS: .*--clock-tolerance or FLYMINING_EDGE_CLOCK_TOLERANCE_S/);
    expect(() => readClimateSettings(['node', 'x', '--name', 'edge C02'], env)).toThrow(/name: .*--name or FLYMINING_EDGE_NAME/);
    expect(() => readSettings(['node', 'x', '--redis', 'redis://127.0.0.1:6379/0'], env)).toThrow(/unknown option '--redis'/);
    expect(() => readClimateSettings(['node', 'x', '--redis', 'none'], env)).toThrow(/unknown option '--redis'/);
  });
});

describe('edge state file', () => {
  const schema = z.object({ count: z.number().int() });

  it('saves atomically and reads back; no temporary file is left', () => {
    const dir = path.join(tempDir('state-file'), 'nested', 'edge-C01');
    const { log } = capturingLogger();
    const file = new EdgeStateFile(path.join(dir, 'miner-health.json'), schema, log);
    expect(file.load()).toBeUndefined();
    file.save({ count: 3 });
    file.save({ count: 4 });
    expect(new EdgeStateFile(file.file, schema, log).load()).toEqual({ count: 4 });
    expect(readdirSync(dir)).toEqual(['miner-health.json']);
  });

  it('starts fresh from a damaged or foreign file, saying which file and field', () => {
    const dir = tempDir('state-file');
    const { log, lines } = capturingLogger();
    const target = path.join(dir, 'miner-health.json');
    writeFileSync(target, '{"format":1,"savedAtMs":1,"state":{"count":"three"}}');
    expect(new EdgeStateFile(target, schema, log).load()).toBeUndefined();
    writeFileSync(target, '{"format":1,"savedAtMs":1,"st');
    expect(new EdgeStateFile(target, schema, log).load()).toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(new RegExp(`edge state ${target} refused \\(state\\.count: .*\\); starting fresh`)),
      expect.stringMatching(new RegExp(`edge state ${target} is not JSON .*; starting fresh`)),
    ]);
  });

  it('reports a folder it cannot write to once, not every sweep', () => {
    const dir = tempDir('state-file');
    mkdirSync(path.join(dir, 'blocked'));
    writeFileSync(path.join(dir, 'blocked', 'edge'), 'a file where the folder should be');
    const { log, lines } = capturingLogger();
    const file = new EdgeStateFile(path.join(dir, 'blocked', 'edge', 'miner-health.json'), schema, log);
    for (let i = 0; i < 3; i++) file.save({ count: i });
    expect(lines.filter((l) => l.msg.includes('cannot save edge state'))).toHaveLength(1);
    expect(existsSync(file.file)).toBe(false);
  });
});

test('an edge clock off the center by more than the tolerance is logged once, on /healthz and /metrics, and in the heartbeats', async () => {
  const specs = generateFarmSpecs({ miners: 2, containers: 1, baseAddress: '127.52.0.1', seed: 6, profileMix: { 'antminer-s19pro': 1 } });
  const farm = new SimulatedFarm({ specs, seed: 6 });
  await farm.start();
  const store = await freshStore('edge_clock');
  // The store as it reports after the center's Date header said the edge is 15 minutes ahead.
  let offsetMs = -15 * 60_000;
  const sink: PointSink = { write: (lines) => store.write(lines), stats: () => ({ ...store.stats(), clockOffsetMs: offsetMs }) };
  const { log, lines } = capturingLogger();
  const exporter = new MinerExporter(
    inventoryFor(specs),
    sink,
    { name: 'edge-clock', intervalMs: 30_000, jitterMs: 0, concurrency: 8, transport: { connectTimeoutMs: 1000, readTimeoutMs: 1500, maxBytes: 1 << 20 }, clockToleranceMs: 600_000 },
    log,
  );
  let server: Server | undefined;
  try {
    server = await startHttp(exporter, { influxReachable: () => true }, '127.0.0.1', 0);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sweeps = [await exporter.sweep(0), await exporter.sweep(0)];

    const health = (await (await fetch(`${base}/healthz`)).json()) as { status: string; problems: string[]; edge: { clock: unknown } };
    expect(health.status).toBe('degraded');
    expect(health.problems).toEqual([expect.stringMatching(/edge clock is 900 s ahead of the center \(tolerance 600 s\).*NTP/)]);
    expect(health.edge.clock).toEqual({ offsetMs: -900_000, skewed: true });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^flymining_edge_clock_offset_seconds -900$/m);
    expect(metrics).toMatch(/^flymining_edge_clock_skewed 1$/m);
    const warned = lines.filter((l) => l.msg.includes('edge clock is'));
    expect(warned).toEqual([expect.objectContaining({ level: 50, clockOffsetMs: -900_000 })]); // once for two sweeps

    // Stamped with the edge's own clock, and each heartbeat carries the offset for the center to page on.
    await store.flush();
    const [beat] = (await latestSnapshots(store, 'edge-clock', 'miner')).values();
    expect(beat?.heartbeat).toMatchObject({ time: sweeps[1]!.startedAt, clockOffsetMs: -900_000, seq: 2 });
    const [up] = await store.queryRows(`SELECT last(reachable) FROM miner_up WHERE miner = '${specs[0]!.id}'`);
    expect(Math.abs(up!.time - sweeps[1]!.startedAt)).toBeLessThan(5000);

    // Fixed: back to ok, said once.
    offsetMs = 1200;
    await exporter.sweep(0);
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ status: 'ok', problems: [] });
    expect(lines.filter((l) => l.msg.includes('back within'))).toHaveLength(1);
  } finally {
    server?.close();
    await store.close();
    await farm.stop();
  }
});

test('the saved health state is plain JSON a technician can read', async () => {
  const specs = generateFarmSpecs({ miners: 1, containers: 1, baseAddress: '127.52.1.1', seed: 7, profileMix: { 'antminer-s19pro': 1 } });
  const farm = new SimulatedFarm({ specs, seed: 7 });
  await farm.start();
  const store = await freshStore('edge_state');
  const stateDir = tempDir('edge-state');
  try {
    farm.miner(specs[0]!.id)!.applyFault({ fault: 'stopFan', index: 0 });
    const exporter = new MinerExporter(inventoryFor(specs), store, { name: 'edge-state', intervalMs: 30_000, jitterMs: 0, concurrency: 4, stateDir }, capturingLogger().log);
    await exporter.sweep(0);
    const saved = JSON.parse(readFileSync(path.join(stateDir, 'miner-health.json'), 'utf8')) as { format: number; state: { miners: Record<string, { active: Record<string, { code: string }> }> } };
    expect(saved.format).toBe(1);
    expect(Object.values(saved.state.miners[specs[0]!.id]!.active).map((f) => f.code)).toEqual(['FAN_STOPPED']);
  } finally {
    await store.close();
    await farm.stop();
  }
});

test('a climate evaluation does not wait on an uplink that never answers: its heartbeat is written within seconds', async () => {
  // An "InfluxDB" that accepts connections and never answers: a query over it would hang until the store's timeout.
  const sockets = new Set<net.Socket>();
  const blackHole = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  const store = new InfluxStore(
    { url: `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`, database: 'nowhere', timeoutMs: 60_000, spool: { dir: tempDir('spool') } },
    { logger: capturingLogger().log },
  );
  const exporter = new ClimateExporter([], store, { name: 'edge-slow', mqttUrl: 'mqtt://127.0.0.1:1', intervalS: 10, containers: [{ site: 's', container: 'C1' }] }, capturingLogger().log);
  try {
    const started = Date.now();
    await exporter.evaluate(started);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(exporter.edge.status()).toMatchObject({ seq: 1 });
  } finally {
    for (const s of sockets) s.destroy();
    blackHole.close();
    await store.close();
  }
});
