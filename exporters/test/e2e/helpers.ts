import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  InfluxStore,
  InventoryHolder,
  createLogger,
  ensureDatabase,
  faultFromStateRow,
  heartbeatFromRow,
  ident,
  influxql,
  raw,
  schemaRetention,
  type EdgeHeartbeat,
  type EdgeSource,
  type Fault,
  type InfluxConfigInput,
} from '@flymining/shared';
import { PROFILE_IDS, generateFarmSpecs, inventoryYaml, type SimMinerSpec } from '@flymining/simulator';
import { MinerExporter } from '../../src/miner/exporter';

/** Two miners of every simulated profile, on their own 127.x addresses (so tests running at once never collide). */
export function mixedFarmSpecs(baseAddress: string, perProfile = 2): SimMinerSpec[] {
  const n = PROFILE_IDS.length * perProfile;
  return generateFarmSpecs({ miners: n, containers: 2, racksPerContainer: 2, shelvesPerRack: 2, slotsPerShelf: 5, baseAddress, seed: 11 }).map(
    (spec, i) => ({ ...spec, profile: PROFILE_IDS[i % PROFILE_IDS.length]! }),
  );
}

export function writeInventory(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'flymining-e2e-'));
  const file = path.join(dir, 'farm.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function inventoryFor(specs: SimMinerSpec[], detectFirmware = true): InventoryHolder {
  return new InventoryHolder(writeInventory(inventoryYaml(specs, { detectFirmware })));
}

export async function freshStore(database: string, extra: Partial<InfluxConfigInput> = {}, url = process.env.FLYMINING_TEST_INFLUX_URL as string): Promise<InfluxStore> {
  const store = new InfluxStore({
    url,
    database,
    flushIntervalMs: 200,
    spool: { dir: mkdtempSync(path.join(tmpdir(), 'flymining-spool-')), replayIntervalMs: 200 },
    ...extra,
  });
  await store.query(`DROP DATABASE "${database}"`).catch(() => undefined);
  await ensureDatabase(store, schemaRetention(database));
  return store;
}

export interface TestExporterOptions {
  /** The edge name in heartbeats and fault_state rows. */
  name?: string;
  /** Keep the health state here across "restarts" (a new exporter on the same folder). */
  stateDir?: string;
  containers?: string[];
}

export function exporterFor(inventory: InventoryHolder, store: InfluxStore, options: TestExporterOptions = {}): MinerExporter {
  return new MinerExporter(
    inventory,
    store,
    {
      name: options.name ?? 'e2e',
      intervalMs: 30_000,
      jitterMs: 0,
      concurrency: 64,
      transport: { connectTimeoutMs: 1000, readTimeoutMs: 1500, maxBytes: 1024 * 1024 },
      containers: options.containers,
      stateDir: options.stateDir,
    },
    createLogger('e2e', 'silent'),
  );
}

/** A new empty folder, e.g. an edge's state folder. */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `flymining-${prefix}-`));
}

/** Polls until `check` holds; the error says what was awaited and, if given, what was seen last. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, seen?: () => unknown): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; last seen: ${JSON.stringify(seen())}` : ''}`);
}

export interface Snapshot {
  container: string;
  heartbeat: EdgeHeartbeat;
  faults: Array<Fault & { source: string }>;
}

/**
 * What the center would read: per container, the newest heartbeat of this edge and source (or the one at `at`) and
 * the fault_state rows at its time, parsed with the center's own row parsers.
 */
export async function latestSnapshots(store: InfluxStore, edge: string, source: EdgeSource, at?: number): Promise<Map<string, Snapshot>> {
  const which = raw(at === undefined ? '' : influxql` AND time = ${new Date(at)}`);
  const heads = await store.queryRows(
    influxql`SELECT * FROM ${ident('edge_heartbeat')} WHERE ${ident('edge')} = ${edge} AND ${ident('source')} = ${source}${which} GROUP BY ${ident('container')} ORDER BY time DESC LIMIT 1`,
  );
  const out = new Map<string, Snapshot>();
  for (const row of heads) {
    const heartbeat = heartbeatFromRow(row);
    if (!heartbeat) throw new Error(`not a heartbeat row: ${JSON.stringify(row)}`);
    const rows = await store.queryRows(
      influxql`SELECT * FROM ${ident('fault_state')} WHERE ${ident('edge')} = ${edge} AND ${ident('source')} = ${source} AND ${ident('container')} = ${heartbeat.container} AND time = ${new Date(heartbeat.time)}`,
    );
    const faults = rows.map((r) => {
      const fault = faultFromStateRow(r);
      if (!fault) throw new Error(`not a fault_state row: ${JSON.stringify(r)}`);
      return fault;
    });
    out.set(heartbeat.container, { container: heartbeat.container, heartbeat, faults });
  }
  return out;
}

/** Each snapshot's fault rows as "code miner part", sorted; and whether every heartbeat counts its rows right. */
export function describeSnapshots(snapshots: Map<string, Snapshot>): { faults: string[]; complete: boolean } {
  const all = [...snapshots.values()];
  return {
    faults: all.flatMap((s) => s.faults.map((f) => `${f.code} ${f.minerId} ${f.part}`.trim())).sort(),
    complete: all.every((s) => s.heartbeat.activeFaults === s.faults.length),
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:port (e.g. a broker the test started). */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
