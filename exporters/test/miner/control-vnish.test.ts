/**
 * The VNish write path (HTTP `/api/v1`, unlock token) against the simulator's S19j Pro on VNish 1.2.6 over real
 * sockets, read through `vnish/v1` (mode, preset, power) and its CGMiner API on 4028 (pools); and an S9 on the old
 * VNish 3.8.6, which has no such API.
 */
import type { MinerSample } from '@flymining/shared';
import { VNISH_WRITES, vnishControl } from '../../src/miner/backends/vnish/control';
import { openControlLink } from '../../src/miner/control/link';
import { ControlError, refusalFor } from '../../src/miner/control/types';
import { ControlFarm, waitUntilDown, type ReadAs } from './control-farm';
import { startHttpServer } from './next-servers';

const ADMIN = { user: 'admin', password: 'admin' };
const HTTP: ReadAs = { backend: 'vnish/v1', credentials: ADMIN };
const CGMINER: ReadAs = {};
const POOLS = [
  { url: 'stratum+tcp://pool-1.example:3333', user: 'acct.vn', password: 'x' },
  { url: 'stratum+tcp://pool-2.example:3333', user: 'acct.vn', password: 'x' },
  { url: 'stratum+tcp://pool-3.example:3333', user: 'acct.vn', password: 'x' },
];

let farm: ControlFarm;

beforeAll(async () => {
  farm = await ControlFarm.start('127.214.3.1', ['antminer-s19jpro-vnish', 'antminer-s9-vnish']);
});

afterAll(async () => {
  await farm?.stop();
});

const read = async (as: ReadAs = HTTP): Promise<MinerSample> => (await farm.sample('antminer-s19jpro-vnish', as)).sample;

describe('capabilities', () => {
  test('VNish 1.x (read over HTTP or on 4028): sleep, presets in watts, three pools with switching, blink', async () => {
    for (const as of [HTTP, CGMINER]) {
      const { sample, backend, readId } = await farm.sample('antminer-s19jpro-vnish', as);
      expect(backend).toBe(vnishControl);
      expect(['vnish/v1', 'vnish']).toContain(readId);
      const caps = backend.capabilities(sample);
      expect(caps).toMatchObject({ reboot: true, sleep: true, power: { kind: 'watts' }, pools: { maxSlots: 3, canSwitch: true }, blink: true });
      expect(refusalFor({ kind: 'pools', pools: [...POOLS, POOLS[0]!] }, caps)).toMatch(/at most 3 pools, 4 given/);
    }
  });

  test('VNish 3.8.6 on an S9 (no /api/v1): nothing is offered, and a sleep is refused saying why', async () => {
    const { sample, readId } = await farm.sample('antminer-s9-vnish');
    expect(readId).toBe('vnish');
    const caps = vnishControl.capabilities(sample);
    expect(refusalFor({ kind: 'sleep' }, caps)).toMatch(/VNish before 1\.x/);
    expect(refusalFor({ kind: 'blink', on: true }, caps)).toMatch(/no locate LED/);
    await expect(vnishControl.execute({ kind: 'reboot' }, farm.link('antminer-s9-vnish', 'vnish', ADMIN), sample)).rejects.toMatchObject({ kind: 'unsupported' });
  });
});

