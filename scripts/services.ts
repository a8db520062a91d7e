/**
 * FlyMining's local service manager: InfluxDB, Redis, PostgreSQL and Mosquitto, described in ONE table (SERVERS).
 * A server already answering on its configured port is reused and never stopped by us; otherwise we start our own,
 * bound to 127.0.0.1, with data under $FLYMINING_STATE_DIR (default .flymining/) and its PID (and start time) in
 * $FLYMINING_STATE_DIR/run/<name>.pid. Probes use the clients the project already has: fetch, ioredis, pg, mqtt.
 *
 *   node -r tsx/cjs scripts/services.ts start [influxdb|redis|postgres|mosquitto|all]... [--print-started]
 *   node -r tsx/cjs scripts/services.ts stop [NAME]...   (no name: also every process of scripts/lib/processes.sh)
 *   node -r tsx/cjs scripts/services.ts status | env | url NAME | influx-access
 *
 * The bash scripts (scripts/lib/servers.sh) call it after `npm ci` (scripts/lib/deps.sh); the Debian packages of a
 * missing server are installed through deps.sh too. scripts/jest/influx-server.ts takes influxd's environment from
 * influxdEnv() here. Our InfluxDB runs with authentication on: at its first start an admin user is created with a
 * generated password in $FLYMINING_STATE_DIR/secrets/influx-admin.pass (mode 600, never printed). Our Redis keeps
 * its data (append-only file) across restarts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Redis from 'ioredis';
import mqtt from 'mqtt';
import { Client } from 'pg';

// ---- where things live ----

export const ROOT = path.resolve(__dirname, '..');

export interface Paths {
  state: string;
  run: string;
  log: string;
  secrets: string;
}

export function paths(env: NodeJS.ProcessEnv = process.env): Paths {
  const state = env.FLYMINING_STATE_DIR || path.join(ROOT, '.flymining');
  return { state, run: path.join(state, 'run'), log: path.join(state, 'log'), secrets: path.join(state, 'secrets') };
}

// ---- messages ----

export class ServiceError extends Error {}

function say(message: string): void {
  process.stderr.write(`[flymining] ${message}\n`);
}
function warn(message: string): void {
  process.stderr.write(`[flymining] warning: ${message}\n`);
}
function die(message: string): never {
  throw new ServiceError(message);
}

const isRoot = (): boolean => process.getuid?.() === 0;

// ---- influxd's environment: the one table our InfluxDB and the tests' throwaway ones share ----

export interface InfluxdOptions {
  httpPort: number;
  rpcPort: number;
  /** meta/, data/ and wal/ go here. */
  dir: string;
  auth: boolean;
  /** InfluxDB's HTTP access log (one line per request). */
  accessLog?: boolean;
}

