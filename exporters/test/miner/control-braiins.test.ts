/**
 * The Braiins OS+ write path (REST `/api/v1`, token login) against the simulator's BOS 25.07 (S19 XP) and 26.04
 * (S21 Pro) units over real sockets, read through `braiins/v25_07`; and a BOS S9 read on 4028.
 */
import type { MinerSample } from '@flymining/shared';
import { BRAIINS_REST_WRITES, braiinsControl } from '../../src/miner/backends/braiins/control';
import { BRAIINS_REST } from '../../src/miner';
import { openControlLink } from '../../src/miner/control/link';
import { ControlError, refusalFor } from '../../src/miner/control/types';
import { ControlFarm, waitUntilDown, type ReadAs } from './control-farm';
import { nextRaw, rawJson } from './next-fixtures';
import { startHttpServer } from './next-servers';

const ROOT = { user: 'root', password: 'root' };
const REST: ReadAs = { backend: 'braiins/v25_07', credentials: ROOT };
const POOLS = [
  { url: 'stratum+tcp://eu.pool.example:3333', user: 'acct.s19xp', password: 'x' },
  { url: 'stratum+tcp://us.pool.example:3333', user: 'acct.s19xp', password: 'x' },
];

let farm: ControlFarm;

beforeAll(async () => {
  farm = await ControlFarm.start('127.214.2.1', ['braiins-s19xp', 'braiins-s21pro', 'braiins-s9']);
});

afterAll(async () => {
  await farm?.stop();
});

const read = async (profile: Parameters<ControlFarm['read']>[0], as: ReadAs = REST): Promise<MinerSample> => (await farm.sample(profile, as)).sample;

describe('capabilities', () => {
  test('REST: sleep, power target in watts, up to three pools, blink; no pool switch and why', async () => {
    const { sample, backend, readId } = await farm.sample('braiins-s19xp', REST);
    expect([readId, backend]).toEqual(['braiins/v25_07', braiinsControl]);
    const caps = backend.capabilities(sample);
    expect(caps).toMatchObject({ reboot: true, sleep: true, power: { kind: 'watts' }, pools: { maxSlots: 3, canSwitch: false }, blink: true, needsCredentials: true });
    expect(refusalFor({ kind: 'switch-pool', index: 1 }, caps)).toMatch(/no pool switch/);
    expect(refusalFor({ kind: 'power', target: { mode: 'low' } }, caps)).toMatch(/takes a target in watts/);
  });

  test('read on 4028 (no model, no release named): offered over REST with that caveat; an S9 model is offered nothing', async () => {
    const { sample, readId } = await farm.sample('braiins-s9');
    expect(readId).toBe('braiins-os');
    expect(braiinsControl.capabilities(sample).notes?.join(' ')).toMatch(/names neither model nor BOS release/);
    const s9 = braiinsControl.capabilities({ ...sample, model: 'Antminer S9' });
    expect(refusalFor({ kind: 'sleep' }, s9)).toMatch(/S9 has no REST API/);
    expect(refusalFor({ kind: 'reboot' }, s9)).toMatch(/cannot reboot/);
  });
});