describe('S19j Pro on VNish 1.2.6', () => {
  test('stop: the read shows sleeping (on both APIs); start: starting, then hashing', async () => {
    await farm.act('antminer-s19jpro-vnish', { kind: 'sleep' }, HTTP, ADMIN);
    expect((await read()).mode).toBe('sleeping');
    expect((await read(CGMINER)).mode).toBe('sleeping');
    await farm.act('antminer-s19jpro-vnish', { kind: 'wake' }, HTTP, ADMIN);
    expect((await read()).mode).toBe('booting');
    await farm.advance(31);
    expect((await read()).mode).toBe('hashing');
  });

  test('power: a preset by its watts shows as the target and lowers the draw; a target that is no preset is refused with the list', async () => {
    const before = await read();
    const typical = farm.unit('antminer-s19jpro-vnish').miner.profile.typicalPowerW;
    const presets = [0.7, 0.85, 1].map((k) => Math.round(typical * k));
    await farm.act('antminer-s19jpro-vnish', { kind: 'power', target: { watts: presets[1]! } }, HTTP, ADMIN);
    const after = await read();
    expect(after).toMatchObject({ workMode: 'preset', powerTargetW: presets[1] });
    expect(after.powerW!).toBeLessThan(before.powerW!);

    const err = await farm.act('antminer-s19jpro-vnish', { kind: 'power', target: { watts: presets[1]! + 7 } }, HTTP, ADMIN).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(err).toMatchObject({ kind: 'refused', retryable: false });
    expect((err as Error).message).toContain(`(${presets.join(', ')} W)`);
    expect((await read()).powerTargetW).toBe(presets[1]);
  });

  test('pools: the new list shows on 4028; switch to the third, and the read has it active', async () => {
    await farm.act('antminer-s19jpro-vnish', { kind: 'pools', pools: POOLS }, HTTP, ADMIN);
    const set = await read(CGMINER);
    expect(set.pools.map((p) => [p.url, p.user])).toEqual(POOLS.map((p) => [p.url, p.user]));
    expect(set.pools.findIndex((p) => p.active)).toBe(0);
    await farm.act('antminer-s19jpro-vnish', { kind: 'switch-pool', index: 2 }, HTTP, ADMIN);
    expect((await read(CGMINER)).pools.findIndex((p) => p.active)).toBe(2);
  });

  test('a switch to a pool the unit does not have: the firmware refuses it (500 {"err"}), in its words', async () => {
    const { sample } = await farm.sample('antminer-s19jpro-vnish', HTTP);
    const err = await vnishControl.execute({ kind: 'switch-pool', index: 3 }, farm.link('antminer-s19jpro-vnish', 'vnish', ADMIN), sample).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'refused' });
    expect((err as Error).message).toMatch(/pool 3 not found/);
  });

  test('find-miner on and off: the unit blinks and /status says find_miner; a second "on" is not sent again', async () => {
    const { miner } = farm.unit('antminer-s19jpro-vnish');
    const link = farm.link('antminer-s19jpro-vnish', 'vnish', ADMIN);
    await farm.act('antminer-s19jpro-vnish', { kind: 'blink', on: true }, HTTP, ADMIN);
    expect(miner.commandedState().blinking).toBe(true);
    expect((await link.http('GET', VNISH_WRITES.status)).find_miner).toBe(true);
    const writes = miner.writes().length;
    expect((await farm.act('antminer-s19jpro-vnish', { kind: 'blink', on: true }, HTTP, ADMIN)).reply).toMatch(/already on/);
    expect(miner.writes()).toHaveLength(writes);
    await farm.act('antminer-s19jpro-vnish', { kind: 'blink', on: false }, HTTP, ADMIN);
    expect(miner.commandedState().blinking).toBe(false);
  });

  test('reboot: "after" seconds in the answer, the API goes down, then the uptime restarts', async () => {
    const before = await read();
    const reply = await farm.act('antminer-s19jpro-vnish', { kind: 'reboot' }, HTTP, ADMIN);
    expect(reply.reply).toBe('reboot in 3 s');
    await waitUntilDown(farm, 'antminer-s19jpro-vnish');
    await farm.advance(21);
    const after = await read(CGMINER);
    expect(after.uptimeS!).toBeLessThan(Math.min(60, before.uptimeS ?? Infinity));
  });
});

describe('the simulated firmware guards its writes', () => {
  test('a POST without the token is 401 and changes nothing; a body over 16 KB is 413', async () => {
    const { spec, miner } = farm.unit('antminer-s19jpro-vnish');
    const writes = miner.writes().length;
    const anonymous = await fetch(`http://${spec.host}:8080${VNISH_WRITES.stop}`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const link = farm.link('antminer-s19jpro-vnish', 'vnish', ADMIN);
    await expect(link.http('POST', '/api/v1/settings', { miner: { pools: [{ url: 'x'.repeat(17_000), user: 'u', pass: 'x' }] } })).rejects.toThrow(/HTTP 413|reset/);
    expect(miner.writes()).toHaveLength(writes);
  });
});

describe('refusals and hostile answers', () => {
  test('wrong password: refused (403 on unlock), naming the miner, never the password', async () => {
    const secret = 'vnish-wrong-pw-1234';
    const { sample } = await farm.sample('antminer-s19jpro-vnish', HTTP);
    const err = await vnishControl.execute({ kind: 'sleep' }, farm.link('antminer-s19jpro-vnish', 'vnish', { user: 'admin', password: secret }), sample).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'refused', retryable: false });
    expect((err as Error).message).toContain(farm.unit('antminer-s19jpro-vnish').spec.host);
    expect((err as Error).message).toMatch(/403/);
    expect((err as Error).message).not.toContain(secret);
    expect(farm.unit('antminer-s19jpro-vnish').miner.commandedState().sleeping).toBe(false);
  });

  test('an endless body: failed within the bounds', async () => {
    const { sample } = await farm.sample('antminer-s19jpro-vnish', HTTP);
    const { miner } = farm.unit('antminer-s19jpro-vnish');
    miner.applyFault({ fault: 'hostile', mode: 'http-endless-body' });
    try {
      const err = await vnishControl.execute({ kind: 'sleep' }, farm.link('antminer-s19jpro-vnish', 'vnish', ADMIN), sample).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'failed' });
    } finally {
      miner.applyFault({ fault: 'hostile', mode: 'off' });
    }
  });

  test('a presets answer that is no list: failed, and no settings are written', async () => {
    const server = await startHttpServer({ routes: { '/api/v1/unlock': '{"token":"t0k3n"}', [VNISH_WRITES.presets]: '{"presets":"all of them"}', '/api/v1/settings': '{}' } });
    try {
      const link = openControlLink('vnish', '127.0.0.1', server.port, { credentials: ADMIN });
      const sample: MinerSample = { time: 0, vendor: 'antminer', firmware: 'vnish', protocol: 'vnish', model: 'Antminer S19j Pro', mode: 'hashing', boards: [], fans: [], pools: [], errors: [] };
      const err = await vnishControl.execute({ kind: 'power', target: { watts: 2600 } }, link, sample).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'failed' });
      expect(server.counters.requests.filter((r) => r.startsWith('POST /api/v1/settings'))).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
