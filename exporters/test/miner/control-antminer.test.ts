/**
 * The stock Antminer write path (web CGI, digest auth) against the simulator speaking it over real sockets: the
 * S23 Hyd. serves the CGI in the catalog and is read through it (`antminer/web`); a stock S19 Pro and an S9 are read
 * on 4028 (`antminer-stock`) and written on their CGI. What an action does shows in the next read, as a user sees it
 * in `flymining scrape`.
 */
import { ANTMINER_REALM } from '@flymining/simulator';
import type { MinerSample } from '@flymining/shared';
import { ANTMINER_CGI_WRITES, antminerControl, minerConfBody } from '../../src/miner/backends/antminer/control';
import { ANTMINER_CGI } from '../../src/miner';
import { openControlLink } from '../../src/miner/control/link';
import { ControlError, refusalFor } from '../../src/miner/control/types';
import { ControlFarm, waitUntilDown, type ReadAs } from './control-farm';
import { nextRaw, rawJson } from './next-fixtures';
import { startHttpServer } from './next-servers';

const ROOT = { user: 'root', password: 'root' };
const WEB: ReadAs = { backend: 'antminer/web', credentials: ROOT };
const POOLS = [
  { url: 'stratum+tcp://pool-a.example:3333', user: 'acct.w1', password: 'x' },
  { url: 'stratum+tcp://pool-b.example:443', user: 'acct.w1', password: 'x' },
];

let farm: ControlFarm;

beforeAll(async () => {
  farm = await ControlFarm.start('127.214.1.1', ['antminer-s23-hyd', 'antminer-s19pro', 'antminer-s9'], ['antminer-s19pro', 'antminer-s9']);
});

afterAll(async () => {
  await farm?.stop();
});

async function read(profile: Parameters<ControlFarm['read']>[0], as: ReadAs = WEB): Promise<MinerSample> {
  return (await farm.sample(profile, as)).sample;
}

describe('capabilities follow the firmware generation', () => {
  test('S19-generation firmware: sleep, work modes low/normal, three pool slots, blink; no pool switch, with the reason', async () => {
    const { sample, backend, readId } = await farm.sample('antminer-s23-hyd', WEB);
    expect([readId, backend]).toEqual(['antminer/web', antminerControl]);
    const caps = backend.capabilities(sample);
    expect(caps).toMatchObject({ reboot: true, sleep: true, power: { kind: 'modes', modes: ['low', 'normal'] }, pools: { maxSlots: 3, canSwitch: false }, blink: true });
    expect(refusalFor({ kind: 'switch-pool', index: 1 }, caps)).toMatch(/no pool switch/);
    expect(refusalFor({ kind: 'power', target: { watts: 3000 } }, caps)).toMatch(/work modes \(low, normal\)/);
    expect(refusalFor({ kind: 'power', target: { mode: 'high' } }, caps)).toMatch(/no "high" mode/);
  });

  test('a stock S9 read on 4028: only a reboot, and a sleep is refused saying why', async () => {
    const { sample, backend, readId } = await farm.sample('antminer-s9');
    expect(readId).toBe('antminer-stock');
    const caps = backend.capabilities(sample);
    expect(caps).toMatchObject({ reboot: true, sleep: false, blink: false, pools: { maxSlots: 0 } });
    expect(caps.power).toBeUndefined();
    const refusal = refusalFor({ kind: 'sleep' }, caps);
    expect(refusal).toMatch(/no sleep mode/);
    expect(refusal).toMatch(/before the S19 generation/);
    // The module refuses on its own too, without a request.
    await expect(backend.execute({ kind: 'sleep' }, farm.link('antminer-s9', 'antminer-web', ROOT), sample)).rejects.toMatchObject({ kind: 'unsupported' });
    expect(farm.unit('antminer-s9').miner.writes()).toEqual([]);
  });

  test("the S9's own firmware refuses a miner-mode in set_miner_conf (it takes form fields)", async () => {
    const link = farm.link('antminer-s9', 'antminer-web', ROOT);
    const reply = await link.http('POST', ANTMINER_CGI_WRITES.setMinerConf, { 'miner-mode': 1 });
    expect(reply).toMatchObject({ stats: 'error' });
    expect(String(reply.msg)).toMatch(/no miner-mode/);
    expect(farm.unit('antminer-s9').miner.commandedState().sleeping).toBe(false);
  });
});