/** influxd reads its whole configuration from the environment; run it with `-config /dev/null` to keep /etc out. */
export function influxdEnv(o: InfluxdOptions): Record<string, string> {
  return {
    INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${o.httpPort}`,
    INFLUXDB_BIND_ADDRESS: `127.0.0.1:${o.rpcPort}`,
    INFLUXDB_META_DIR: path.join(o.dir, 'meta'),
    INFLUXDB_DATA_DIR: path.join(o.dir, 'data'),
    INFLUXDB_DATA_WAL_DIR: path.join(o.dir, 'wal'),
    INFLUXDB_MONITOR_STORE_ENABLED: 'false',
    INFLUXDB_REPORTING_DISABLED: 'true',
    INFLUXDB_HTTP_LOG_ENABLED: o.accessLog ? 'true' : 'false',
    INFLUXDB_HTTP_AUTH_ENABLED: o.auth ? 'true' : 'false',
    INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
  };
}

export const INFLUXD_ARGS = ['-config', '/dev/null'];

// ---- programs ----

function onPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (isExecutable(file)) return file;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  return spawnSync('test', ['-x', file]).status === 0 && !lstatSafe(file)?.isDirectory();
}

function lstatSafe(file: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

/** Finds a program even when it lives in an sbin folder that a normal user's PATH lacks (mosquitto does). */
function findProgram(name: string): string | undefined {
  return onPath(name) ?? ['/usr/sbin', '/sbin', '/usr/local/sbin'].map((d) => path.join(d, name)).find(isExecutable);
}

/** Debian keeps PostgreSQL's server programs out of PATH, in /usr/lib/postgresql/<major>/bin. */
export function pgBindir(): string | undefined {
  let majors: string[] = [];
  try {
    majors = readdirSync('/usr/lib/postgresql');
  } catch {
    /* not installed there */
  }
  const dirs = majors
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .map((m) => path.join('/usr/lib/postgresql', m, 'bin'))
    .filter((d) => isExecutable(path.join(d, 'initdb')));
  const last = dirs[dirs.length - 1];
  if (last) return last;
  const initdb = onPath('initdb');
  return initdb ? path.dirname(initdb) : undefined;
}

// ---- processes: "PID START-TIME" files, shared with scripts/lib/processes.sh ----

/** Field 22 of /proc/PID/stat (clock ticks since boot); undefined when gone or a zombie. */
export function startTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).trim().split(/\s+/);
  if (fields[0] === 'Z') return undefined;
  return fields[19];
}

/** The PID recorded under NAME when that very process still runs; a stale file is removed. */
export function recordedPid(p: Paths, name: string): number | undefined {
  const file = path.join(p.run, `${name}.pid`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pidText = '', started = ''] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (/^\d+$/.test(pidText) && startTime(pid) === started) return pid;
  rmSync(file, { force: true });
  return undefined;
}

function writePidFile(p: Paths, name: string, pid: number): void {
  mkdirSync(p.run, { recursive: true });
  writeFileSync(path.join(p.run, `${name}.pid`), `${pid} ${startTime(pid) ?? 0}\n`);
}

/** Runs a server detached in its own session (a Ctrl-C meant for the caller does not reach it), output to LOG. */
function spawnServer(p: Paths, name: string, log: string, command: string, args: string[], env?: Record<string, string>): void {
  mkdirSync(path.dirname(log), { recursive: true });
  const fd = openSync(log, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    child.unref();
    if (child.pid === undefined) die(`${name} did not start (${command}); see ${log}`);
    writePidFile(p, name, child.pid);
  } finally {
    closeSync(fd);
  }
}

function alive(pid: number, group: boolean): boolean {
  try {
    process.kill(group ? -pid : pid, 0);
  } catch {
    return false;
  }
  if (!group) return startTime(pid) !== undefined;
  // A group is alive while one of its members is not a zombie.
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).trim().split(/\s+/);
      if (fields[2] === String(pid) && fields[0] !== 'Z') return true;
    } catch {
      /* gone meanwhile */
    }
  }
  return false;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for each PID (or process group) to go, sending SIGKILL to what is still there after 20 s. */
async function waitGone(targets: Array<{ pid: number; group: boolean }>): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const t of targets) {
    while (alive(t.pid, t.group)) {
      if (Date.now() >= deadline) {
        warn(`process ${t.pid} did not stop within 20 s; killing it`);
        try {
          process.kill(t.group ? -t.pid : t.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        break;
      }
      await sleep(100);
    }
  }
}

// ---- probes ----

/** 'ok' it answers and lets us in; 'refused' it answers but refuses us (auth); 'other' something else holds the
 *  port; 'none' nothing listens. */
export type ProbeResult = 'ok' | 'refused' | 'other' | 'none';

/** Connects without sending anything: 'none' nothing listens; 'speaks' it greets first or hangs up at once (SSH,
 *  SMTP, ...: none of our four servers does, and they never get a request of ours); 'silent' it waits for us. */
async function listening(port: number): Promise<'none' | 'speaks' | 'silent'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (answer: 'none' | 'speaks' | 'silent') => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2000, () => done('none'));
    socket.once('connect', () => {
      socket.setTimeout(0);
      setTimeout(() => done('silent'), 100);
    });
    socket.once('data', () => done('speaks'));
    socket.once('end', () => done('speaks'));
    socket.once('error', () => done('none'));
  });
}

async function probeInflux(url: string): Promise<ProbeResult> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(3000) });
    if (!res.headers.get('x-influxdb-version')) return 'other';
    return res.status === 204 ? 'ok' : 'refused';
  } catch {
    return 'other';
  }
}

function redisClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
    commandTimeout: 3000,
  });
}

async function withRedis<T>(url: string, use: (r: Redis) => Promise<T>): Promise<T> {
  const redis = redisClient(url);
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

async function probeRedis(url: string): Promise<ProbeResult> {
  try {
    return (await withRedis(url, (r) => r.ping())) === 'PONG' ? 'ok' : 'other';
  } catch (err) {
    return /NOAUTH|WRONGPASS|invalid password/i.test(String(err)) ? 'refused' : 'other';
  }
}

/** Whether the Redis at URL writes an append-only file or snapshots (one refusing CONFIG gets the benefit of the doubt). */
async function redisKeepsData(url: string): Promise<boolean> {
  try {
    return await withRedis(url, async (r) => {
      const appendonly = (await r.config('GET', 'appendonly')) as string[];
      const save = (await r.config('GET', 'save')) as string[];
      if (appendonly[1] === 'yes') return true;
      return save[1] !== '' || appendonly[1] !== 'no';
    });
  } catch {
    return true;
  }
}

async function probePostgres(url: string): Promise<ProbeResult> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return 'ok';
  } catch (err) {
    // A PostgreSQL that refuses us answers with an error of its protocol (a SQLSTATE) or asks for a password.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return 'refused';
    return /password|SASL|authentication/i.test(String(err)) ? 'refused' : 'other';
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeMqtt(url: string): Promise<ProbeResult> {
  try {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, clean: true, protocolVersion: 4 });
    await client.endAsync(true);
    return 'ok';
  } catch (err) {
    return /not authorized|bad username|Connection refused: /i.test(String(err)) ? 'refused' : 'other';
  }
}

// ---- the servers ----

export type ServerName = 'influxdb' | 'redis' | 'postgres' | 'mosquitto';

interface StartContext {
  paths: Paths;
  port: number;
  /** $FLYMINING_STATE_DIR/<name>. */
  dir: string;
}

interface Server {
  name: ServerName;
  aliases: string[];
  portVar: string;
  defaultPort: number;
  /** The variable a user sets to point FlyMining at a server of their own. */
  urlVar: string;
  url(port: number): string;
  /** Debian package with the server's program. */
  debianPackage: string;
  protocol: string;
  haveProgram(): boolean;
  probe(url: string): Promise<ProbeResult>;
  /** Starts it in the background; the PID file is written here. */
  start(ctx: StartContext): void;
  /** The log to show when it does not come up. */
  log(ctx: StartContext): string;
  /** PostgreSQL treats SIGTERM as "wait for every client to leave"; SIGINT is its fast shutdown. */
  stopSignal: NodeJS.Signals;
  /** After it first answers. */
  ready?(p: Paths, url: string): Promise<void>;
}

export const SERVERS: readonly Server[] = [
  {
    name: 'influxdb', aliases: ['influx'], debianPackage: 'influxdb', protocol: "InfluxDB's HTTP API",
    portVar: 'FLYMINING_INFLUX_PORT', defaultPort: 8086, urlVar: 'FLYMINING_INFLUX_URL', url: (port) => `http://127.0.0.1:${port}`,
    haveProgram: () => onPath('influxd') !== undefined, probe: probeInflux,
    start({ paths: p, port, dir }) {
      mkdirSync(dir, { recursive: true });
      const rpcPort = Number(process.env.FLYMINING_INFLUX_RPC_PORT || port + 2);
      spawnServer(p, 'influxdb', path.join(p.log, 'influxdb.log'), 'influxd', INFLUXD_ARGS, influxdEnv({ httpPort: port, rpcPort, dir, auth: true }));
    },
    log: ({ paths: p }) => path.join(p.log, 'influxdb.log'),
    stopSignal: 'SIGTERM',
    ready: (p, url) => bootstrapInfluxAdmin(p, url),
  },
  {
    name: 'redis', aliases: [], debianPackage: 'redis-server', protocol: 'Redis',
    portVar: 'FLYMINING_REDIS_PORT', defaultPort: 6379, urlVar: 'FLYMINING_REDIS_URL', url: (port) => `redis://127.0.0.1:${port}/0`,
    haveProgram: () => onPath('redis-server') !== undefined, probe: probeRedis,
    start({ paths: p, port, dir }) {
      mkdirSync(dir, { recursive: true });
      // Append-only file, fsynced every second: a restart keeps alert state, silences and the active faults.
      spawnServer(p, 'redis', path.join(p.log, 'redis.log'), 'redis-server', [
        '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--daemonize', 'no', '--save', '',
        '--appendonly', 'yes', '--appendfsync', 'everysec', '--logfile', '',
      ]);
    },
    log: ({ paths: p }) => path.join(p.log, 'redis.log'),
    stopSignal: 'SIGTERM',
  },
  {
    name: 'postgres', aliases: ['postgresql', 'pg'], debianPackage: 'postgresql', protocol: 'PostgreSQL',
    portVar: 'FLYMINING_PG_PORT', defaultPort: 5432, urlVar: 'FLYMINING_PG_URL', url: (port) => `postgres://postgres@127.0.0.1:${port}/postgres`,
    haveProgram: () => pgBindir() !== undefined, probe: probePostgres,
    start: startPostgres,
    log: ({ dir }) => path.join(dir, 'postgres.log'),
    stopSignal: 'SIGINT',
  },
  {
    name: 'mosquitto', aliases: ['mqtt'], debianPackage: 'mosquitto', protocol: 'MQTT',
    portVar: 'FLYMINING_MQTT_PORT', defaultPort: 1883, urlVar: 'FLYMINING_MQTT_URL', url: (port) => `mqtt://127.0.0.1:${port}`,
    haveProgram: () => findProgram('mosquitto') !== undefined, probe: probeMqtt,
    start({ paths: p, port, dir }) {
      mkdirSync(dir, { recursive: true });
      const conf = path.join(dir, 'mosquitto.conf');
      // No pid_file and no persistence: run as root, mosquitto drops to user 'mosquitto', who may not be able to
      // write into this folder. We track the PID ourselves; messages live only as long as the broker.
      writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'));
      spawnServer(p, 'mosquitto', path.join(p.log, 'mosquitto.log'), findProgram('mosquitto') ?? 'mosquitto', ['-c', conf]);
    },
    log: ({ paths: p }) => path.join(p.log, 'mosquitto.log'),
    stopSignal: 'SIGTERM',
  },
];

