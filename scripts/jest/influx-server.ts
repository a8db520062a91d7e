/**
 * A throwaway InfluxDB 1.x server (Debian's `influxd`) for tests and benchmarks: own port, own data folder
 * under .flymining/, bound to 127.0.0.1. Tests that need InfluxDB to go away and come back use stop()/start().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

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

export class InfluxTestServer {
  private child: ChildProcess | undefined;
  readonly dataDir: string;

  constructor(
    readonly httpPort: number,
    readonly rpcPort: number,
    rootDir = path.resolve(__dirname, '../../.flymining/test-influx'),
  ) {
    this.dataDir = path.join(rootDir, String(httpPort));
  }

  static async create(): Promise<InfluxTestServer> {
    return new InfluxTestServer(await freePort(), await freePort());
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) return;
    mkdirSync(this.dataDir, { recursive: true });
    const env = {
      ...process.env,
      INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${this.httpPort}`,
      INFLUXDB_BIND_ADDRESS: `127.0.0.1:${this.rpcPort}`,
      INFLUXDB_META_DIR: path.join(this.dataDir, 'meta'),
      INFLUXDB_DATA_DIR: path.join(this.dataDir, 'data'),
      INFLUXDB_DATA_WAL_DIR: path.join(this.dataDir, 'wal'),
      INFLUXDB_MONITOR_STORE_ENABLED: 'false',
      INFLUXDB_REPORTING_DISABLED: 'true',
      INFLUXDB_HTTP_LOG_ENABLED: 'false',
      INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
      INFLUXDB_LOGGING_LEVEL: 'warn',
      // Tests write tens of thousands of series; the 1.x default limit per database is 1M, fine, but keep it explicit.
      INFLUXDB_DATA_MAX_SERIES_PER_DATABASE: '0',
      INFLUXDB_DATA_MAX_VALUES_PER_TAG: '0',
    };
    const child = spawn('influxd', ['-config', '/dev/null'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`influxd exited during start-up: ${stderr}`);
      try {
        const res = await fetch(`${this.url}/ping`);
        if (res.status === 204) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`influxd did not answer /ping within 20 s: ${stderr}`);
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
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
