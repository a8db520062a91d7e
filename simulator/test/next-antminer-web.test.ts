/**
 * Antminer stock firmware: the web CGI behind HTTP digest auth (handshake done with node's crypto) and `stats` /
 * `summary` with a top-level "new_api": true on TCP 4028, compared with the S23 Hyd. and S19 Pro captures.
 */
import net from 'node:net';
import { sendRaw } from '../src/client';
import { arr, obj } from './helpers';
import { digestAuthorization, digestGet, fixture, httpRequest, parseChallenge, shapeDifferences, startUnit, type NextUnit } from './next-helpers';

const HOST = '127.211.1.10';
let unit: NextUnit;
beforeAll(async () => {
  unit = await startUnit('antminer-s23-hyd', HOST);
});
afterAll(() => unit.stop());
afterEach(() => unit.miner.applyFault({ fault: 'clear' }));

const get = async (uri: string, password = 'root') => (await digestGet(HOST, 80, uri, 'root', password)).result;
const cgiJson = async (uri: string): Promise<Record<string, unknown>> => {
  const r = await get(uri);
  expect(r.status).toBe(200);
  return obj(JSON.parse(r.body));
};

describe('digest authentication', () => {
  it('challenges like lighttpd on the miner, then answers the right credentials', async () => {
    const { challenge, result } = await digestGet(HOST, 80, '/cgi-bin/get_system_info.cgi', 'root', 'root');
    expect(challenge.status).toBe(401);
    expect(challenge.headers.server).toBe('lighttpd/1.4.69');
    const params = parseChallenge(challenge.headers['www-authenticate'] as string);
    expect(params).toMatchObject({ realm: 'antMiner Configuration', algorithm: 'MD5', qop: 'auth', charset: 'UTF-8' });
    expect(params.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(result.status).toBe(200);
  });

  it('a wrong password gets 401 with a fresh challenge', async () => {
    const first = await httpRequest(HOST, 80, 'GET', '/cgi-bin/summary.cgi');
    const params = parseChallenge(first.headers['www-authenticate'] as string);
    const refused = await httpRequest(HOST, 80, 'GET', '/cgi-bin/summary.cgi', { authorization: digestAuthorization(params, 'root', 'admin', 'GET', '/cgi-bin/summary.cgi') });
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('401 Unauthorized');
    expect(parseChallenge(refused.headers['www-authenticate'] as string).nonce).not.toBe(params.nonce);
  });

  it('a nonce the unit never issued is refused as stale', async () => {
    const forged = { realm: 'antMiner Configuration', nonce: 'f'.repeat(32) };
    const r = await httpRequest(HOST, 80, 'GET', '/cgi-bin/stats.cgi', { authorization: digestAuthorization(forged, 'root', 'root', 'GET', '/cgi-bin/stats.cgi') });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toContain('stale=true');
  });

  it('authChange makes root/root fail; clearing restores it', async () => {
    unit.miner.applyFault({ fault: 'authChange', password: 'n3w' });
    expect((await get('/cgi-bin/get_system_info.cgi')).status).toBe(401);
    expect((await get('/cgi-bin/get_system_info.cgi', 'n3w')).status).toBe(200);
    unit.miner.applyFault({ fault: 'clear' });
    expect((await get('/cgi-bin/get_system_info.cgi')).status).toBe(200);
  });
});

describe('CGI pages shaped like the captures', () => {
  it('get_system_info.cgi: the S19 Pro keys plus serinum (newer firmware), one key per line, serial and MAC', async () => {
    const r = await get('/cgi-bin/get_system_info.cgi');
    expect(r.body.split('\n').length).toBeGreaterThan(10);
    const info = obj(JSON.parse(r.body));
    expect(shapeDifferences(info, fixture('antminer-cgi', 'antminer-s19pro-get_system_info.json'))).toEqual(['$.serinum: not in the capture']);
    expect(info.minertype).toBe('Antminer S23 Hyd.');
    expect(info.macaddr).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
    expect(info.serinum).toMatch(/^[0-9A-Z]{16}$/);
    expect(info.ipaddress).toBe(HOST);
  });

  it('get_miner_conf.cgi and get_network_info.cgi', async () => {
    const conf = await get('/cgi-bin/get_miner_conf.cgi');
    expect(conf.body).toContain('\n]\n,\n');
    expect(shapeDifferences(JSON.parse(conf.body), fixture('antminer-cgi', 'antminer-s19pro-get_miner_conf-redacted.json'))).toEqual([]);
    expect(obj(JSON.parse(conf.body))['bitmain-work-mode']).toBe('0');
    const net_ = await cgiJson('/cgi-bin/get_network_info.cgi');
    expect(shapeDifferences(net_, fixture('antminer-cgi', 'antminer-l3plus-get_network_info.json'))).toEqual([]);
  });

  it('stats.cgi: per-chain data like the S23 Hyd. capture, water inlet below outlet', async () => {
    const stats = await cgiJson('/cgi-bin/stats.cgi');
    expect(shapeDifferences(stats, fixture('antminer-cgi', 'antminer-s23-hydro-stats.cgi.json'))).toEqual([]);
    const s = obj(arr(stats.STATS)[0]);
    const chains = arr(s.chain).map((c) => obj(c));
    expect(chains).toHaveLength(3);
    for (const c of chains) {
      const pcb = c.temp_pcb as number[];
      expect(pcb[0]).toBeLessThan(pcb[2]!);
      expect(c.asic_num).toBe(84);
    }
    expect(Number(s.rate_5s)).toBeGreaterThan(500_000);
    expect(s).toMatchObject({ fan_num: 0, fan: [], rate_unit: 'GH/s' });
  });

  it('summary.cgi: status entries per subsystem; an injected code shows on its subsystem', async () => {
    expect(shapeDifferences(await cgiJson('/cgi-bin/summary.cgi'), fixture('antminer-cgi', 'antminer-s23-hydro-summary.cgi.json'))).toEqual([]);
    unit.miner.applyFault({ fault: 'firmwareError', code: '2301', reason: 'water temperature too high', subsystem: 'temp' });
    const status = arr(obj(arr((await cgiJson('/cgi-bin/summary.cgi')).SUMMARY)[0]).status).map((e) => obj(e));
    expect(status.find((e) => e.type === 'temp')).toEqual({ code: 2301, msg: 'water temperature too high', status: 'e', type: 'temp' });
    expect(status.find((e) => e.type === 'fans')).toMatchObject({ status: '' });
    expect(status.find((e) => e.type === 'rate')).toMatchObject({ status: 's' });
  });

  it('a PSU fault: watt 0, no hashing, rate status e', async () => {
    unit.miner.applyFault({ fault: 'psuFault' });
    unit.clock.now += 2000;
    const s = obj(arr((await cgiJson('/cgi-bin/stats.cgi')).STATS)[0]);
    expect(s).toMatchObject({ watt: 0, rate_5s: 0 });
    const status = arr(obj(arr((await cgiJson('/cgi-bin/summary.cgi')).SUMMARY)[0]).status).map((e) => obj(e));
    expect(status.find((e) => e.type === 'rate')).toMatchObject({ status: 'e' });
  });
});

describe('new_api on TCP 4028', () => {
  const rpc = async (request: object): Promise<Record<string, unknown>> => {
    const reply = await sendRaw(HOST, 4028, JSON.stringify(request));
    expect(reply.endsWithNul).toBe(true);
    return obj(JSON.parse(reply.text));
  };

  it('a top-level "new_api": true gets the one-element STATS with chains, like stats.cgi', async () => {
    const reply = await rpc({ command: 'stats', new_api: true });
    expect(shapeDifferences(reply, fixture('antminer-cgi', 'antminer-s23-hydro-stats.cgi.json'))).toEqual([]);
    expect(arr(reply.STATS)).toHaveLength(1);
  });

  it('nested under "parameter" the flag is ignored: the legacy two-element reply, status S, no error', async () => {
    const reply = await rpc({ command: 'stats', parameter: { new_api: true } });
    expect(arr(reply.STATS)).toHaveLength(2);
    expect(obj(arr(reply.STATUS)[0])).toMatchObject({ STATUS: 'S', Msg: 'CGMiner stats' });
  });

  it('summary with new_api carries the status array', async () => {
    const reply = await rpc({ command: 'summary', new_api: true });
    expect(shapeDifferences(reply, fixture('antminer-cgi', 'antminer-s23-hydro-summary.cgi.json'))).toEqual([]);
  });
});

describe('hostile HTTP modes', () => {
  it('digest-loop: even the right credentials get a fresh challenge every time', async () => {
    unit.miner.applyFault({ fault: 'hostile', mode: 'digest-loop' });
    const nonces = new Set<string>();
    let challenge = await httpRequest(HOST, 80, 'GET', '/cgi-bin/stats.cgi');
    for (let i = 0; i < 3; i++) {
      expect(challenge.status).toBe(401);
      const params = parseChallenge(challenge.headers['www-authenticate'] as string);
      nonces.add(params.nonce!);
      challenge = await httpRequest(HOST, 80, 'GET', '/cgi-bin/stats.cgi', { authorization: digestAuthorization(params, 'root', 'root', 'GET', '/cgi-bin/stats.cgi') });
    }
    expect(nonces.size).toBe(3);
  });

  const rawHttp = (ms: number, maxBytes: number): Promise<Buffer> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const s = net.connect({ host: HOST, port: 80 }, () => s.write(`GET /cgi-bin/stats.cgi HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`));
      const done = (): void => {
        s.destroy();
        resolve(Buffer.concat(chunks));
      };
      s.on('data', (d: Buffer) => {
        chunks.push(d);
        size += d.length;
        if (size >= maxBytes) done();
      });
      s.on('error', done);
      setTimeout(done, ms);
    });

  it('http-slow-headers: a status line and then a byte a second, the headers never end', async () => {
    unit.miner.applyFault({ fault: 'hostile', mode: 'http-slow-headers' });
    const got = (await rawHttp(1600, 1 << 20)).toString('latin1');
    expect(got.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(got).not.toContain('\r\n\r\n');
    expect(got.length).toBeLessThan('HTTP/1.1 200 OK\r\n'.length + 4);
  });

  it('http-endless-body: the body keeps coming past any sane size', async () => {
    unit.miner.applyFault({ fault: 'hostile', mode: 'http-endless-body' });
    const got = await rawHttp(5000, 8 << 20);
    expect(got.length).toBeGreaterThanOrEqual(8 << 20);
    const head = got.toString('latin1', 0, 400).toLowerCase();
    expect(head).toContain('transfer-encoding: chunked');
    expect(head).toContain('{"data":"');
    expect(head).toContain('aaaaaaaa');
  });
});