export const SERVER_NAMES = SERVERS.map((s) => s.name);

function server(name: ServerName): Server {
  const found = SERVERS.find((s) => s.name === name);
  if (!found) die(`unknown server '${name}'`);
  return found;
}

export function portOf(s: Server, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[s.portVar];
  if (!raw) return s.defaultPort;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) die(`${s.portVar}=${raw} is not a port (1-65535)`);
  return Number(raw);
}

export function urlOf(s: Server, env: NodeJS.ProcessEnv = process.env): string {
  return env[s.urlVar] || s.url(portOf(s, env));
}

/** Names, aliases and `all` (or nothing) to server names, in the table's order when `all`. */
export function expand(names: string[]): ServerName[] {
  const list = names.length === 0 ? ['all'] : names;
  const out: ServerName[] = [];
  for (const name of list) {
    if (name === 'all') out.push(...SERVER_NAMES);
    else {
      const s = SERVERS.find((x) => x.name === name || x.aliases.includes(name));
      if (!s) die(`unknown server '${name}' (known: ${SERVER_NAMES.join(' ')} all)`);
      out.push(s.name);
    }
  }
  return out;
}

async function probe(s: Server): Promise<ProbeResult> {
  const first = await listening(portOf(s));
  if (first === 'none') return 'none';
  if (first === 'speaks') return 'other';
  return s.probe(s.url(portOf(s)));
}

