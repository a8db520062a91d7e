/**
 * scripts/services.sh for real: starts its own InfluxDB, Redis, PostgreSQL and Mosquitto on spare ports with a
 * separate data folder, reuses a server that already answers, refuses a port held by something else, and `stop`
 * leaves none of its servers running. Its InfluxDB requires credentials (admin password generated into a mode-600
 * file, never printed) and its Redis keeps its data across a restart.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import mqtt from 'mqtt';
import { freePort } from '../../../scripts/jest/influx-server';
import { runBash } from './run-bash';

const repoRoot = path.resolve(__dirname, '../../..');
const servicesScript = path.join(repoRoot, 'scripts/services.sh');
const serverNames = ['influxdb', 'redis', 'postgres', 'mosquitto'] as const;

interface ScriptResult {
  status: number | null;
  output: string;
}

/** The caller's environment without anything that would point services.sh at other servers. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^FLYMINING_(INFLUX|REDIS|PG|MQTT)_(URL|PORT|RPC_PORT)$/.test(key) && key !== 'FLYMINING_STATE_DIR') {
      env[key] = value;
    }
  }
  return { ...env, ...extra };
}

async function runServices(args: string[], env: NodeJS.ProcessEnv): Promise<ScriptResult> {
  const { code, output } = await runBash([servicesScript, ...args], { env });
  return { status: code, output };
}

/** A PID file holds "PID START-TIME"; the start time tells a reused PID from ours. */
function recordedPid(stateDir: string, name: string): number {
  return Number(readFileSync(path.join(stateDir, 'run', `${name}.pid`), 'utf8').split(' ')[0]);
}

/** Running: it exists and is not a zombie (exited, waiting for init to reap it). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A folder every user can traverse: PostgreSQL, started as user postgres when we are root, must reach it. */
function makeStateDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-services-'));
  chmodSync(dir, 0o755);
  return dir;
}

