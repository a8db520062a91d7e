/** Test helpers: one simulated miner on its own loopback address, with a controllable clock. */
import { SimMiner, type SimMinerSpec } from '../src/miner';
import { MinerServer } from '../src/server';
import { sendCommand, sendRaw, type RawReply } from '../src/client';
import type { ProfileId } from '../src/catalog';

export interface TestClock {
  now: number;
  (): number;
}

export function testClock(start = Date.UTC(2026, 10, 24, 20, 0, 0)): TestClock {
  const clock = (() => clock.now) as TestClock;
  clock.now = start;
  return clock;
}

export interface SingleMiner {
  miner: SimMiner;
  server: MinerServer;
  clock: TestClock;
  spec: SimMinerSpec;
  command(command: string, timeoutMs?: number): Promise<RawReply>;
  json(command: string): Promise<Record<string, unknown>>;
  raw(payload: string | Buffer): Promise<RawReply>;
  stop(): Promise<void>;
}

export async function startMiner(profile: ProfileId, host: string, port = 4028): Promise<SingleMiner> {
  const clock = testClock();
  const spec: SimMinerSpec = {
    id: `test-${profile}`,
    host,
    port,
    profile,
    position: { site: 'T', container: 'C01', rack: 'R01', shelf: 'S1', slot: '1' },
  };
  const miner = new SimMiner(spec, 42, clock);
  const server = new MinerServer(miner, clock);
  await server.start();
  return {
    miner,
    server,
    clock,
    spec,
    command: (c, t) => sendCommand(host, port, c, t),
    json: async (c) => JSON.parse((await sendCommand(host, port, c)).text.replace(/\}\{/g, '},{')) as Record<string, unknown>,
    raw: (payload) => sendRaw(host, port, payload),
    stop: () => server.stop(),
  };
}

/** Narrowing helpers so tests can walk parsed replies without `any`. */
export function obj(value: unknown, what = 'value'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

export function arr(value: unknown, what = 'value'): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not an array: ${JSON.stringify(value)}`);
  return value;
}

/** The first element of reply[section]. */
export function first(reply: Record<string, unknown>, section: string, index = 0): Record<string, unknown> {
  return obj(arr(reply[section], section)[index], `${section}[${index}]`);
}