describe('S19 XP on BOS 25.07', () => {
  test('pause: the read shows sleeping; resume: booting (not started), then hashing', async () => {
    const slept = await farm.act('braiins-s19xp', { kind: 'sleep' }, REST, ROOT);
    expect(slept.reply).toMatch(/already paused: false/);
    expect((await read('braiins-s19xp')).mode).toBe('sleeping');
    expect((await farm.act('braiins-s19xp', { kind: 'sleep' }, REST, ROOT)).reply).toMatch(/already paused: true/);
    await farm.act('braiins-s19xp', { kind: 'wake' }, REST, ROOT);
    expect((await read('braiins-s19xp')).mode).toBe('booting');
    await farm.advance(31);
    expect((await read('braiins-s19xp')).mode).toBe('hashing');
  });

  test('power target: the tuner state shows it and the unit draws less; outside the envelope the firmware refuses with its limits', async () => {
    const before = await read('braiins-s19xp');
    const { miner } = farm.unit('braiins-s19xp');
    const { minW, maxW } = miner.powerTargetLimits();
    const target = Math.round(minW + (maxW - minW) * 0.3);
    expect((await farm.act('braiins-s19xp', { kind: 'power', target: { watts: target } }, REST, ROOT)).reply).toBe(`power target ${target} W`);
    const after = await read('braiins-s19xp');
    expect(after).toMatchObject({ workMode: 'power-target', powerTargetW: target });
    expect(after.powerW!).toBeLessThan(before.powerW!);

    // 600 W passes our plausibility band; the unit's own envelope refuses it.
    const err = await farm.act('braiins-s19xp', { kind: 'power', target: { watts: 600 } }, REST, ROOT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(err).toMatchObject({ kind: 'refused', retryable: false });
    expect((err as Error).message).toContain(`new power target '600' is out-of-range (min: Some(${minW}), max: Some(${maxW}))`);
    expect((await read('braiins-s19xp')).powerTargetW).toBe(target);
  });

  test('pools: one group with the new list shows in the read, the first pool active', async () => {
    expect((await farm.act('braiins-s19xp', { kind: 'pools', pools: POOLS }, REST, ROOT)).reply).toMatch(/2 pool/);
    const after = await read('braiins-s19xp');
    expect(after.pools.map((p) => [p.url, p.user, p.active])).toEqual([
      [POOLS[0]!.url, POOLS[0]!.user, true],
      [POOLS[1]!.url, POOLS[1]!.user, false],
    ]);
  });

  test('locate on and off: the unit blinks and GET actions/locate says so', async () => {
    const { miner } = farm.unit('braiins-s19xp');
    const link = farm.link('braiins-s19xp', 'braiins-rest', ROOT);
    await farm.act('braiins-s19xp', { kind: 'blink', on: true }, REST, ROOT);
    expect(miner.commandedState().blinking).toBe(true);
    expect(await link.http('GET', BRAIINS_REST_WRITES.locate)).toEqual({ body: true });
    await farm.act('braiins-s19xp', { kind: 'blink', on: false }, REST, ROOT);
    expect(miner.commandedState().blinking).toBe(false);
  });

  test('reboot: accepted with 204, the API goes down, then the uptime restarts', async () => {
    const before = await read('braiins-s19xp');
    expect((await farm.act('braiins-s19xp', { kind: 'reboot' }, REST, ROOT)).settleMs).toBeGreaterThan(0);
    await waitUntilDown(farm, 'braiins-s19xp');
    await farm.advance(21);
    const after = await read('braiins-s19xp');
    expect(after.uptimeS!).toBeLessThan(Math.min(60, before.uptimeS!));
    expect(after.mode).toBe('booting');
  });
});

describe('S21 Pro on BOS 26.04', () => {
  test('the same writes: pause, power target, resume', async () => {
    const { miner } = farm.unit('braiins-s21pro');
    const target = miner.powerTargetLimits().minW + 100;
    await farm.act('braiins-s21pro', { kind: 'sleep' }, REST, ROOT);
    expect((await read('braiins-s21pro')).mode).toBe('sleeping');
    await farm.act('braiins-s21pro', { kind: 'power', target: { watts: target } }, REST, ROOT);
    await farm.act('braiins-s21pro', { kind: 'wake' }, REST, ROOT);
    await farm.advance(31);
    expect(await read('braiins-s21pro')).toMatchObject({ mode: 'hashing', powerTargetW: target });
    expect(miner.writes().map((w) => w.action)).toEqual(['sleep', `power target ${target} W`, 'wake']);
  });
});

describe('refusals and hostile answers', () => {
  test('wrong password: refused, naming the miner, never the password', async () => {
    const secret = 'wrong-bos-password-0815';
    const { sample } = await farm.sample('braiins-s21pro', REST);
    const err = await braiinsControl.execute({ kind: 'reboot' }, farm.link('braiins-s21pro', 'braiins-rest', { user: 'root', password: secret }), sample).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'refused', retryable: false });
    expect((err as Error).message).toContain(farm.unit('braiins-s21pro').spec.host);
    expect((err as Error).message).not.toContain(secret);
    expect(farm.unit('braiins-s21pro').miner.writes().map((w) => w.action)).not.toContain('reboot');
  });

  test('a unit without the REST API (BOS on the S9): the write fails, saying the connection was refused', async () => {
    const { sample } = await farm.sample('braiins-s9');
    const err = await braiinsControl.execute({ kind: 'sleep' }, farm.link('braiins-s9', 'braiins-rest', ROOT), sample).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'failed' });
    expect((err as Error).message).toMatch(/refused/);
  });

  test('garbage instead of HTTP: failed, nothing crashes', async () => {
    const { sample } = await farm.sample('braiins-s21pro', REST);
    const { miner } = farm.unit('braiins-s21pro');
    miner.applyFault({ fault: 'garbage', kind: 'binary' });
    try {
      const err = await braiinsControl.execute({ kind: 'blink', on: true }, farm.link('braiins-s21pro', 'braiins-rest', ROOT), sample).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'failed' });
    } finally {
      miner.applyFault({ fault: 'garbage', kind: 'off' });
    }
    expect(miner.commandedState().blinking).toBe(false);
  });

  test('a pause answered with something that is not true/false: failed, showing the answer', async () => {
    const server = await startHttpServer({ braiinsToken: ROOT, routes: { [BRAIINS_REST_WRITES.pause]: '{"paused":"maybe"}' } });
    try {
      const link = openControlLink('braiins-rest', '127.0.0.1', server.port, { credentials: ROOT });
      const sample: MinerSample = { time: 0, vendor: 'braiins', firmware: 'braiins-os', protocol: 'braiins-rest', model: 'Antminer S19 XP', mode: 'hashing', boards: [], fans: [], pools: [], errors: [] };
      const err = await braiinsControl.execute({ kind: 'sleep' }, link, sample).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'failed' });
      expect((err as Error).message).toContain('maybe');
    } finally {
      await server.close();
    }
  });
});

