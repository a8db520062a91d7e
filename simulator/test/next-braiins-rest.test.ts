/** Braiins OS+ REST /api/v1 over HTTP: token login, 25.07 and 26.04 shapes against the captures, error codes. */
import { arr, obj } from './helpers';
import { fixture, httpRequest, shapeDifferences, startUnit, type NextUnit } from './next-helpers';

const units: Record<'25.07' | '26.04', { host: string; unit?: NextUnit }> = {
  '25.07': { host: '127.211.2.10' },
  '26.04': { host: '127.211.2.11' },
};
beforeAll(async () => {
  units['25.07'].unit = await startUnit('braiins-s19xp', units['25.07'].host);
  units['26.04'].unit = await startUnit('braiins-s21pro', units['26.04'].host);
});
afterAll(() => Promise.all(Object.values(units).map((u) => u.unit?.stop())));
afterEach(() => Object.values(units).forEach((u) => u.unit?.miner.applyFault({ fault: 'clear' })));

async function login(host: string, password = 'root'): Promise<{ status: number; token?: string }> {
  const r = await httpRequest(host, 80, 'POST', '/api/v1/auth/login', {}, JSON.stringify({ username: 'root', password }));
  return { status: r.status, token: r.status === 200 ? String(obj(JSON.parse(r.body)).token) : undefined };
}

async function read(host: string, token: string, path: string): Promise<unknown> {
  const r = await httpRequest(host, 80, 'GET', path, { authorization: token });
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('application/json');
  return JSON.parse(r.body);
}

describe('login and tokens', () => {
  const host = units['25.07'].host;

  it('login answers a 16-character token valid for an hour; reads need it as the raw Authorization value', async () => {
    const r = await httpRequest(host, 80, 'POST', '/api/v1/auth/login', {}, JSON.stringify({ username: 'root', password: 'root' }));
    const body = obj(JSON.parse(r.body));
    expect(body.timeout_s).toBe(3600);
    expect(String(body.token)).toHaveLength(16);
    expect((await httpRequest(host, 80, 'GET', '/api/v1/miner/details')).status).toBe(401);
    expect((await httpRequest(host, 80, 'GET', '/api/v1/miner/details', { authorization: `Bearer ${body.token}` })).status).toBe(401);
    expect((await httpRequest(host, 80, 'GET', '/api/v1/miner/details', { authorization: String(body.token) })).status).toBe(200);
  });

  it('a wrong password is 401 at login; authChange turns the configured one wrong', async () => {
    expect((await login(host, 'admin')).status).toBe(401);
    units['25.07'].unit!.miner.applyFault({ fault: 'authChange' });
    expect((await login(host)).status).toBe(401);
  });

  it('a token idle for more than an hour expires; each request extends it', async () => {
    const u = units['25.07'].unit!;
    const { token } = await login(host);
    u.clock.now += 3000_000;
    await read(host, token!, '/api/v1/version');
    u.clock.now += 3000_000;
    await read(host, token!, '/api/v1/version');
    u.clock.now += 3700_000;
    expect((await httpRequest(host, 80, 'GET', '/api/v1/version', { authorization: token! })).status).toBe(401);
  });

  it('digest-loop mode: login succeeds, every read is 401', async () => {
    units['25.07'].unit!.miner.applyFault({ fault: 'hostile', mode: 'digest-loop' });
    const { status, token } = await login(host);
    expect(status).toBe(200);
    expect((await httpRequest(host, 80, 'GET', '/api/v1/miner/stats', { authorization: token! })).status).toBe(401);
  });
});

describe.each([
  [
    '25.07',
    [
      ['/api/v1/miner/details', 'bos-25.07-s19xp-miner_details.json'],
      ['/api/v1/miner/stats', 'bos-25.07-s19xp-miner_stats.json'],
      ['/api/v1/miner/hw/hashboards', 'bos-25.07-s19xp-miner_hw_hashboards.json'],
      ['/api/v1/cooling/state', 'bos-25.07-s19xp-cooling_state.json'],
      ['/api/v1/pools', 'bos-25.07-s19xp-pools.json'],
      ['/api/v1/network', 'bos-25.07-s19xp-network.json'],
      ['/api/v1/performance/tuner-state', 'bos-25.07-s19xp-performance_tuner_state.json'],
      ['/api/v1/version', 'bos-25.07-s19xp-version.json'],
    ],
  ],
  [
    '26.04',
    [
      ['/api/v1/miner/details', 'bos-26.04-s21pro-miner_details.json'],
      ['/api/v1/miner/stats', 'bos-26.04-s21pro-miner_stats.json'],
      ['/api/v1/miner/hw/hashboards', 'bos-26.04-s21pro-miner_hw_hashboards.json'],
    ],
  ],
] as const)('BOS %s shapes', (release, pairs) => {
  it.each(pairs.map(([p, f]) => [p, f]))('%s matches %s key for key and type', async (path, file) => {
    const host = units[release].host;
    const { token } = await login(host);
    const reply = await read(host, token!, path);
    // 25.07 sends null for the highest-temperature id (captured), we do too; nulls the capture has are kept as nulls.
    expect(shapeDifferences(reply, fixture('braiins-rest', file))).toEqual([]);
  });
});

describe('live values and error codes', () => {
  it('details name the model, serials on 26.04 only, the MAC; stats are GH/s near nominal', async () => {
    const host = units['26.04'].host;
    const { token } = await login(host);
    const details = obj(await read(host, token!, '/api/v1/miner/details'));
    expect(obj(details.miner_identity)).toMatchObject({ miner_model: 'Antminer S21 Pro', model: 0 });
    expect(details.serial_number).toMatch(/^[0-9A-Z]{17}$/);
    expect(obj(details.bos_version).current).toContain('26.04');
    const stats = obj(obj(await read(host, token!, '/api/v1/miner/stats')).miner_stats);
    expect(stats.best_share_str).toBe(String(stats.best_share));
    const gh = Number(obj(obj(stats.real_hashrate).last_5s).gigahash_per_second);
    expect(gh).toBeGreaterThan(200_000);
    expect(gh).toBeLessThan(260_000);
    const old = obj(await read(units['25.07'].host, (await login(units['25.07'].host)).token!, '/api/v1/miner/details'));
    expect(old.serial_number).toBeNull();
  });

  it('/miner/errors carries injected codes and the PSU fault as V2, in the captured entry shape', async () => {
    const u = units['26.04'];
    u.unit!.miner.applyFault({ fault: 'firmwareError', code: 'H2' });
    u.unit!.miner.applyFault({ fault: 'psuFault' });
    const { token } = await login(u.host);
    const reply = obj(await read(u.host, token!, '/api/v1/miner/errors'));
    const capture = obj(fixture('braiins-rest', 'bos-26.04-s21pro-miner_errors.json'));
    const withCode = arr(capture.errors).find((e) => arr(obj(e).error_codes).length > 0);
    const entries = arr(reply.errors).map((e) => obj(e));
    expect(entries).toHaveLength(2);
    for (const e of entries) expect(shapeDifferences(e, withCode, ['$.components[]'])).toEqual([]);
    expect(entries.map((e) => obj(arr(e.error_codes)[0]).code)).toEqual(['H2', 'V2']);
    expect(String(entries[1]!.message)).toContain('{ERR:V2}');
    expect(obj(arr(entries[1]!.error_codes)[0]).reason).toBe('Overcurrent protection triggered or short circuit');
  });

  it('refuses a code that is not Braiins-shaped', () => {
    expect(() => units['25.07'].unit!.miner.applyFault({ fault: 'firmwareError', code: '531' })).toThrow(/V2/);
  });
});