// ---- PostgreSQL: initdb and pg_ctl as user postgres when we are root (PostgreSQL refuses root) ----

export function asPgOwner(command: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function startPostgres({ paths: p, port, dir: wanted }: StartContext): void {
  const bindir = pgBindir() ?? die("PostgreSQL's initdb not found (package postgresql)");
  let dir = wanted;
  mkdirSync(dir, { recursive: true });
  if (isRoot()) {
    spawnSync('chown', ['postgres:', dir]);
    if (spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]).status !== 0) {
      // The checkout sits where user postgres cannot reach (e.g. under /root); keep the cluster in /var/lib.
      const id = spawnSync('md5sum', { input: p.state, encoding: 'utf8' }).stdout.slice(0, 12);
      const outside = path.join('/var/lib/flymining', id, 'postgres');
      say(`user postgres cannot reach ${dir}; keeping PostgreSQL's data in ${outside}`);
      try {
        rmdirSync(dir);
      } catch {
        /* a link already, or not empty */
      }
      mkdirSync(outside, { recursive: true });
      spawnSync('chown', ['postgres:', outside]);
      chmodSync(path.dirname(outside), 0o755);
      rmSync(dir, { force: true });
      symlinkSync(outside, dir);
      dir = outside;
    }
  }
  if (!existsSync(path.join(dir, 'data', 'PG_VERSION'))) {
    say(`creating a PostgreSQL cluster in ${dir}/data`);
    const initdbLog = path.join(p.log, 'postgres-initdb.log');
    const [cmd, args] = asPgOwner(path.join(bindir, 'initdb'), ['-D', path.join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    const result = spawnSync(cmd, args, { encoding: 'utf8' });
    writeFileSync(initdbLog, (result.stdout ?? '') + (result.stderr ?? ''));
    if (result.status !== 0) die(`initdb failed; see ${initdbLog}`);
  }
  // TCP only (no Unix socket): socket paths are length-limited and need a folder user postgres can write.
  // setsid: the postmaster gets its own session, so a Ctrl-C meant for the caller does not reach it.
  const [cmd, args] = asPgOwner(path.join(bindir, 'pg_ctl'), [
    '-D', path.join(dir, 'data'), '-l', path.join(dir, 'postgres.log'), '-w', '-t', '30',
    '-o', `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories='' -c fsync=off`, 'start',
  ]);
  if (spawnSync('setsid', ['-w', cmd, ...args], { stdio: 'ignore' }).status !== 0) die(`PostgreSQL did not start; see ${dir}/postgres.log`);
  const pid = Number(readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  writePidFile(p, 'postgres', pid);
}

// ---- secrets and InfluxDB users ----

/** The path of the password file secrets/NAME, generating 32 random letters and digits into it when missing. */
export function secretFile(p: Paths, name: string): string {
  const file = path.join(p.secrets, name);
  let existing = '';
  try {
    existing = readFileSync(file, 'utf8');
  } catch {
    /* missing */
  }
  if (existing.length === 0) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    chmodSync(p.secrets, 0o700);
    chmodSync(path.dirname(file), 0o700);
    let password = '';
    while (password.length < 32) password += randomBytes(48).toString('base64').replace(/[^A-Za-z0-9]/g, '');
    writeFileSync(`${file}.new`, password.slice(0, 32), { mode: 0o600 });
    renameSync(`${file}.new`, file);
  }
  chmodSync(file, 0o600);
  return file;
}

type ExecResult = { ok: true } | { ok: false; kind: 'error' | 'refused' | 'unreachable'; message: string };

/** One InfluxQL statement on our local InfluxDB (no credentials when user is empty). Passwords never in messages. */
export async function influxExec(url: string, user: string, passwordFile: string, statement: string): Promise<ExecResult> {
  const target = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(target.hostname)) {
    return { ok: false, kind: 'unreachable', message: `InfluxDB users are managed only on a local InfluxDB (127.0.0.1), not ${url}` };
  }
  let password = '';
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (user) {
    try {
      password = readFileSync(passwordFile, 'utf8');
    } catch {
      return { ok: false, kind: 'refused', message: `cannot read ${passwordFile}` };
    }
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, '')}/query`, { method: 'POST', headers, body: new URLSearchParams({ q: statement }).toString(), signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    return { ok: false, kind: 'unreachable', message: String(err) };
  }
  if (res.status === 401 || res.status === 403) return { ok: false, kind: 'refused', message: `HTTP ${res.status}` };
  const body = await res.text();
  if (res.status !== 200 || body.includes('"error"')) {
    let masked = password ? body.split(password).join('***') : body;
    masked = masked.replace(/'[A-Za-z0-9]{32}'/g, "'***'");
    return { ok: false, kind: 'error', message: masked.slice(0, 300) };
  }
  return { ok: true };
}

/** auth: our admin credential works; open: InfluxDB answers without credentials (authentication off); refused: neither. */
export async function influxAccess(p: Paths, url: string): Promise<'auth' | 'open' | 'refused'> {
  const admin = path.join(p.secrets, 'influx-admin.pass');
  if (nonEmpty(admin) && (await influxExec(url, 'admin', admin, 'SHOW USERS')).ok) return 'auth';
  if ((await influxExec(url, '', '', 'SHOW DATABASES')).ok) return 'open';
  return 'refused';
}

function nonEmpty(file: string): boolean {
  try {
    return readFileSync(file).length > 0;
  } catch {
    return false;
  }
}

/** At our InfluxDB's first start (no user yet, authentication on) InfluxDB lets exactly one statement in without
 *  credentials: creating the first admin. Later starts find the admin's password file and check it. */
async function bootstrapInfluxAdmin(p: Paths, url: string): Promise<void> {
  const admin = secretFile(p, 'influx-admin.pass');
  if ((await influxExec(url, 'admin', admin, 'SHOW USERS')).ok) return;
  const password = readFileSync(admin, 'utf8');
  const created = await influxExec(url, '', '', `CREATE USER admin WITH PASSWORD '${password}' WITH ALL PRIVILEGES`);
  if (created.ok) {
    say(`influxdb: authentication on; admin user created (password in ${admin})`);
    return;
  }
  const dataDir = path.join(p.state, 'influxdb');
  die(
    `influxdb: its users (in ${dataDir}) do not accept the admin password in ${admin}${created.message ? ` (${created.message})` : ''}; put admin's password there, or remove ${dataDir} (its data goes too) to start afresh`,
  );
}

