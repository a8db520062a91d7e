/**
 * A throwaway InfluxDB 1.x server (Debian's `influxd`) for tests and benchmarks: own port, own data folder
 * under .flymining/, bound to 127.0.0.1. Tests that need InfluxDB to go away and come back use stop()/start().
 * Uplink tests start one with authentication (`auth: true`) and/or HTTPS (`tls`, certificates from
 * makeTestCertificates(), made with the openssl CLI).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HttpEndpoint } from '../../shared/src/influx/http';
import { INFLUXD_ARGS, influxdEnv } from '../services';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestCertificates {
  dir: string;
  /** The CA that signed the server certificate (PEM file). */
  caFile: string;
  /** A second CA that signed nothing the server shows: the "wrong CA" case. */
  otherCaFile: string;
  /** Server certificate for IP 127.0.0.1, signed by caFile. */
  certFile: string;
  keyFile: string;
}

/** A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated second CA, in `dir` (openssl CLI). */
export function makeTestCertificates(dir: string): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    openssl('req', '-x509', ...ecKey, '-keyout', file(`${ca}.key`), '-out', file(`${ca}.pem`), '-days', '2', '-subj', `/CN=FlyMining test ${ca}`);
  }
  openssl('req', ...ecKey, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl(
    'x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('server.pem'), '-days', '2', '-extfile', file('server.ext'),
  );
  return { dir, caFile: file('ca.pem'), otherCaFile: file('other-ca.pem'), certFile: file('server.pem'), keyFile: file('server.key') };
}

export interface InfluxTestServerOptions {
  /** `auth-enabled`: the first CREATE USER (createAdmin()) needs no credentials, everything else does. */
  auth?: boolean;
  /** `https-enabled` with this certificate and key; the harness's own requests trust caFile (unchecked without it). */
  tls?: { certFile: string; keyFile: string; caFile?: string };
  /** Keep InfluxDB's HTTP access log (one line per request): tests count the requests a client made. */
  accessLog?: boolean;
  /** Data folder to use instead of <rootDir>/<port>: a bench fixture kept between runs (stop(), not destroy()). */
  dataDir?: string;
  /** How long start() waits for /ping (default 20 s); a large data folder takes longer to open. */
  startTimeoutMs?: number;
  /** Extra influxd settings (INFLUXDB_* variables), e.g. continuous queries off for a bench. */
  env?: Readonly<Record<string, string>>;
}

/** One request from InfluxDB's access log. */
export interface LoggedRequest {
  method: string;
  /** Path and query string, e.g. `/write?db=x&rp=raw&precision=ms`. */
  path: string;
  status: number;
  /** The user InfluxDB authenticated, '-' when none. */
  user: string;
}

const ACCESS_LOG_LINE = /^\[httpd\] \S+ - (\S+) \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) /;

export interface Credentials {
  username: string;
  password: string;
}

export class InfluxTestServer {
  private child: ChildProcess | undefined;
  readonly dataDir: string;
  /** Set by createAdmin(); used by query() from then on. */
  private admin: Credentials | undefined;
  private readonly accessLog: LoggedRequest[] = [];
  private endpointInstance: HttpEndpoint | undefined;

  constructor(
    readonly httpPort: number,
    readonly rpcPort: number,
    rootDir = path.resolve(__dirname, '../../.flymining/test-influx'),
    readonly options: InfluxTestServerOptions = {},
  ) {
    this.dataDir = options.dataDir ?? path.join(rootDir, String(httpPort));
  }

