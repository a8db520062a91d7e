/**
 * A PostgreSQL primary and a streaming replica of it, of the test's own: initdb, pg_basebackup -R and pg_ctl on free
 * ports (as user postgres when the tests run as root, which PostgreSQL refuses), so a test can read from a real
 * standby, pause its replay to make it lag, and stop it.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { asPgOwner, pgBindir } from '../../scripts/services';
import { freePort } from '../../scripts/jest/influx-server';

export interface StreamingReplica {
  primaryUrl: (database?: string) => string;
  replicaUrl: (database?: string) => string;
  /** Waits until the replica has replayed everything the primary has written so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  stopReplica(): void;
  stop(): void;
}

function run(command: string, args: string[]): void {
  const [cmd, argv] = asPgOwner(command, args);
  const result = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export async function startStreamingReplica(): Promise<StreamingReplica> {
  const bindir = pgBindir();
  if (!bindir) throw new Error("PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) not found: package postgresql");
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-replica-'));
  chmodSync(dir, 0o777); // user postgres writes here when the tests run as root
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const primary = path.join(dir, 'primary');
  const replica = path.join(dir, 'replica');
  const tool = (name: string) => path.join(bindir, name);
  const started: string[] = [];
  const stopCluster = (data: string): void => {
    if (!started.includes(data)) return;
    started.splice(started.indexOf(data), 1);
    run(tool('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  const stop = (): void => {
    for (const data of [...started]) {
      try {
        stopCluster(data);
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run(tool('initdb'), ['-D', primary, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    // TCP only: socket paths are length-limited and need a folder user postgres can write.
    appendFileSync(primary + '/postgresql.conf', `\nport = ${primaryPort}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nwal_level = replica\nmax_wal_senders = 4\nfsync = off\n`);
    run(tool('pg_ctl'), ['-D', primary, '-l', path.join(dir, 'primary.log'), '-w', '-t', '30', 'start']);
    started.push(primary);
    run(tool('pg_basebackup'), ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replica, '-R', '-X', 'stream', '--no-sync']);
    appendFileSync(replica + '/postgresql.conf', `\nport = ${replicaPort}\nhot_standby = on\n`);
    run(tool('pg_ctl'), ['-D', replica, '-l', path.join(dir, 'replica.log'), '-w', '-t', '30', 'start']);
    started.push(replica);
  } catch (err) {
    stop();
    throw err;
  }
  const primaryUrl = (database = 'postgres') => `postgres://postgres@127.0.0.1:${primaryPort}/${database}`;
  const replicaUrl = (database = 'postgres') => `postgres://postgres@127.0.0.1:${replicaPort}/${database}`;
  return {
    primaryUrl,
    replicaUrl,
    async caughtUp(timeoutMs = 15_000) {
      const lsn = (await query<{ lsn: string }>(primaryUrl(), 'SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const done = (await query<{ done: boolean }>(replicaUrl(), 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn]))[0]!.done;
        if (done) return;
        if (Date.now() > deadline) throw new Error(`the replica did not replay ${lsn} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    pauseReplay: async () => void (await query(replicaUrl(), 'SELECT pg_wal_replay_pause()')),
    resumeReplay: async () => void (await query(replicaUrl(), 'SELECT pg_wal_replay_resume()')),
    stopReplica: () => stopCluster(replica),
    stop,
  };
}