describe('S23 Hyd. read and written through the web CGI', () => {
  test('sleep: the read shows sleeping, work mode sleep, and the unit draws almost nothing; wake: warming, then hashing', async () => {
    const before = await read('antminer-s23-hyd');
    expect(before.mode).toBe('hashing');
    const slept = await farm.act('antminer-s23-hyd', { kind: 'sleep' }, WEB, ROOT);
    expect(slept.reply).toMatch(/success|M000/);
    const asleep = await read('antminer-s23-hyd');
    expect(asleep).toMatchObject({ mode: 'sleeping', workMode: 'sleep' });
    expect(asleep.powerW ?? 0).toBeLessThan((before.powerW ?? 0) / 10);

    await farm.act('antminer-s23-hyd', { kind: 'wake' }, WEB, ROOT);
    const waking = await read('antminer-s23-hyd');
    // The stock CGI says nothing about warming up: zero hashrate reads as idle (booting on other firmware).
    expect(['idle', 'booting']).toContain(waking.mode);
    expect(waking.workMode).toBe('normal');
    await farm.advance(31);
    expect((await read('antminer-s23-hyd')).mode).toBe('hashing');
  });

  test('work mode low: the read shows it and less power; normal brings the power back; pools are kept', async () => {
    const normal = await read('antminer-s23-hyd');
    const poolsBefore = (await read('antminer-s23-hyd', {})).pools.map((p) => p.url);
    await farm.act('antminer-s23-hyd', { kind: 'power', target: { mode: 'low' } }, WEB, ROOT);
    const low = await read('antminer-s23-hyd');
    expect(low.workMode).toBe('low');
    expect(low.powerW!).toBeLessThan(normal.powerW! * 0.85);
    expect((await read('antminer-s23-hyd', {})).pools.map((p) => p.url)).toEqual(poolsBefore);
    await farm.act('antminer-s23-hyd', { kind: 'power', target: { mode: 'normal' } }, WEB, ROOT);
    const back = await read('antminer-s23-hyd');
    expect(back.workMode).toBe('normal');
    expect(back.powerW!).toBeGreaterThan(low.powerW!);
  });

  test('pools: the new list shows on 4028 and in get_miner_conf, the work mode stays; switching is refused', async () => {
    await farm.act('antminer-s23-hyd', { kind: 'power', target: { mode: 'low' } }, WEB, ROOT);
    await farm.act('antminer-s23-hyd', { kind: 'pools', pools: POOLS }, WEB, ROOT);
    const onApi = await read('antminer-s23-hyd', {});
    expect(onApi.pools.map((p) => [p.url, p.user])).toEqual(POOLS.map((p) => [p.url, p.user]));
    expect(onApi.pools.find((p) => p.active)?.url).toBe(POOLS[0]!.url);
    const conf = await farm.link('antminer-s23-hyd', 'antminer-web', ROOT).http('GET', ANTMINER_CGI.minerConf);
    expect(conf['bitmain-work-mode']).toBe('3');
    expect((conf.pools as Array<{ url: string }>).map((p) => p.url)).toEqual(POOLS.map((p) => p.url));
    await farm.act('antminer-s23-hyd', { kind: 'power', target: { mode: 'normal' } }, WEB, ROOT);

    const { sample } = await farm.sample('antminer-s23-hyd', WEB);
    await expect(antminerControl.execute({ kind: 'switch-pool', index: 1 }, farm.link('antminer-s23-hyd', 'antminer-web', ROOT), sample)).rejects.toMatchObject({ kind: 'unsupported' });
  });

  test('blink on and off: the unit blinks, get_blink_status.cgi says so', async () => {
    const { miner } = farm.unit('antminer-s23-hyd');
    const link = farm.link('antminer-s23-hyd', 'antminer-web', ROOT);
    expect((await farm.act('antminer-s23-hyd', { kind: 'blink', on: true }, WEB, ROOT)).reply).toContain('B000');
    expect(miner.commandedState().blinking).toBe(true);
    expect(await link.http('GET', '/cgi-bin/get_blink_status.cgi')).toEqual({ blink: true });
    expect((await farm.act('antminer-s23-hyd', { kind: 'blink', on: false }, WEB, ROOT)).reply).toContain('B100');
    expect(miner.commandedState().blinking).toBe(false);
  });

  test('reboot: the API goes away once it answered, comes back after the downtime with its uptime restarted', async () => {
    const before = await read('antminer-s23-hyd');
    const reply = await farm.act('antminer-s23-hyd', { kind: 'reboot' }, WEB, ROOT);
    expect(reply.settleMs).toBeGreaterThan(0);
    const down = await waitUntilDown(farm, 'antminer-s23-hyd');
    expect(down.ok).toBe(false);
    await farm.advance(21);
    const after = await read('antminer-s23-hyd');
    expect(after.uptimeS!).toBeLessThan(before.uptimeS!);
    expect(after.uptimeS!).toBeLessThan(60);
    expect(after.mode).not.toBe('hashing');
    await farm.advance(41);
    expect((await read('antminer-s23-hyd')).mode).toBe('hashing');
  });
});

