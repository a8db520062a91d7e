/**
 * The corpus replies served over their real transports by local servers (v3 framing, HTTP Digest, the Braiins token
 * login, ePIC's HTTP on the CGMiner port) and read end to end through the scrape path: detection, transport, repair,
 * envelope, backend, bounds, health.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthBackoff } from '../../src/miner/auth-backoff';
import { ANTMINER_CGI, antminerWeb, braiinsRest, BRAIINS_REST, epicV1, EPIC_PATHS, V3_COMMANDS, whatsminerV3 } from '../../src/miner';
import { evaluateMinerHealth } from '../../src/miner/health';
import { backendId } from '../../src/miner/backends/types';
import { scrapeMiner, type ScrapeResult } from '../../src/miner/scrape';
import { catalogSpec } from './fixtures';
import { nextRaw, nextReply, V3 } from './next-fixtures';
import { rawFixture } from './fixtures';
import { closedPort, startCgminerServer, startHttpServer, startV3Server, type V3Request } from './next-servers';

const TRANSPORT = { connectTimeoutMs: 1000, readTimeoutMs: 3000, maxBytes: 1024 * 1024 };

function sampleOf(result: ScrapeResult) {
  if (!result.ok) throw new Error(`scrape failed: ${result.failure.kind}: ${result.failure.message}`);
  const { time: _time, errors, ...sample } = result.sample;
  return { sample, errors };
}

function v3Fixture(request: V3Request): Buffer {
  if (request.cmd === 'get.device.info') return nextRaw('whatsminer-v3', V3('get.device.info'));
  if (request.cmd === 'get.miner.status' && typeof request.param === 'string') return nextRaw('whatsminer-v3', V3(`get.miner.status-${request.param}`));
  return Buffer.from(JSON.stringify({ code: -2, when: 0, msg: 'invalid command', desc: request.cmd }));
}

const cgi = (name: string): Buffer => nextRaw('antminer-cgi', name);
const bos = (name: string): Buffer => nextRaw('braiins-rest', `bos-25.07-s19xp-${name}.json`);
/** REST path → capture name (bos-25.07-s19xp-<name>.json). */
const BOS_FILES: Record<string, string> = {
  [BRAIINS_REST.details]: 'miner_details',
  [BRAIINS_REST.stats]: 'miner_stats',
  [BRAIINS_REST.hashboards]: 'miner_hw_hashboards',
  [BRAIINS_REST.cooling]: 'cooling_state',
  [BRAIINS_REST.pools]: 'pools',
  [BRAIINS_REST.tuner]: 'performance_tuner_state',
  [BRAIINS_REST.errors]: 'miner_errors',
};
const epic = (name: string): Buffer => nextRaw('epic', `epic-umc-s19xp-${name}.json`);

describe('Whatsminer API v3 over length-prefixed TCP', () => {
  test('pinned: one framed request per command, each section asked for by param, sample as the backend reads the corpus', async () => {
    const server = await startV3Server(v3Fixture);
    try {
      const result = await scrapeMiner({ host: '127.0.0.1', port: server.port, protocol: 'whatsminer-v3' }, { transport: TRANSPORT });
      const { sample, errors } = sampleOf(result);
      expect(errors).toEqual([]);
      const expected = whatsminerV3.parse(
        Object.fromEntries(
          [V3_COMMANDS.summary, V3_COMMANDS.edevs, V3_COMMANDS.pools, V3_COMMANDS.deviceInfo].map((c) => [
            c,
            nextReply('whatsminer-v3', V3(c === V3_COMMANDS.deviceInfo ? 'get.device.info' : `get.miner.status-${c.split(' ')[1]}`), 'whatsminer-v3'),
          ]),
        ),
      );
      expect(sample).toEqual(expected);
      expect(server.requests).toEqual([
        { cmd: 'get.miner.status', param: 'summary' },
        { cmd: 'get.miner.status', param: 'edevs' },
        { cmd: 'get.miner.status', param: 'pools' },
        { cmd: 'get.device.info' },
      ]);
    } finally {
      await server.close();
    }
  });

  test('detected: 4028 closed, 4433 answers get.device.info → whatsminer/v3, cached for the next scrape', async () => {
    const server = await startV3Server(v3Fixture);
    const cgminerPort = await closedPort();
    const cache = new Map();
    try {
      const target = { host: '127.0.0.1', port: cgminerPort, ports: { 'whatsminer-v3': server.port } };
      const first = await scrapeMiner(target, { transport: TRANSPORT, dialectCache: cache });
      expect(first.ok && backendId(first.dialect)).toBe('whatsminer/v3');
      const asked = server.requests.length;
      const second = await scrapeMiner(target, { transport: TRANSPORT, dialectCache: cache });
      expect(second.ok).toBe(true);
      // No detection the second time: exactly the backend's four commands.
      expect(server.requests.length - asked).toBe(whatsminerV3.commands.length);
    } finally {
      await server.close();
    }
  });

  test('code -4 (no permission) on the required summary is a failed scrape naming the code', async () => {
    const server = await startV3Server(() => JSON.stringify({ code: -4, when: 1, msg: 'no permission', desc: 'get.miner.status' }));
    try {
      const result = await scrapeMiner({ host: '127.0.0.1', port: server.port, protocol: 'whatsminer-v3' }, { transport: TRANSPORT });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.failure.message).toContain('code -4');
    } finally {
      await server.close();
    }
  });
});

