/**
 * A network namespace joined to the root namespace by one veth pair: the test's stand-in for an edge site behind its
 * uplink. Root side gets CENTER address, namespace side EDGE address, on a private /30 used only on this pair; `lo`
 * is up inside, so the edge's own services (simulated miners on 127.x, its exporters' /metrics) live there unseen.
 *
 * Needs root (CAP_NET_ADMIN). When the kernel or permissions refuse, the error says which command and why: tests
 * FAIL then, they do not skip. Everything made here carries NETNS_PREFIX and the creating process's pid, so
 * removeLeftovers() clears what a killed run left behind without touching a concurrent run's namespaces.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Namespaces and root-side veths are named `<prefix><pid>-<n>` / `<vethPrefix><pid>x<n>` (veth names ≤ 15 chars). */
export const NETNS_PREFIX = 'fmuplink-';
const VETH_PREFIX = 'fmu';
/** The /30s handed out: 10.213.0.0/30, 10.213.0.4/30, ... (one per live namespace). */
const SUBNET_BASE = [10, 213, 0, 0] as const;
const MAX_SUBNETS = 64;

export class NetnsError extends Error {}

/** Runs a command, resolving stdout; the error names the command and what it printed. */
export async function run(command: string, args: readonly string[], timeoutMs = 20_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const detail = (e.stderr || e.message).trim().split('\n').slice(-3).join(' | ');
    throw new NetnsError(`\`${command} ${args.join(' ')}\` failed: ${detail}`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces and veths of this prefix whose creating process is gone (a killed earlier run). */
export async function removeLeftovers(): Promise<string[]> {
  const removed: string[] = [];
  const namespaces = (await run('ip', ['netns', 'list'])).split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '');
  for (const ns of namespaces) {
    const m = new RegExp(`^${NETNS_PREFIX}(\\d+)-\\d+$`).exec(ns);
    if (!m || pidAlive(Number(m[1]))) continue;
    await killAllIn(ns);
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    removed.push(ns);
  }
  const links = await run('ip', ['-o', 'link', 'show']);
  for (const line of links.split('\n')) {
    const m = new RegExp(`^\\d+: (${VETH_PREFIX}(\\d+)x\\d+)[@:]`).exec(line);
    if (!m || pidAlive(Number(m[2]))) continue;
    await run('ip', ['link', 'del', m[1] as string]).catch(() => undefined);
    removed.push(m[1] as string);
  }
  return removed;
}

async function killAllIn(ns: string): Promise<void> {
  const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => ''))
    .split('\n')
    .map((p) => Number(p.trim()))
    .filter((p) => Number.isInteger(p) && p > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** The first /30 of SUBNET_BASE not assigned to any interface of the root namespace. */
async function freeSubnet(): Promise<{ center: string; edge: string }> {
  const used = await run('ip', ['-o', '-4', 'addr', 'show']);
  for (let i = 0; i < MAX_SUBNETS; i++) {
    const base = SUBNET_BASE[3] + i * 4;
    const prefix = `${SUBNET_BASE[0]}.${SUBNET_BASE[1]}.${SUBNET_BASE[2]}.`;
    const center = `${prefix}${base + 1}`;
    if (!used.includes(` ${center}/`)) return { center, edge: `${prefix}${base + 2}` };
  }
  throw new NetnsError(`no free /30 left in ${SUBNET_BASE.join('.')}/24 for a test namespace`);
}

let created = 0;

export interface LossRule {
  probability: number;
  remove(): Promise<void>;
}

/** One live namespace with its veth pair; teardown() removes all of it and kills what runs inside. */
export class EdgeNamespace {
  private readonly children = new Set<ChildProcess>();
  private readonly lossRules = new Set<string[]>();
  private tornDown = false;

  private constructor(
    readonly name: string,
    /** Root-namespace end of the veth. */
    readonly centerVeth: string,
    /** Namespace end of the veth. */
    readonly edgeVeth: string,
    readonly centerAddress: string,
    readonly edgeAddress: string,
  ) {}

  /**
   * Creates the namespace, the veth pair and the addresses. Fails with the refusing command when not root or when
   * the kernel lacks namespaces; anything half made is removed before the error is thrown.
   */
  static async create(): Promise<EdgeNamespace> {
    if (process.getuid?.() !== 0) {
      throw new NetnsError(`network namespaces need root (CAP_NET_ADMIN); this test runs as uid ${process.getuid?.() ?? '?'}`);
    }
    await removeLeftovers();
    const n = created++;
    const name = `${NETNS_PREFIX}${process.pid}-${n}`;
    const centerVeth = `${VETH_PREFIX}${process.pid}x${n}`;
    const edgeVeth = `${VETH_PREFIX}e${n}`; // lives only inside the namespace: no clash with other runs
    const { center, edge } = await freeSubnet();
    const ns = new EdgeNamespace(name, centerVeth, edgeVeth, center, edge);
    try {
      await run('ip', ['netns', 'add', name]);
      await run('ip', ['link', 'add', centerVeth, 'type', 'veth', 'peer', 'name', edgeVeth]);
      await run('ip', ['link', 'set', edgeVeth, 'netns', name]);
      await run('ip', ['addr', 'add', `${center}/30`, 'dev', centerVeth]);
      await run('ip', ['link', 'set', centerVeth, 'up']);
      await ns.exec('ip', ['addr', 'add', `${edge}/30`, 'dev', edgeVeth]);
      await ns.exec('ip', ['link', 'set', edgeVeth, 'up']);
      await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    } catch (err) {
      await ns.teardown();
      throw err;
    }
    return ns;
  }

  /** Runs a command inside the namespace to completion. */
  exec(command: string, args: readonly string[], timeoutMs?: number): Promise<string> {
    return run('ip', ['netns', 'exec', this.name, command, ...args], timeoutMs);
  }

  /**
   * One HTTP request from inside the namespace (a short-lived node process: the test's own process lives in the root
   * namespace and cannot reach the edge's 127.x services).
   */
  async http(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; body: string }> {
    const script =
      "fetch(process.argv[1],{method:process.argv[2],body:process.argv[3]||undefined,headers:{'content-type':'application/json'}})" +
      ".then(async r=>process.stdout.write(r.status+'\\n'+await r.text())).catch(e=>{process.stderr.write(String(e.cause||e));process.exit(1)})";
    const out = await this.exec(process.execPath, ['-e', script, url, method, body === undefined ? '' : JSON.stringify(body)], 15_000);
    const newline = out.indexOf('\n');
    return { status: Number(out.slice(0, newline)), body: out.slice(newline + 1) };
  }

  /** Starts a long-running process inside the namespace (`ip netns exec` execs it: the pid is the process's own). */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    if (this.tornDown) throw new NetnsError(`namespace ${this.name} is torn down`);
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Sends a signal and waits for the process to exit (SIGKILL after graceMs). Resolves the exit signal or code. */
  async stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<NodeJS.Signals | number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.signalCode ?? child.exitCode;
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, sig) => resolve(sig ?? code)));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Drops packets at random on the edge's veth, both ways, each with this probability (iptables statistic match;
   * the kernel has no netem). Traffic on `lo` inside the namespace is untouched.
   */
  async addLoss(probability: number): Promise<LossRule> {
    if (!(probability > 0 && probability < 1)) throw new NetnsError(`loss probability must be in (0, 1), got ${probability}`);
    const p = String(probability);
    const rules = [
      ['OUTPUT', '-o', this.edgeVeth, '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP'],
      ['INPUT', '-i', this.edgeVeth, '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP'],
    ];
    const added: string[][] = [];
    try {
      for (const rule of rules) {
        await this.exec('iptables', ['-A', ...rule]);
        added.push(rule);
        this.lossRules.add(rule);
      }
    } catch (err) {
      for (const rule of added) await this.removeRule(rule);
      if (/ENOENT|not found/i.test((err as Error).message)) {
        throw new NetnsError(`${(err as Error).message} (install Debian's iptables: apt-get install -y iptables)`);
      }
      throw err;
    }
    return {
      probability,
      remove: async () => {
        for (const rule of added) await this.removeRule(rule);
      },
    };
  }

  private async removeRule(rule: string[]): Promise<void> {
    if (!this.lossRules.delete(rule)) return;
    await this.exec('iptables', ['-D', ...rule]).catch(() => undefined);
  }

  /** The packets dropped so far by the loss rules (both directions), from iptables' counters. */
  async droppedPackets(): Promise<number> {
    const out = await this.exec('iptables', ['-L', '-v', '-n', '-x']);
    let sum = 0;
    for (const line of out.split('\n')) {
      if (!line.includes('statistic mode random')) continue;
      sum += Number(line.trim().split(/\s+/)[0]) || 0;
    }
    return sum;
  }

  /** Cuts (down) or restores (up) the link: the root end of the veth, so the namespace sees its carrier drop too. */
  async setLink(state: 'up' | 'down'): Promise<void> {
    await run('ip', ['link', 'set', this.centerVeth, state]);
  }

  /** Kills every process inside, removes the rules, the veth pair and the namespace. Safe to call twice. */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    for (const child of this.children) child.kill('SIGKILL');
    await killAllIn(this.name);
    for (const rule of [...this.lossRules]) await this.removeRule(rule);
    // Deleting the namespace deletes its veth end and with it the peer; the explicit del covers a half-made pair.
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
    await run('ip', ['link', 'del', this.centerVeth]).catch(() => undefined);
  }
}