describe('a stock S19 Pro read on 4028, written on its CGI', () => {
  test('sleep shows as sleeping on 4028 (Mode 254); wake; pools set show in the pools reply', async () => {
    const as: ReadAs = {};
    const { readId } = await farm.sample('antminer-s19pro', as);
    expect(readId).toBe('antminer-stock');
    await farm.act('antminer-s19pro', { kind: 'sleep' }, as, ROOT);
    expect((await read('antminer-s19pro', as)).mode).toBe('sleeping');
    await farm.act('antminer-s19pro', { kind: 'wake' }, as, ROOT);
    expect((await read('antminer-s19pro', as)).mode).not.toBe('sleeping');
    await farm.act('antminer-s19pro', { kind: 'pools', pools: POOLS.slice(1) }, as, ROOT);
    expect((await read('antminer-s19pro', as)).pools.map((p) => p.url)).toEqual([POOLS[1]!.url]);
    expect(farm.unit('antminer-s19pro').miner.writes().map((w) => w.action)).toEqual(['sleep', 'wake', `pools ${POOLS[1]!.url}`]);
  });
});

describe('refusals and hostile answers', () => {
  test('wrong password: refused, naming the miner, never the password', async () => {
    const secret = 'not-the-root-password-4711';
    const { sample } = await farm.sample('antminer-s23-hyd', WEB);
    const link = farm.link('antminer-s23-hyd', 'antminer-web', { user: 'root', password: secret });
    const err = await antminerControl.execute({ kind: 'sleep' }, link, sample).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(err).toMatchObject({ kind: 'refused', retryable: false });
    const message = (err as ControlError).message;
    expect(message).toContain(farm.unit('antminer-s23-hyd').spec.host);
    expect(message).toMatch(/login refused/);
    expect(message).not.toContain(secret);
    expect(farm.unit('antminer-s23-hyd').miner.commandedState().sleeping).toBe(false);
  });

  test('garbage bytes instead of HTTP: failed, retryable, nothing crashes', async () => {
    const { sample } = await farm.sample('antminer-s23-hyd', WEB);
    const { miner } = farm.unit('antminer-s23-hyd');
    miner.applyFault({ fault: 'garbage', kind: 'binary' });
    try {
      const err = await antminerControl.execute({ kind: 'blink', on: true }, farm.link('antminer-s23-hyd', 'antminer-web', ROOT), sample).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'failed', retryable: true });
    } finally {
      miner.applyFault({ fault: 'garbage', kind: 'off' });
    }
  });

  test('an endless body: failed within the bounds, not a hang', async () => {
    const { sample } = await farm.sample('antminer-s23-hyd', WEB);
    const { miner } = farm.unit('antminer-s23-hyd');
    const writes = miner.writes().length;
    miner.applyFault({ fault: 'hostile', mode: 'http-endless-body' });
    try {
      const t0 = Date.now();
      const err = await antminerControl.execute({ kind: 'reboot' }, farm.link('antminer-s23-hyd', 'antminer-web', ROOT), sample).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'failed' });
      expect(Date.now() - t0).toBeLessThan(6000);
      expect(miner.writes()).toHaveLength(writes);
    } finally {
      miner.applyFault({ fault: 'hostile', mode: 'off' });
    }
  });
});