describe('scripts/services.sh', () => {
  const stateDirs: string[] = [];
  let env: NodeJS.ProcessEnv;
  let ports: Record<'influx' | 'influxRpc' | 'redis' | 'pg' | 'mqtt', number>;

  beforeAll(async () => {
    ports = {
      influx: await freePort(),
      influxRpc: await freePort(),
      redis: await freePort(),
      pg: await freePort(),
      mqtt: await freePort(),
    };
    const stateDir = makeStateDir();
    stateDirs.push(stateDir);
    env = cleanEnv({
      FLYMINING_STATE_DIR: stateDir,
      FLYMINING_INFLUX_PORT: String(ports.influx),
      FLYMINING_INFLUX_RPC_PORT: String(ports.influxRpc),
      FLYMINING_REDIS_PORT: String(ports.redis),
      FLYMINING_PG_PORT: String(ports.pg),
      FLYMINING_MQTT_PORT: String(ports.mqtt),
    });
  });

  afterAll(async () => {
    // Whatever a failed assertion left behind must not outlive the test run.
    for (const dir of stateDirs) {
      await runServices(['stop'], cleanEnv({ FLYMINING_STATE_DIR: dir }));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts its own servers on spare ports, reuses them when started again, and stop leaves none running', async () => {
    const stateDir = env.FLYMINING_STATE_DIR as string;
    const started = await runServices(['start', 'all'], env);
    expect(started.output).toContain('starting our own');
    expect(started.status).toBe(0);

    const pids = serverNames.map((name) => recordedPid(stateDir, name));
    for (const pid of pids) expect(isAlive(pid)).toBe(true);

    const status = await runServices(['status'], env);
    for (const name of serverNames) expect(status.output).toMatch(new RegExp(`^${name}\\s+running \\(ours, pid \\d+\\)`, 'm'));

    const exports = (await runServices(['env'], env)).output;
    expect(exports).toContain(`export FLYMINING_INFLUX_URL=http://127.0.0.1:${ports.influx}`);
    expect(exports).toContain(`export FLYMINING_REDIS_URL=redis://127.0.0.1:${ports.redis}/0`);
    expect(exports).toContain(`export FLYMINING_PG_URL=postgres://postgres@127.0.0.1:${ports.pg}/postgres`);
    expect(exports).toContain(`export FLYMINING_MQTT_URL=mqtt://127.0.0.1:${ports.mqtt}`);

    // Each server answers its own protocol.
    const ping = await fetch(`http://127.0.0.1:${ports.influx}/ping`);
    expect(ping.status).toBe(204);

    // InfluxDB: authentication on; the admin's password is in a file only root can read, and never in the output.
    const adminFile = path.join(stateDir, 'secrets', 'influx-admin.pass');
    expect(statSync(adminFile).mode & 0o777).toBe(0o600);
    const adminPassword = readFileSync(adminFile, 'utf8');
    expect(adminPassword.length).toBeGreaterThanOrEqual(32);
    expect(exports).toContain('export FLYMINING_INFLUX_USERNAME=admin');
    expect(exports).toContain(`export FLYMINING_INFLUX_PASSWORD_FILE=${adminFile}`);
    const showDatabases = `http://127.0.0.1:${ports.influx}/query?q=${encodeURIComponent('SHOW DATABASES')}`;
    expect((await fetch(showDatabases)).status).toBe(401);
    const asAdmin = await fetch(showDatabases, { headers: { authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}` } });
    expect(asAdmin.status).toBe(200);
    expect(started.output + exports).not.toContain(adminPassword);

    // Redis: what it held survives a restart of ours (append-only file).
    const redisUrl = `redis://127.0.0.1:${ports.redis}/0`;
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
      await redis.hset('flymining:test:alerts', 'FanFailure', 'firing');
    } finally {
      redis.disconnect();
    }
    const redisPid = recordedPid(stateDir, 'redis');
    expect((await runServices(['stop', 'redis'], env)).status).toBe(0);
    expect(isAlive(redisPid)).toBe(false);
    expect((await runServices(['start', 'redis'], env)).status).toBe(0);
    expect(recordedPid(stateDir, 'redis')).not.toBe(redisPid);
    pids[1] = recordedPid(stateDir, 'redis');
    const restarted = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await restarted.connect();
      expect(await restarted.hget('flymining:test:alerts', 'FanFailure')).toBe('firing');
    } finally {
      restarted.disconnect();
    }
    const answer = execFileSync('psql', [`postgres://postgres@127.0.0.1:${ports.pg}/postgres`, '-Atc', 'select 40 + 2'], {
      encoding: 'utf8',
    });
    expect(answer.trim()).toBe('42');
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { reconnectPeriod: 0, connectTimeout: 5000 });
    try {
      await client.subscribeAsync('flymining/test');
      const received = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())));
      await client.publishAsync('flymining/test', 'hello');
      expect(await received).toBe('hello');
    } finally {
      await client.endAsync();
    }

    // Starting again is a no-op: same processes.
    const again = await runServices(['start', 'all'], env);
    expect(again.status).toBe(0);
    expect(again.output).toContain('already running (ours');
    const pidsAgain = serverNames.map((name) => recordedPid(stateDir, name));
    expect(pidsAgain).toEqual(pids);

    // Another checkout (other state folder) pointed at the same Redis reuses it, and its stop leaves it alone.
    const otherStateDir = makeStateDir();
    stateDirs.push(otherStateDir);
    const otherEnv = { ...env, FLYMINING_STATE_DIR: otherStateDir };
    const reuse = await runServices(['start', 'redis'], otherEnv);
    expect(reuse.status).toBe(0);
    expect(reuse.output).toContain(`reusing the server already answering at redis://127.0.0.1:${ports.redis}/0`);
    // Ours writes an append-only file, so no warning about a Redis that would lose alert state on restart.
    expect(reuse.output).not.toContain('keeps nothing on disk');
    expect((await runServices(['stop'], otherEnv)).output).toContain('none of our servers is running');
    expect(isAlive(pids[1] as number)).toBe(true);

    const stopped = await runServices(['stop'], env);
    expect(stopped.status).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    for (const port of [ports.influx, ports.redis, ports.pg, ports.mqtt]) expect(await acceptsConnections(port)).toBe(false);
    for (const name of serverNames) expect(existsSync(path.join(stateDir, 'run', `${name}.pid`))).toBe(false);
    expect((await runServices(['status'], env)).output).toMatch(/^redis\s+stopped/m);
  });

  it('stop also ends processes started through scripts/lib/processes.sh, children included', async () => {
    const stateDir = makeStateDir();
    stateDirs.push(stateDir);
    const processEnv = cleanEnv({ FLYMINING_STATE_DIR: stateDir });
    // A stand-in for the demo's apps: a shell whose own child (like tsx's) must go too.
    const startScript = `source ${JSON.stringify(path.join(repoRoot, 'scripts/lib/processes.sh'))}
      flymining_start_process demo-app "$FLYMINING_STATE_DIR/log/demo-app.log" bash -c 'sleep 300 & echo child $! ; wait'`;
    const started = spawn('bash', ['-c', startScript], { env: processEnv, stdio: 'ignore' });
    await new Promise((resolve) => started.once('close', resolve));
    const pid = recordedPid(stateDir, 'demo-app');
    expect(isAlive(pid)).toBe(true);
    let childPid = NaN;
    for (let i = 0; i < 50 && Number.isNaN(childPid); i += 1) {
      const match = /child (\d+)/.exec(readFileSync(path.join(stateDir, 'log', 'demo-app.log'), 'utf8'));
      if (match) childPid = Number(match[1]);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(isAlive(childPid)).toBe(true);
    expect((await runServices(['status'], processEnv)).output).toMatch(/^demo-app\s+running \(ours, pid \d+\)/m);

    const stopped = await runServices(['stop'], processEnv);
    expect(stopped.output).toContain('demo-app: stopping');
    expect(isAlive(pid)).toBe(false);
    expect(isAlive(childPid)).toBe(false);
  });

  it('refuses a port held by something that does not speak the protocol, naming the variable to change', async () => {
    const impostor = net.createServer((socket) => {
      socket.on('error', () => undefined); // the probe may hang up first
      socket.end('SSH-2.0-OpenSSH_9.2\r\n');
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const port = (impostor.address() as net.AddressInfo).port;
    try {
      const stateDir = makeStateDir();
      stateDirs.push(stateDir);
      const result = await runServices(['start', 'redis'], cleanEnv({ FLYMINING_STATE_DIR: stateDir, FLYMINING_REDIS_PORT: String(port) }));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain(`port ${port} on 127.0.0.1 is taken by something that does not answer Redis`);
      expect(result.output).toContain('FLYMINING_REDIS_PORT');
      expect(existsSync(path.join(stateDir, 'run', 'redis.pid'))).toBe(false);
    } finally {
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  });
});