describe('the simulated firmware guards its writes', () => {
  test('a PUT without the token is 401 and changes nothing; a GET-only path refuses a PUT; a body over 16 KB is 413', async () => {
    const { spec, miner } = farm.unit('braiins-s21pro');
    const writes = miner.writes().length;
    const anonymous = await fetch(`http://${spec.host}:8080${BRAIINS_REST_WRITES.pause}`, { method: 'PUT' });
    expect(anonymous.status).toBe(401);
    const link = farm.link('braiins-s21pro', 'braiins-rest', ROOT);
    await expect(link.http('PUT', BRAIINS_REST.stats)).rejects.toThrow(/HTTP 405/);
    await expect(link.http('PUT', BRAIINS_REST_WRITES.poolsBatch, [{ name: 'g', pools: [{ url: 'x'.repeat(17_000), user: 'u' }] }])).rejects.toThrow(/HTTP 413|reset/);
    expect(miner.writes()).toHaveLength(writes);
  });
});

describe('the captured pool groups (fixtures/miner-api-next/braiins-rest)', () => {
  test("pools/batch keeps the name of the unit's first group (foremanGroup in the S19 XP capture) and sends the passwords", async () => {
    const captured = rawJson('braiins-rest', 'bos-25.07-s19xp-pools.json') as Array<{ name: string }>;
    let sent: unknown;
    const server = await startHttpServer({
      braiinsToken: ROOT,
      routes: {
        [BRAIINS_REST.pools]: nextRaw('braiins-rest', 'bos-25.07-s19xp-pools.json'),
        [BRAIINS_REST_WRITES.poolsBatch]: (req, res) => {
          let body = '';
          req.on('data', (c: Buffer) => (body += c.toString('utf8')));
          req.on('end', () => {
            sent = JSON.parse(body);
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(body);
          });
        },
      },
    });
    try {
      const link = openControlLink('braiins-rest', '127.0.0.1', server.port, { credentials: ROOT });
      const sample: MinerSample = { time: 0, vendor: 'braiins', firmware: 'braiins-os', protocol: 'braiins-rest', model: 'Antminer S19 XP', mode: 'hashing', boards: [], fans: [], pools: [], errors: [] };
      await braiinsControl.execute({ kind: 'pools', pools: POOLS }, link, sample);
      expect(sent).toEqual([{ name: captured[0]!.name, pools: POOLS.map((p) => ({ url: p.url, user: p.user, password: p.password, enabled: true })) }]);
      expect(server.counters.requests).toEqual(['POST /api/v1/auth/login', `GET ${BRAIINS_REST.pools}`, `PUT ${BRAIINS_REST_WRITES.poolsBatch}`]);
    } finally {
      await server.close();
    }
  });
});