describe('the simulated firmware guards its writes', () => {
  test('set_miner_conf without digest auth gets a challenge and changes nothing; a GET on it is 405; a body over 16 KB is 413', async () => {
    const { spec, miner } = farm.unit('antminer-s23-hyd');
    const url = `http://${spec.host}:8080${ANTMINER_CGI_WRITES.setMinerConf}`;
    const writes = miner.writes().length;
    const unauthenticated = await fetch(url, { method: 'POST', body: '{"miner-mode":1}' });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toMatch(/^Digest realm="antMiner Configuration"/);
    const link = farm.link('antminer-s23-hyd', 'antminer-web', ROOT);
    await expect(link.http('GET', ANTMINER_CGI_WRITES.setMinerConf)).rejects.toThrow(/HTTP 405/);
    await expect(link.http('POST', ANTMINER_CGI_WRITES.setMinerConf, { pools: [{ url: 'x'.repeat(17_000), user: 'u', pass: 'x' }] })).rejects.toThrow(/HTTP 413|reset/);
    expect(miner.writes()).toHaveLength(writes);
  });
});

describe('the captured get_miner_conf replies (fixtures/miner-api-next/antminer-cgi)', () => {
  const sampleOf = (model: string): MinerSample => ({ time: 0, vendor: 'antminer', firmware: 'antminer-stock', model, mode: 'hashing', boards: [], fans: [], pools: [], errors: [] });

  test('S19 Pro capture: the write body keeps its fan setting, frequency level and all three pools, renamed as the write wants them', () => {
    const conf = rawJson('antminer-cgi', 'antminer-s19pro-get_miner_conf-redacted.json');
    const body = minerConfBody(conf, { mode: 1 });
    expect(body).toEqual({
      'bitmain-fan-ctrl': conf['bitmain-fan-ctrl'],
      'bitmain-fan-pwm': conf['bitmain-fan-pwm'],
      'miner-mode': 1,
      'freq-level': conf['bitmain-freq-level'],
      pools: conf.pools,
    });
    expect(minerConfBody(conf, {})['miner-mode']).toBe(Number(conf['bitmain-work-mode']));
  });

  test('the unconfigured S19 Pro (invalid JSON: "bitmain-fan-ctrl" : ,): failed, and no set_miner_conf is sent', async () => {
    const server = await startHttpServer({
      digest: { realm: ANTMINER_REALM, ...ROOT },
      routes: { [ANTMINER_CGI.minerConf]: nextRaw('antminer-cgi', 'antminer-s19pro-unconfigured-get_miner_conf.json'), [ANTMINER_CGI_WRITES.setMinerConf]: '{"stats":"success"}' },
    });
    try {
      const link = openControlLink('antminer-web', '127.0.0.1', server.port, { credentials: ROOT });
      const err = await antminerControl.execute({ kind: 'sleep' }, link, sampleOf('Antminer S19 Pro')).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'failed' });
      expect((err as Error).message).toMatch(/not JSON/);
      expect(server.counters.requests.filter((r) => r.includes('set_miner_conf'))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  test('an answer to set_miner_conf that is JSON but no result: failed, saying what came back', async () => {
    const server = await startHttpServer({
      digest: { realm: ANTMINER_REALM, ...ROOT },
      routes: { [ANTMINER_CGI.minerConf]: nextRaw('antminer-cgi', 'antminer-s19pro-get_miner_conf-redacted.json'), [ANTMINER_CGI_WRITES.setMinerConf]: '{"data":[1,2,3]}' },
    });
    try {
      const link = openControlLink('antminer-web', '127.0.0.1', server.port, { credentials: ROOT });
      const err = await antminerControl.execute({ kind: 'power', target: { mode: 'low' } }, link, sampleOf('Antminer S19 Pro')).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'failed' });
      expect((err as Error).message).toContain('[1,2,3]');
    } finally {
      await server.close();
    }
  });
});