// ---- commands ----

/** Installs the Debian packages through scripts/lib/deps.sh (apt-get once, quieting the distribution's services). */
function ensureDebianPackages(packages: string[]): void {
  if (packages.length === 0) return;
  const script = `source ${JSON.stringify(path.join(ROOT, 'scripts/lib/deps.sh'))}; flymining_ensure_debian_packages "$@"`;
  // Its output goes to stderr: stdout carries the answer of `start --print-started`.
  const result = spawnSync('bash', ['-c', script, 'deps', ...packages], { stdio: ['inherit', 2, 2] });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

async function startOne(p: Paths, s: Server): Promise<boolean> {
  const port = portOf(s);
  const url = s.url(port);
  const ours = recordedPid(p, s.name);
  if (ours !== undefined) {
    say(`${s.name}: already running (ours, pid ${ours}) at ${url}`);
    return false;
  }
  const ctx: StartContext = { paths: p, port, dir: path.join(p.state, s.name) };
  say(`${s.name}: starting our own on 127.0.0.1:${port} (data in ${ctx.dir})`);
  s.start(ctx);
  const deadline = Date.now() + 30_000;
  let pid: number | undefined;
  while (Date.now() < deadline) {
    pid = recordedPid(p, s.name);
    if (pid === undefined) {
      let tail = '';
      try {
        tail = readFileSync(s.log(ctx), 'utf8').split('\n').slice(-16).join('\n');
      } catch {
        /* no log */
      }
      die(`${s.name} exited during start-up; last lines of ${s.log(ctx)}:\n${tail}`);
    }
    if ((await probe(s)) === 'ok') {
      if (s.ready) await s.ready(p, url);
      say(`${s.name}: ready (pid ${pid}) at ${url}`);
      return true;
    }
    await sleep(100);
  }
  die(`${s.name} (pid ${pid}) did not answer on 127.0.0.1:${port} within 30 s; see ${s.log(ctx)}`);
}

/** Starts (or reuses) the servers; returns those it started itself. */
export async function startServices(names: string[]): Promise<ServerName[]> {
  const p = paths();
  mkdirSync(p.run, { recursive: true });
  mkdirSync(p.log, { recursive: true });
  const toStart: Server[] = [];
  const packages: string[] = [];
  for (const s of expand(names).map(server)) {
    const external = process.env[s.urlVar];
    if (external) {
      say(`${s.name}: using ${s.urlVar}=${external} (not starting one)`);
      continue;
    }
    if (recordedPid(p, s.name) !== undefined) {
      toStart.push(s);
      continue;
    }
    const url = urlOf(s);
    const port = portOf(s);
    switch (await probe(s)) {
      case 'ok':
        say(`${s.name}: reusing the server already answering at ${url}`);
        if (s.name === 'redis' && !(await redisKeepsData(url))) {
          warn(
            `redis: the Redis at ${url} keeps nothing on disk (no append-only file, no snapshots): restarting it loses alert state (set FLYMINING_REDIS_PORT to a free port to have ours, persistent, started instead)`,
          );
        }
        if (s.name === 'influxdb' && (await influxAccess(p, url)) === 'open') {
          warn(
            `influxdb: the InfluxDB at ${url} is not ours and has authentication off: it is used as it is, without credentials (set FLYMINING_INFLUX_PORT to a free port to have ours, with authentication, started instead)`,
          );
        }
        break;
      case 'refused':
        die(`${s.name}: the server on 127.0.0.1:${port} answers ${s.protocol} but refuses ${url} (authentication?); set ${s.urlVar} to a URL it accepts, or ${s.portVar} to a free port so we start our own`);
      case 'other':
        die(`${s.name}: port ${port} on 127.0.0.1 is taken by something that does not answer ${s.protocol}; free it or set ${s.portVar} to another port`);
      case 'none':
        toStart.push(s);
        if (!s.haveProgram()) packages.push(s.debianPackage);
        break;
    }
  }
  ensureDebianPackages(packages);
  const started: ServerName[] = [];
  for (const s of toStart) if (await startOne(p, s)) started.push(s.name);
  return started;
}

/** Names of the processes with a PID file that are not servers (scripts/lib/processes.sh's, e.g. the demo's apps). */
function processNames(p: Paths): string[] {
  let files: string[] = [];
  try {
    files = readdirSync(p.run);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith('.pid'))
    .map((f) => f.slice(0, -4))
    .filter((n) => !(SERVER_NAMES as string[]).includes(n))
    .sort();
}

/** Stops what the scripts started: first the processes that use the servers (each whole session), then the servers,
 *  each asked at once and then waited for (up to 20 s, then SIGKILL). With names, only those servers. */
export async function stopServices(names: string[]): Promise<void> {
  const p = paths();
  const services = names.length === 0 ? SERVER_NAMES : expand(names);
  if (names.length === 0) {
    const targets: Array<{ pid: number; group: boolean }> = [];
    for (const name of processNames(p)) {
      const pid = recordedPid(p, name);
      if (pid === undefined) continue;
      say(`${name}: stopping (pid ${pid})`);
      // The whole session: tsx, for one, runs the program in a child process.
      try {
        process.kill(-pid, 'SIGTERM');
        targets.push({ pid, group: true });
      } catch {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
        targets.push({ pid, group: false });
      }
      rmSync(path.join(p.run, `${name}.pid`), { force: true });
    }
    await waitGone(targets);
  }
  const targets: Array<{ pid: number; group: boolean }> = [];
  for (const s of services.map(server)) {
    const pid = recordedPid(p, s.name);
    if (pid === undefined) continue;
    say(`${s.name}: stopping (pid ${pid})`);
    try {
      process.kill(pid, s.stopSignal);
    } catch {
      /* gone */
    }
    targets.push({ pid, group: false });
    rmSync(path.join(p.run, `${s.name}.pid`), { force: true });
  }
  if (targets.length === 0) {
    say('none of our servers is running');
    return;
  }
  await waitGone(targets);
  say(`stopped ${targets.length} server(s)`);
}

export async function statusLines(): Promise<string[]> {
  const p = paths();
  const pad = (name: string) => name.padEnd(10);
  const lines: string[] = [];
  for (const s of SERVERS) {
    const pid = recordedPid(p, s.name);
    const external = process.env[s.urlVar];
    if (pid !== undefined) lines.push(`${pad(s.name)} running (ours, pid ${pid})  ${urlOf(s)}`);
    else if (external) lines.push(`${pad(s.name)} external (from ${s.urlVar})  ${external}`);
    else {
      const result = await probe(s);
      if (result === 'ok') lines.push(`${pad(s.name)} running (not ours, reused)  ${urlOf(s)}`);
      else if (result === 'refused') lines.push(`${pad(s.name)} running (not ours) but refuses ${urlOf(s)}`);
      else if (result === 'other') lines.push(`${pad(s.name)} port ${portOf(s)} taken by something that does not answer ${s.protocol}`);
      else lines.push(`${pad(s.name)} stopped  (port ${portOf(s)})`);
    }
  }
  for (const name of processNames(p)) {
    const pid = recordedPid(p, name);
    if (pid !== undefined) lines.push(`${pad(name)} running (ours, pid ${pid})`);
  }
  return lines;
}

/** bash's printf %q for the values we print: plain words as they are, anything else single-quoted. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `export FLYMINING_*_URL=...` lines (and our InfluxDB's admin credential when ours runs). */
export function envLines(): string[] {
  const p = paths();
  const lines = SERVERS.map((s) => `export ${s.urlVar}=${shellQuote(urlOf(s))}`);
  const admin = path.join(p.secrets, 'influx-admin.pass');
  if (!process.env.FLYMINING_INFLUX_URL && recordedPid(p, 'influxdb') !== undefined && nonEmpty(admin)) {
    lines.push('export FLYMINING_INFLUX_USERNAME=admin', `export FLYMINING_INFLUX_PASSWORD_FILE=${shellQuote(admin)}`);
  }
  return lines;
}

const USAGE = `usage: services start [influxdb|redis|postgres|mosquitto|all]...   start ours or reuse what answers
       services stop [NAME]...                                     stop the servers we started
       services status                                             what runs, where
       services env                                                export lines for FLYMINING_*_URL
`;

export async function main(argv: string[]): Promise<number> {
  const [command = 'status', ...rest] = argv;
  switch (command) {
    case 'start': {
      const print = rest.includes('--print-started');
      const started = await startServices(rest.filter((a) => a !== '--print-started'));
      if (print) for (const name of started) process.stdout.write(`${name}\n`);
      return 0;
    }
    case 'stop':
      await stopServices(rest);
      return 0;
    case 'status':
      process.stdout.write((await statusLines()).map((l) => `${l}\n`).join(''));
      return 0;
    case 'env':
      process.stdout.write(envLines().map((l) => `${l}\n`).join(''));
      return 0;
    case 'url': {
      const [name] = expand(rest.slice(0, 1));
      process.stdout.write(`${urlOf(server(name ?? 'influxdb'))}\n`);
      return 0;
    }
    case 'missing-packages':
      // The Debian packages of the named servers whose programs are not installed, one a line.
      for (const s of expand(rest).map(server)) if (!s.haveProgram()) process.stdout.write(`${s.debianPackage}\n`);
      return 0;
    case 'influx-access':
      process.stdout.write(`${await influxAccess(paths(), urlOf(server('influxdb')))}\n`);
      return 0;
    case '-h':
    case '--help':
    case 'help':
      process.stderr.write(USAGE);
      return 2;
    default:
      process.stderr.write(`services: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`[flymining] error: ${err instanceof ServiceError ? err.message : String(err instanceof Error ? err.stack : err)}\n`);
      process.exit(1);
    },
  );
}