describe('Antminer web CGI over HTTP Digest', () => {
  const routes = {
    [ANTMINER_CGI.summary]: cgi('antminer-s23-hydro-summary.cgi.json'),
    [ANTMINER_CGI.stats]: cgi('antminer-s23-hydro-stats.cgi.json'),
    [ANTMINER_CGI.systemInfo]: cgi('antminer-s19pro-get_system_info.json'),
    [ANTMINER_CGI.minerConf]: cgi('antminer-s19pro-unconfigured-get_miner_conf.json'),
  };
  const digest = { realm: 'antMiner Configuration', user: 'root', password: 'not-the-default' };

  test('answers the challenge once, reuses the nonce, reads the invalid-JSON miner conf, sample as the corpus parse', async () => {
    const server = await startHttpServer({ routes, digest });
    try {
      const result = await scrapeMiner(
        { host: '127.0.0.1', port: server.port, protocol: 'antminer-web', credentials: { user: 'root', password: 'not-the-default' } },
        { transport: TRANSPORT },
      );
      const { sample, errors } = sampleOf(result);
      expect(errors).toEqual([]);
      expect(sample).toEqual(
        antminerWeb.parse(Object.fromEntries(Object.keys(routes).map((p) => [p, nextReply('antminer-cgi', fileOf(p), 'antminer-web')]))),
      );
      // One 401 for the first request; the other three reuse the nonce (nc counts up).
      expect(server.counters.challenges).toBe(1);
      expect(server.counters.requests).toHaveLength(5);
    } finally {
      await server.close();
    }
    function fileOf(p: string): string {
      return {
        [ANTMINER_CGI.summary]: 'antminer-s23-hydro-summary.cgi.json',
        [ANTMINER_CGI.stats]: 'antminer-s23-hydro-stats.cgi.json',
        [ANTMINER_CGI.systemInfo]: 'antminer-s19pro-get_system_info.json',
        [ANTMINER_CGI.minerConf]: 'antminer-s19pro-unconfigured-get_miner_conf.json',
      }[p] as string;
    }
  });

  test('a wrong password is one MINER_AUTH_FAILED after one attempt; the next sweeps back off without a login', async () => {
    const server = await startHttpServer({ routes, digest });
    const backoff = new AuthBackoff({ initialMs: 60_000, maxMs: 3_600_000 });
    let now = 1_800_000_000_000;
    const target = { host: '127.0.0.1', port: server.port, protocol: 'antminer-web' as const, credentials: { user: 'root', password: 'wrong' } };
    try {
      const first = await scrapeMiner(target, { transport: TRANSPORT, authBackoff: backoff, now: () => now });
      expect(first.ok).toBe(false);
      if (first.ok) return;
      expect(first.failure.kind).toBe('auth');
      expect(first.failure.message).not.toContain('wrong');
      // Challenge, one answer, refused: the other three commands are not sent.
      expect(server.counters.requests).toHaveLength(2);
      const spec = { ...catalogSpec(), port: server.port };
      const health = evaluateMinerHealth(first.failure, spec, undefined, now);
      expect(health.faults.map((f) => f.code)).toEqual(['MINER_AUTH_FAILED']);

      now += 30_000;
      const second = await scrapeMiner(target, { transport: TRANSPORT, authBackoff: backoff, now: () => now });
      expect(!second.ok && second.failure.kind).toBe('auth');
      expect(server.counters.requests).toHaveLength(2); // backed off: the miner was not asked
      const again = evaluateMinerHealth(second.ok ? second.sample : second.failure, spec, health.state, now);
      expect(again.faults).toEqual(health.faults); // the same one fault, same since

      now += 61_000;
      await scrapeMiner(target, { transport: TRANSPORT, authBackoff: backoff, now: () => now });
      expect(server.counters.requests).toHaveLength(4); // window over: one more attempt, refused, window doubles
      now += 61_000;
      await scrapeMiner(target, { transport: TRANSPORT, authBackoff: backoff, now: () => now });
      expect(server.counters.requests).toHaveLength(4);
    } finally {
      await server.close();
    }
  });

  test('no credentials configured: the miner is not asked twice, the failure says what to configure', async () => {
    const server = await startHttpServer({ routes, digest });
    try {
      const result = await scrapeMiner({ host: '127.0.0.1', port: server.port, protocol: 'antminer-web' }, { transport: TRANSPORT });
      expect(!result.ok && result.failure.kind).toBe('auth');
      if (!result.ok) expect(result.failure.message).toContain('no credentials are configured');
      expect(server.counters.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});

describe('Braiins OS REST with its token login', () => {
  const routes = Object.fromEntries(Object.entries(BOS_FILES).map(([p, name]) => [p, bos(name)]));

  test('logs in once, keeps the session across scrapes, logs in again once when the token expires', async () => {
    const server = await startHttpServer({ routes, braiinsToken: { user: 'root', password: 'pw-123' } });
    const sessions = new Map<string, string>();
    const target = { host: '127.0.0.1', port: server.port, protocol: 'braiins-rest' as const, credentials: { user: 'root', password: 'pw-123' } };
    try {
      const first = await scrapeMiner(target, { transport: TRANSPORT, sessions });
      const { sample, errors } = sampleOf(first);
      expect(errors).toEqual([]);
      const expected = braiinsRest.parse(
        Object.fromEntries(Object.entries(BOS_FILES).map(([p, name]) => [p, nextReply('braiins-rest', `bos-25.07-s19xp-${name}.json`, 'braiins-rest')])),
      );
      expect(sample).toEqual(expected);
      await scrapeMiner(target, { transport: TRANSPORT, sessions });
      expect(server.counters.logins).toBe(1);
      server.tokens.clear(); // the miner restarted: every session is gone
      const third = await scrapeMiner(target, { transport: TRANSPORT, sessions });
      expect(third.ok).toBe(true);
      expect(server.counters.logins).toBe(2);
    } finally {
      await server.close();
    }
  });

  test('a refused login is an auth failure after one login attempt', async () => {
    const server = await startHttpServer({ routes, braiinsToken: { user: 'root', password: 'right' } });
    try {
      const result = await scrapeMiner({ host: '127.0.0.1', port: server.port, protocol: 'braiins-rest', credentials: { user: 'root', password: 'nope' } }, { transport: TRANSPORT });
      expect(!result.ok && result.failure.kind).toBe('auth');
      expect(server.counters.logins).toBe(1);
      expect(server.counters.requests).toEqual(['POST /api/v1/auth/login']);
    } finally {
      await server.close();
    }
  });
});

describe('ePIC: HTTP on the CGMiner-API port', () => {
  test('detected from 4028 answering HTTP to the cgminer probe; read without login', async () => {
    const routes = {
      [EPIC_PATHS.summary]: epic('summary'),
      [EPIC_PATHS.capabilities]: epic('capabilities'),
      [EPIC_PATHS.network]: epic('network'),
      [EPIC_PATHS.temps]: epic('temps'),
      [EPIC_PATHS.hashrate]: epic('hashrate'),
    };
    const server = await startHttpServer({ routes });
    try {
      const result = await scrapeMiner({ host: '127.0.0.1', port: server.port }, { transport: TRANSPORT });
      expect(result.ok && backendId(result.dialect)).toBe('epic/v1');
      const { sample } = sampleOf(result);
      expect(sample).toEqual(
        epicV1.parse(Object.fromEntries(Object.keys(routes).map((p) => [p, nextReply('epic', `epic-umc-s19xp-${p.slice(1)}.json`, 'epic')]))),
      );
    } finally {
      await server.close();
    }
  });
});

describe('detection picks the richer API, third-party before stock', () => {
  // Stock S19 refuses joined commands (QUIRKS §2.3): cgminer's "Invalid command", after which each is asked alone.
  const legacy = (command: unknown): Buffer =>
    String(command).includes('+')
      ? Buffer.from('{"STATUS":[{"STATUS":"E","When":1650000000,"Code":14,"Msg":"Invalid command","Description":"cgminer 1.0.0"}],"id":1}')
      : rawFixture(`antminer-s19pro-2022-${String(command)}.json`);

  // The S19 Pro capture as a hydro unit would name itself: only hydro units are worth the new_api read (water).
  const legacyHydro = (command: unknown): Buffer => Buffer.from(legacy(command).toString('latin1').replace(/Antminer S19 Pro/g, 'Antminer S23 Hyd.'), 'latin1');

  test('an air-cooled stock Antminer stays on the classic stats (its sleep mode is there), though new_api answers', async () => {
    const miner = await startCgminerServer((req) =>
      req.new_api === true ? cgi(req.command === 'stats' ? 'antminer-s23-hydro-stats.cgi.json' : 'antminer-s23-hydro-summary.cgi.json') : legacy(req.command),
    );
    try {
      const result = await scrapeMiner({ host: '127.0.0.1', port: miner.port }, { transport: TRANSPORT });
      expect(result.ok && backendId(result.dialect)).toBe('antminer-stock');
      expect(miner.requests.some((r) => r.new_api === true)).toBe(false);
    } finally {
      await miner.close();
    }
  });

  test('stock Antminer hydro on 4028 whose stats answer the new_api shape is read through antminer/new-api, the flag top-level', async () => {
    const miner = await startCgminerServer((req) =>
      req.new_api === true
        ? cgi(req.command === 'stats' ? 'antminer-s23-hydro-stats.cgi.json' : 'antminer-s23-hydro-summary.cgi.json')
        : legacyHydro(req.command),
    );
    try {
      const result = await scrapeMiner({ host: '127.0.0.1', port: miner.port }, { transport: TRANSPORT });
      expect(result.ok && backendId(result.dialect)).toBe('antminer/new-api');
      const { sample } = sampleOf(result);
      expect(sample.boards.map((b) => b.serial)).toEqual(['REDACTED-SERIAL', 'REDACTED-SERIAL', 'REDACTED-SERIAL']);
      expect(sample.water).toBeDefined();
      expect(sample.pools.length).toBeGreaterThan(0); // classic pools
      expect(miner.requests).toContainEqual({ command: 'stats', new_api: true });
      expect(miner.requests.some((r) => 'parameter' in r)).toBe(false);
    } finally {
      await miner.close();
    }
  });

  test('stock Antminer whose firmware ignores new_api (legacy shape back) stays on the classic backend', async () => {
    const miner = await startCgminerServer((req) => legacy(req.command));
    try {
      const result = await scrapeMiner({ host: '127.0.0.1', port: miner.port }, { transport: TRANSPORT });
      expect(result.ok && backendId(result.dialect)).toBe('antminer-stock');
    } finally {
      await miner.close();
    }
  });

  test('4028 refused: the web server on 80 names the firmware (VNish /api/v1/info, Braiins token, Antminer Digest)', async () => {
    const refused = await closedPort();
    const noV3 = await closedPort();
    const vnishServer = await startHttpServer({ routes: { '/api/v1/info': '{"miner":"Antminer S19"}' } });
    const bosServer = await startHttpServer({ routes: {}, braiinsToken: { user: 'root', password: 'x' } });
    const amServer = await startHttpServer({ routes: {}, digest: { realm: 'antMiner Configuration', user: 'root', password: 'x' } });
    try {
      const detect = async (port: number) => {
        const result = await scrapeMiner({ host: '127.0.0.1', port: refused, ports: { 'whatsminer-v3': noV3, 'antminer-web': port, 'braiins-rest': port, vnish: port } }, { transport: TRANSPORT });
        return result.dialect ? backendId(result.dialect) : `failed: ${!result.ok && result.failure.message}`;
      };
      expect(await detect(vnishServer.port)).toBe('vnish/v1');
      expect(await detect(bosServer.port)).toBe('braiins/v25_07');
      expect(await detect(amServer.port)).toBe('antminer/web');
    } finally {
      await Promise.all([vnishServer.close(), bosServer.close(), amServer.close()]);
    }
  });
});

describe('VNish HTTP (no public capture: a body with the field paths pyasic reads)', () => {
  // Not a capture (none exists, vnish/SOURCES.md): the shape pyasic's VNish backend reads, to test the transport.
  const summary = JSON.stringify({
    miner: { miner_type: 'Antminer S19j Pro (Vnish 1.2.6)', miner_status: { miner_state: 'mining' }, power_usage: 3171, chains: [{ id: 1, status: { state: 'failure', description: 'chain 1 lost' } }] },
    system: { network_status: { mac: '02:00:00:00:00:01' } },
  });

  test('reads /summary without login and skips /settings; with credentials it unlocks once and reads the preset', async () => {
    let unlocks = 0;
    const server = await startHttpServer({
      routes: {
        '/api/v1/summary': summary,
        '/api/v1/info': '{}',
        '/api/v1/unlock': (_req, res) => {
          unlocks++;
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"token":"t-1"}');
        },
        '/api/v1/settings': (req, res) => {
          res.writeHead(req.headers.authorization === 'Bearer t-1' ? 200 : 401, { 'Content-Type': 'application/json' });
          res.end('{"miner":{"overclock":{"preset":"3100"}}}');
        },
      },
    });
    try {
      const open = await scrapeMiner({ host: '127.0.0.1', port: server.port, protocol: 'vnish' }, { transport: TRANSPORT });
      const { sample, errors } = sampleOf(open);
      expect(errors).toEqual([]);
      expect(server.counters.requests).not.toContain('GET /api/v1/settings');
      expect(sample).toMatchObject({ firmware: 'vnish', model: 'Antminer S19j Pro', firmwareVersion: '1.2.6', mode: 'hashing', powerW: 3171, mac: '02:00:00:00:00:01' });
      expect(sample.firmwareErrors).toEqual([{ code: 'chain failure', text: 'chain 1 lost', component: 'chain 1' }]);
      const withLogin = await scrapeMiner({ host: '127.0.0.1', port: server.port, protocol: 'vnish', credentials: { user: 'admin', password: 'admin' } }, { transport: TRANSPORT });
      expect(sampleOf(withLogin).sample.powerTargetW).toBe(3100);
      expect(unlocks).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('flymining scrape --protocol', () => {
  const BIN = path.resolve(__dirname, '../../../bin/flymining.js');
  function flymining(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  test('antminer-web with --user/--password-file: JSON keeps its keys and adds serial, mac, firmware errors; the password never shows', async () => {
    const password = 'cli-secret-42';
    const server = await startHttpServer({
      routes: {
        [ANTMINER_CGI.summary]: cgi('antminer-s23-hydro-summary.cgi.json'),
        [ANTMINER_CGI.stats]: cgi('antminer-s23-hydro-stats.cgi.json'),
        [ANTMINER_CGI.systemInfo]: cgi('antminer-s19pro-get_system_info.json'),
        [ANTMINER_CGI.minerConf]: cgi('antminer-s19pro-get_miner_conf-redacted.json'),
      },
      digest: { realm: 'antMiner Configuration', user: 'root', password },
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'flymining-cli-'));
    const file = path.join(dir, 'pw');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    try {
      const { code, stdout, stderr } = await flymining('scrape', '127.0.0.1', '--protocol', 'antminer-web', '--port', String(server.port), '--user', 'root', '--password-file', file, '--json');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const out = JSON.parse(stdout.trim()) as Record<string, unknown>;
      for (const key of ['hashrateThs', 'boards', 'fans', 'pools', 'faults', 'mode', 'serial', 'mac', 'errors', 'firmwareErrors']) expect(Object.keys(out)).toContain(key);
      expect(out).toMatchObject({ protocol: 'antminer-web', backend: 'antminer/web', mac: '70:B3:F5:7C:B1:EA', workMode: 'normal', mode: 'hashing', errors: [], firmwareErrors: [] });
      expect((out.boards as unknown[]).length).toBe(3);
      expect(stdout).not.toContain(password);
    } finally {
      await server.close();
    }
  });
});
