/**
 * A Redis Sentinel deployment of the test's own: a master, a replica of it and one sentinel (quorum 1), each a real
 * redis-server process on a free port (the sentinel is redis-server in sentinel mode), so a test can kill the master
 * and watch the sentinel promote the replica.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../../scripts/jest/influx-server';

export const SENTINEL_MASTER = 'flymining-test';

export interface SentinelRedis {
  /** The address services take: redis+sentinel://127.0.0.1:<sentinel>/flymining-test/0 */
  url: string;
  masterPort: number;
  replicaPort: number;
  sentinelPort: number;
  /** SIGKILL to the master, as a host that loses power. */
  killMaster(): void;
  /** Waits until the sentinel names the replica as master; the new master's port. */
  failedOver(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch((err: unknown) => {
      if (err instanceof PortTaken) throw err;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`redis sentinel test deployment: ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** One command on a short-lived connection to a port (undefined if it cannot be reached). */
async function ask(port: number, ...command: string[]): Promise<unknown> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(command[0]!, ...command.slice(1));
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts the deployment, again on other ports if one of its ports was taken meanwhile (tests in other processes pick
 * free ports at the same time; a redis-server that cannot bind exits, and its port may answer for another test).
 */
export async function startSentinelRedis(): Promise<SentinelRedis> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt === 3) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(): Promise<SentinelRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-sentinel-'));
  const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const server = (port: number, extra: string[]): ChildProcess => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', `dump-${port}.rdb`, ...extra], { stdio: 'ignore' });
    children.push(child);
    return child;
  };
  const master = server(masterPort, []);
  server(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]);
  const sentinelConf = path.join(dir, 'sentinel.conf');
  // The sentinel rewrites its file as it learns the deployment, so it must be writable.
  writeFileSync(
    sentinelConf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
      `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
      `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
      '',
    ].join('\n'),
  );
  children.push(spawn('redis-server', [sentinelConf, '--sentinel'], { stdio: 'ignore' }));
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Each port answers for the process started on it, or another test holds that port: start again elsewhere.
    for (const [port, child] of [masterPort, replicaPort, sentinelPort].map((p, i) => [p, children[i]!] as const)) {
      const pid = await until(`redis-server on port ${port}`, 10_000, async () => {
        if (child.exitCode !== null) throw new PortTaken(`redis-server on port ${port} exited (port taken?)`);
        const match = /process_id:(\d+)/.exec(String(await ask(port, 'INFO', 'server')));
        return match ? Number(match[1]) : undefined;
      });
      if (pid !== child.pid) throw new PortTaken(`port ${port} answers for another process`);
    }
    // Ready when the replica is in sync and the sentinel has found it (it asks the master every few seconds).
    await until('the replica in sync', 20_000, async () => (String(await ask(replicaPort, 'INFO', 'replication')).includes('master_link_status:up') ? true : undefined));
    await until('the sentinel knowing the replica', 30_000, async () => {
      const replicas = (await ask(sentinelPort, 'SENTINEL', 'REPLICAS', SENTINEL_MASTER)) as unknown[] | undefined;
      return Array.isArray(replicas) && replicas.length === 1 ? true : undefined;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `redis+sentinel://127.0.0.1:${sentinelPort}/${SENTINEL_MASTER}/0`,
    masterPort,
    replicaPort,
    sentinelPort,
    killMaster: () => master.kill('SIGKILL'),
    failedOver: (timeoutMs = 30_000) =>
      until('the sentinel promoting the replica', timeoutMs, async () => {
        const address = (await ask(sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER)) as [string, string] | null;
        return address && Number(address[1]) === replicaPort ? replicaPort : undefined;
      }),
    stop,
  };
}
