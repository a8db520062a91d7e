/**
 * The child processes a benchmark starts (simulators, exporters, throwaway influxd), stopped on every way out:
 * the normal end (`stopAll()` in a finally), a throw that reaches the top, SIGINT/SIGTERM/SIGHUP, an uncaught
 * exception or unhandled rejection, and `process.exit()` anywhere (a synchronous SIGKILL from the 'exit' hook).
 * Only SIGKILL of the bench itself escapes this; the bench's children then have no owner to reap them.
 *
 *   const children = new ChildProcesses();
 *   children.install();                      // signal and exit hooks, once per process
 *   const sim = children.spawn('simulator', process.execPath, [...]);
 *   const influx = await children.influx();  // an InfluxTestServer owned the same way
 *   try { ... } finally { await children.stopAll(); }
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import { InfluxTestServer, type InfluxTestServerOptions } from '../../scripts/jest/influx-server';

/** How long a child gets to stop after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5000;

interface Owned {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/** Signals a child's whole process group (it leads one: spawned detached), else the child alone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

export class ChildProcesses {
  private readonly owned = new Set<Owned>();
  private readonly influxServers = new Set<InfluxTestServer>();
  private installed = false;
  private stopping: Promise<void> | undefined;

  /** Spawns a child this object owns; it is stopped by stopAll() and by every exit hook. */
  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    // Its own process group: a child that starts its own children (tsx's CLI does) is stopped with them.
    const child = spawn(command, args, { ...options, detached: true });
    const entry: Owned = {
      name,
      child,
      exited: new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        child.once('exit', () => resolve());
        // A spawn that failed (ENOENT) never exits: nothing to stop.
        child.once('error', () => resolve());
      }),
    };
    this.owned.add(entry);
    void entry.exited.then(() => this.owned.delete(entry));
    return child;
  }

  /** A throwaway InfluxDB, started, owned like a child (stopped and its data folder removed on every path). */
  async influx(options: InfluxTestServerOptions = {}): Promise<InfluxTestServer> {
    const server = await InfluxTestServer.create(options);
    this.influxServers.add(server);
    await server.start();
    return server;
  }

  /** Process ids still running, by name (tests check that none is left). */
  running(): Array<{ name: string; pid: number }> {
    const list: Array<{ name: string; pid: number }> = [];
    for (const o of this.owned) if (o.child.pid !== undefined) list.push({ name: o.name, pid: o.child.pid });
    for (const s of this.influxServers) if (s.pid !== undefined) list.push({ name: 'influxd', pid: s.pid });
    return list;
  }

  /**
   * Stops one owned child: SIGTERM, SIGKILL after `graceMs` (an exporter finishing its sweep, or writing a CPU profile,
   * needs longer than the default); resolves when it has exited.
   */
  async stop(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
    const entry = [...this.owned].find((o) => o.child === child);
    if (!entry) return;
    await this.stopEntry(entry, graceMs);
  }

  private async stopEntry(entry: Owned, graceMs = STOP_GRACE_MS): Promise<void> {
    if (entry.child.exitCode === null && entry.child.signalCode === null) {
      signalGroup(entry.child, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(entry.child, 'SIGKILL'), graceMs);
      await entry.exited;
      clearTimeout(timer);
    }
    this.owned.delete(entry);
  }

  /** Stops every child and influxd; safe to call more than once (later calls wait for the first). */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all([...this.owned].map((o) => this.stopEntry(o)));
      await Promise.all(
        [...this.influxServers].map(async (s) => {
          await s.destroy().catch(() => undefined);
          this.influxServers.delete(s);
        }),
      );
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** Last resort, synchronous (the 'exit' hook cannot wait): SIGKILL to whatever is left, influx data removed. */
  killAllNow(): void {
    for (const o of this.owned) {
      if (o.child.exitCode === null && o.child.signalCode === null) signalGroup(o.child, 'SIGKILL');
    }
    this.owned.clear();
    for (const s of this.influxServers) {
      if (s.pid !== undefined) {
        try {
          process.kill(s.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      rmSync(s.dataDir, { recursive: true, force: true });
    }
    this.influxServers.clear();
  }

  /**
   * Hooks that stop everything on the ways out that skip a finally: signals (stop, then exit 128+n), uncaught
   * errors (stop, print, exit 1) and process.exit() (synchronous SIGKILL).
   */
  install(): this {
    if (this.installed) return this;
    this.installed = true;
    const onSignal = (signal: NodeJS.Signals, code: number) => (): void => {
      process.stderr.write(`bench: ${signal}, stopping ${this.running().length} child process(es)\n`);
      void this.stopAll().finally(() => process.exit(code));
    };
    process.once('SIGINT', onSignal('SIGINT', 130));
    process.once('SIGTERM', onSignal('SIGTERM', 143));
    process.once('SIGHUP', onSignal('SIGHUP', 129));
    const onFatal = (err: unknown): void => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      void this.stopAll().finally(() => process.exit(1));
    };
    process.once('uncaughtException', onFatal);
    process.once('unhandledRejection', onFatal);
    process.once('exit', () => this.killAllNow());
    return this;
  }
}

/**
 * Runs a bench's main with its children owned: stopped when main returns or throws, and on every hook of install().
 * A failure prints and exits 1 after everything has stopped.
 */
export function runBench(main: (children: ChildProcesses) => Promise<void>): void {
  const children = new ChildProcesses().install();
  main(children)
    .then(
      () => children.stopAll(),
      async (err: unknown) => {
        await children.stopAll();
        console.error(err);
        process.exitCode = 1;
      },
    )
    .finally(() => {
      // Handles left by a failed step (a socket, a timer) must not keep a finished bench alive.
      process.exit();
    });
}