export interface CenterAlertingOptions {
  redisUrl: string;
  keyPrefix: string;
  listen: string;
  influxUrl: string;
  database: string;
  smtp: string;
  silentAfterIntervals: number;
  groupWaitMs: number;
  evaluationMs: number;
  /** Extra fault rules, e.g. `[{ name: 'PoolsDead', faults: ['POOLS_DEAD'] }]`. */
  rules?: Array<{ name: string; faults: string[] }>;
}

/**
 * The center's alerting config for an edge-behind-a-link run (the uplink test and the uplink benchmark): short
 * timings, one on-call mailbox, the relay reading `database`. YAML, for the alerting process's --config.
 */
export function centerAlertingConfig(o: CenterAlertingOptions): string {
  const rules = (o.rules ?? []).map((r) => `  - { name: ${r.name}, faults: [${r.faults.join(', ')}] }\n`).join('');
  return `redis: ${o.redisUrl}
key_prefix: ${o.keyPrefix}
listen: ${o.listen}
evaluation_interval: ${o.evaluationMs}ms
influx: { url: '${o.influxUrl}', database: ${o.database} }
edges: { silent_after_intervals: ${o.silentAfterIntervals} }
rules:${rules ? `\n${rules}` : ' []\n'}route:
  receiver: oncall
  group_by: [site, container, alertname]
  group_wait: ${o.groupWaitMs}ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: oncall
    email: { to: [oncall@farm.example], smarthost: '${o.smtp}' }
`;
}
