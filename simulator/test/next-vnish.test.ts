/** VNish /api/v1: open reads, unlock token (Bearer or bare), API key, refusals. Field names: see README (no capture). */
import { obj } from './helpers';
import { httpRequest, startUnit, type NextUnit } from './next-helpers';

const HOST = '127.211.4.10';
let unit: NextUnit;
beforeAll(async () => {
  unit = await startUnit('antminer-s19jpro-vnish', HOST);
  unit.miner.credentials = { ...unit.miner.credentials, vnish: { user: 'admin', password: 'admin', apiKey: 'k-0123456789' } };
});
afterAll(() => unit.stop());
afterEach(() => unit.miner.applyFault({ fault: 'clear' }));

const unlock = (pw: string) => httpRequest(HOST, 80, 'POST', '/api/v1/unlock', {}, JSON.stringify({ pw }));

it('info, status and summary answer without auth; settings and presets need it', async () => {
  for (const p of ['/api/v1/info', '/api/v1/status', '/api/v1/summary']) expect((await httpRequest(HOST, 80, 'GET', p)).status).toBe(200);
  expect(obj(JSON.parse((await httpRequest(HOST, 80, 'GET', '/api/v1/info')).body)).fw_name).toBe('Vnish');
  for (const p of ['/api/v1/settings', '/api/v1/autotune/presets', '/api/v1/auth-check']) expect((await httpRequest(HOST, 80, 'GET', p)).status).toBe(401);
});

it('summary: the paths pyasic reads (miner_type, state, power_usage, chain status, MAC); a dropped chain reads failure', async () => {
  unit.miner.applyFault({ fault: 'dropBoard', board: 1 });
  const s = obj(JSON.parse((await httpRequest(HOST, 80, 'GET', '/api/v1/summary')).body));
  const miner = obj(s.miner);
  expect(miner.miner_type).toBe('Antminer S19j Pro (vnish 1.2.6)');
  expect(obj(miner.miner_status).miner_state).toBe('mining');
  expect(Number(miner.power_usage)).toBeGreaterThan(1000);
  const chains = (miner.chains as unknown[]).map((c) => obj(obj(c).status));
  expect(chains[1]).toEqual({ state: 'failure', description: 'chain 1 not responding' });
  expect(obj(obj(s.system).network_status).mac).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
});

it('unlock with the password gives a token accepted with and without "Bearer "', async () => {
  const r = await unlock('admin');
  const token = String(obj(JSON.parse(r.body)).token);
  expect((await httpRequest(HOST, 80, 'GET', '/api/v1/auth-check', { authorization: `Bearer ${token}` })).status).toBe(200);
  expect((await httpRequest(HOST, 80, 'GET', '/api/v1/autotune/presets', { authorization: token })).status).toBe(200);
});

it('the API key works in x-api-key; a wrong password is 403, then 429 after five tries', async () => {
  expect((await httpRequest(HOST, 80, 'GET', '/api/v1/settings', { 'x-api-key': 'k-0123456789' })).status).toBe(200);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await unlock('wrong')).status);
  expect(statuses).toEqual([403, 403, 403, 403, 403, 429]);
});
