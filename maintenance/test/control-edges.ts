/**
 * A center and its edges for the control tests, all real: the maintenance staff server (PostgreSQL, Redis tokens),
 * simulated Braiins OS miners in two containers (REST on 8080 with the firmware's login, CGMiner API on 4028, each on
 * its own 127.x address), and per container an edge poller (exporters/src/control/remote.ts) with its own token, the
 * edge's copy of the inventory and a ControlExecutor writing its audit file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { loadInventory, type Inventory } from '@flymining/shared';
import { SimulatedFarm, inventoryYaml, type SimMiner, type SimMinerSpec } from '@flymining/simulator';
import pino from 'pino';
import { CenterLink, RemoteControl } from '../../exporters/src/control/remote';
import { CredentialStore } from '../../exporters/src/miner/credentials';
import { AuditFile, type AuditLine } from '../../exporters/src/miner/control/audit';
import { ControlExecutor } from '../../exporters/src/miner/control/executor';
import { ActionHistory } from '../../exporters/src/miner/control/history';
import { startStaffServer, type StaffServer } from './staff-server';

export interface Edge {
  container: string;
  token: string;
  remote: RemoteControl;
  auditFile: string;
  /** Everything the edge logged, as text. */
  log(): string;
  audit(): AuditLine[];
}

export interface EdgeOptions {
  token?: string;
  containers?: string[];
  /** The edge's own copy of the inventory (default: the center's). */
  inventory?: Inventory;
}

export interface ControlRig {
  center: StaffServer;
  farm: SimulatedFarm;
  inventory: Inventory;
  edges: { C01: Edge; C02: Edge };
  /** A token with control:write. */
  operator: string;
  miner(id: string): SimMiner;
  /** Another edge poller for a container: with another token, container list or inventory copy. */
  edge(container: string, options?: EdgeOptions): Edge;
  close(): Promise<void>;
}

const TRANSPORT = { connectTimeoutMs: 1000, readTimeoutMs: 4000, maxBytes: 1024 * 1024 };

/** Miners `<container>-R01-S1-<n>` at `<prefix>.<k>`, `perContainer` in each of C01 and C02. */
export async function startControlRig(name: string, addressPrefix: string, perContainer = 2): Promise<ControlRig> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `flymining-control-${name}-`));
  const specs: SimMinerSpec[] = [];
  for (const [c, container] of ['C01', 'C02'].entries()) {
    for (let n = 1; n <= perContainer; n++) {
      specs.push({
        id: `${container}-R01-S1-${n}`,
        host: `${addressPrefix}.${c * perContainer + n}`,
        port: 4028,
        httpPort: 8080,
        profile: 'braiins-s19xp',
        position: { site: 'SIM', container, rack: 'R01', shelf: 'S1', slot: String(n) },
      });
    }
  }
  const farm = new SimulatedFarm({ specs, seed: 3 });
  await farm.start();
  writeFileSync(path.join(dir, 'farm.yaml'), inventoryYaml(specs, { protocols: true }));
  const inventory = loadInventory(path.join(dir, 'farm.yaml'));
  const center = await startStaffServer(`control_${name}`, { control: { inventory: () => inventory } });
  const operator = await center.tokens.token('control:write');
  const tokens: Record<string, string> = {};
  for (const c of ['C01', 'C02']) tokens[c] = (await center.tokens.store.add(`edge-${c}`, ['control:edge'])).token;

  const made: Edge[] = [];
  const edge = (container: string, options: EdgeOptions = {}): Edge => {
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    const auditFile = path.join(dir, `audit-${container}-${made.length}.jsonl`);
    const history = new ActionHistory();
    const executor = new ControlExecutor({
      history,
      audit: [new AuditFile(auditFile, log)],
      confirm: { timeoutMs: 15_000, intervalMs: 250 },
      scrape: { transport: TRANSPORT },
    });
    const remote = new RemoteControl({
      link: new CenterLink(center.url, options.token ?? (tokens[container] as string), { timeoutMs: 5000 }),
      containers: options.containers ?? [container],
      inventory: () => options.inventory ?? inventory,
      executor,
      credentials: new CredentialStore(),
      log,
      intervalMs: 250,
      maxBackoffMs: 1000,
      progressEveryMs: 250,
    });
    const one: Edge = {
      container,
      token: options.token ?? (tokens[container] as string),
      remote,
      auditFile,
      log: () => text,
      audit: () =>
        readFileSync(auditFile, { encoding: 'utf8', flag: 'a+' })
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as AuditLine),
    };
    made.push(one);
    return one;
  };
  const edges = { C01: edge('C01'), C02: edge('C02') };
  return {
    center,
    farm,
    inventory,
    edges,
    operator,
    miner: (id) => {
      const m = farm.miner(id);
      if (!m) throw new Error(`no simulated miner ${id}`);
      return m;
    },
    edge,
    async close() {
      for (const e of made) {
        await e.remote.stop();
        await e.remote.inFlight();
      }
      await farm.stop();
      await center.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