  static async create(options: InfluxTestServerOptions = {}): Promise<InfluxTestServer> {
    return new InfluxTestServer(await freePort(), await freePort(), undefined, options);
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.httpPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private get endpoint(): HttpEndpoint {
    const caFile = this.options.tls?.caFile;
    this.endpointInstance ??= new HttpEndpoint(this.url, {
      ca: caFile ? readFileSync(caFile, 'utf8') : undefined,
      timeoutMs: 5000,
      headers: {},
      agentOptions: { rejectUnauthorized: caFile !== undefined },
    });
    return this.endpointInstance;
  }

  /** A request as the test harness: admin credentials once created. */
  private request(method: 'GET' | 'POST', pathAndQuery: string, body = '', contentType = 'text/plain') {
    const headers: Record<string, string> = { 'Content-Type': contentType };
    if (this.admin) {
      headers.Authorization = `Basic ${Buffer.from(`${this.admin.username}:${this.admin.password}`).toString('base64')}`;
    }
    return this.endpoint.request(method, pathAndQuery, body, headers);
  }

  /** Runs InfluxQL as the admin (or anonymously before createAdmin()); throws on any error InfluxDB reports. */
  async query(q: string, database?: string): Promise<unknown> {
    const params = new URLSearchParams({ q, ...(database ? { db: database } : {}) });
    const res = await this.request('POST', '/query', params.toString(), 'application/x-www-form-urlencoded');
    const payload = JSON.parse(res.body) as { error?: string; results?: Array<{ error?: string }> };
    const error = payload.error ?? payload.results?.find((r) => r.error)?.error;
    if (res.status >= 300 || error) throw new Error(`test InfluxDB refused "${q}": HTTP ${res.status} ${error ?? res.body}`);
    return payload;
  }

  /** With auth: the first CREATE USER, which InfluxDB 1.x accepts without credentials. */
  async createAdmin(admin: Credentials): Promise<void> {
    await this.query(`CREATE USER "${admin.username}" WITH PASSWORD '${admin.password}' WITH ALL PRIVILEGES`);
    this.admin = admin;
  }

  /** A user that may only write to `database` (GRANT WRITE): what an edge gets. */
  async createWriter(user: Credentials, database: string): Promise<void> {
    await this.query(`CREATE USER "${user.username}" WITH PASSWORD '${user.password}'`);
    await this.query(`GRANT WRITE ON "${database}" TO "${user.username}"`);
  }

  /** Requests InfluxDB logged so far (needs `accessLog: true`), optionally only those whose path starts with a prefix. */
  requests(pathPrefix = ''): LoggedRequest[] {
    return this.accessLog.filter((r) => r.path.startsWith(pathPrefix));
  }

  async start(): Promise<void> {
    if (this.child) return;
    mkdirSync(this.dataDir, { recursive: true });
    const tls = this.options.tls;
    const env = {
      ...process.env,
      // The same influxd environment as the InfluxDB of `npm start` (scripts/services.ts), plus the test's own settings.
      ...influxdEnv({ httpPort: this.httpPort, rpcPort: this.rpcPort, dir: this.dataDir, auth: this.options.auth === true, accessLog: this.options.accessLog === true }),
      INFLUXDB_LOGGING_LEVEL: 'warn',
      // Tests write tens of thousands of series; the 1.x default limit per database is 1M, fine, but keep it explicit.
      INFLUXDB_DATA_MAX_SERIES_PER_DATABASE: '0',
      INFLUXDB_DATA_MAX_VALUES_PER_TAG: '0',
      INFLUXDB_HTTP_HTTPS_ENABLED: tls ? 'true' : 'false',
      ...(tls ? { INFLUXDB_HTTP_HTTPS_CERTIFICATE: tls.certFile, INFLUXDB_HTTP_HTTPS_PRIVATE_KEY: tls.keyFile } : {}),
      ...this.options.env,
    };
    const child = spawn('influxd', INFLUXD_ARGS, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let partial = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
      if (!this.options.accessLog) return;
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = ACCESS_LOG_LINE.exec(line);
        if (m) this.accessLog.push({ user: m[1] as string, method: m[2] as string, path: m[3] as string, status: Number(m[4]) });
      }
    });
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const waitMs = this.options.startTimeoutMs ?? 20_000;
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`influxd exited during start-up: ${stderr}`);
      try {
        // /ping needs no credentials even with auth-enabled.
        const res = await this.request('GET', '/ping');
        if (res.status === 204) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`influxd did not answer /ping within ${waitMs / 1000} s: ${stderr}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    this.endpointInstance?.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
