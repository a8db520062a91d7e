/**
 * `flymining miner reboot|sleep|wake|power|pools|blink TARGET...`: the write path for staff at a terminal (an edge
 * box, or any machine that reaches the container LAN). Each miner is read first, then acted on in its container's
 * turn, then read again until the result shows; progress goes to stderr, a summary table to stdout.
 *
 * Exit codes scripts can rely on: 0 every miner done (confirmed, sent, or planned with --dry-run); 3 some were refused
 * or rate-limited and none went wrong; 4 some failed, stayed unconfirmed or could not be read; 2 the command itself
 * was wrong (unknown miner, bad option, unreadable inventory).
 */
import os from 'node:os';
import path from 'node:path';
import { InfluxStore, loadInfluxConfig, loadInventory, type Inventory, type MinerProtocol } from '@flymining/shared';
import type { Command } from 'commander';
import { CredentialStore, readSecretFile, type CredentialSource } from '../credentials';
import { AuditFile, AuditPoints } from './audit';
import { ACTION_OUTCOMES, ControlExecutor, type ActionOutcome, type ActionResult, type AuditSink, type ControlActor } from './executor';
import { ActionHistory } from './history';
import { resolveTargets, TargetError } from './targets';
import { WORK_MODES, describeAction, type MinerAction, type PoolSetting, type WorkMode } from './types';
import { createLogger } from '@flymining/shared';

export const EXIT = { done: 0, usage: 2, refused: 3, failed: 4 } as const;

interface CommonOptions {
  inventory?: string;
  allIn?: string[];
  dryRun?: boolean;
  reason?: string;
  wait: boolean;
  timeout: number;
  concurrency: number;
  spacing: number;
  json?: boolean;
  user?: string;
  passwordFile?: string;
  auditFile?: string;
}

/** The audit file the CLI appends to: --audit-file, FLYMINING_CONTROL_AUDIT_FILE (the edge compose file sets it to the exporter's), or the user's state folder. */
export function defaultAuditFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLYMINING_CONTROL_AUDIT_FILE) return env.FLYMINING_CONTROL_AUDIT_FILE;
  const stateHome = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(stateHome, 'flymining', 'control-audit.jsonl');
}

/** The person acting, as the audit names them: FLYMINING_STAFF_USER, else the login name. */
export function staffActor(env: NodeJS.ProcessEnv = process.env): ControlActor {
  const name = env.FLYMINING_STAFF_USER || os.userInfo().username || 'unknown';
  return { kind: 'staff', name: name.slice(0, 64) };
}

const OK: ReadonlySet<ActionOutcome> = new Set(['confirmed', 'sent', 'dry-run']);
const NOT_DONE: ReadonlySet<ActionOutcome> = new Set(['refused', 'rate-limited']);

export function exitCodeFor(results: readonly ActionResult[]): number {
  if (results.some((r) => !OK.has(r.outcome) && !NOT_DONE.has(r.outcome))) return EXIT.failed;
  if (results.some((r) => NOT_DONE.has(r.outcome))) return EXIT.refused;
  return EXIT.done;
}

function summaryTable(results: readonly ActionResult[], action: MinerAction): string {
  const counts = new Map<ActionOutcome, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const lines = [`${describeAction(action)}: ${results.length} miner${results.length === 1 ? '' : 's'} — ${ACTION_OUTCOMES.filter((o) => counts.has(o)).map((o) => `${counts.get(o)} ${o}`).join(', ')}`];
  const idWidth = Math.min(28, Math.max(5, ...results.map((r) => r.target.id.length)));
  lines.push(`  ${'MINER'.padEnd(idWidth)}  ${'WHERE'.padEnd(16)}  ${'OUTCOME'.padEnd(12)}  ${'TOOK'.padStart(7)}  DETAIL`);
  for (const r of results) {
    const where = r.target.container ? [r.target.container, r.target.rack, r.target.shelf, r.target.slot].filter(Boolean).join('/') : r.target.host;
    const took = `${((r.durationMs + (r.confirmMs ?? 0)) / 1000).toFixed(1)}s`;
    lines.push(`  ${r.target.id.padEnd(idWidth)}  ${where.padEnd(16)}  ${r.outcome.padEnd(12)}  ${took.padStart(7)}  ${r.detail}`);
  }
  return lines.join('\n') + '\n';
}

/** Runs one action from the command line; returns the exit code. */
async function runAction(words: string[], action: MinerAction, opts: CommonOptions): Promise<number> {
  let inventory: Inventory | undefined;
  let targets;
  try {
    inventory = opts.inventory ? loadInventory(opts.inventory) : undefined;
    const password = opts.passwordFile ? readSecretFile(opts.passwordFile) : undefined;
    const adHoc: CredentialSource | undefined = password === undefined ? undefined : (p: MinerProtocol) => ({ user: opts.user ?? (p === 'vnish' ? 'admin' : p === 'whatsminer-v3' ? 'super' : 'root'), password });
    targets = resolveTargets(words, { inventory, allIn: opts.allIn, adHocCredentials: adHoc, credentials: new CredentialStore() });
  } catch (err) {
    process.stderr.write(`flymining miner ${action.kind}: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  if (!(opts.concurrency >= 1 && opts.concurrency <= 100)) {
    process.stderr.write('--concurrency: 1 to 100 writes at once per container\n');
    return EXIT.usage;
  }
  if (!(opts.spacing >= 0 && opts.spacing <= 60_000)) {
    process.stderr.write('--spacing: 0 to 60000 ms\n');
    return EXIT.usage;
  }

  const log = createLogger('control-cli', process.env.FLYMINING_LOG_LEVEL ?? 'warn');
  const history = new ActionHistory();
  const auditFile = new AuditFile(opts.auditFile ?? defaultAuditFile(), log);
  auditFile.loadHistory(history);
  // No log sink: the table on stdout is what a person reads; the log would say it twice on stderr.
  const sinks: AuditSink[] = [auditFile];
  // With an InfluxDB configured (the center, or an edge with its uplink settings) the audit also goes to Grafana.
  const store = process.env.FLYMINING_INFLUX_URL && !opts.dryRun ? new InfluxStore(loadInfluxConfig({}), { spool: false }) : undefined;
  if (store) sinks.push(new AuditPoints(store));

  const executor = new ControlExecutor({
    history,
    audit: sinks,
    stagger: { maxConcurrentPerContainer: opts.concurrency, minSpacingMs: opts.spacing },
    confirm: { wait: opts.wait, timeoutMs: opts.timeout * 1000 },
  });
  const progress = process.stderr.isTTY && !opts.json;
  const total = targets.length;
  process.stderr.write(`${opts.dryRun ? 'planning' : 'running'} ${describeAction(action)} on ${total} miner${total === 1 ? '' : 's'}${total > 1 ? ` (at most ${opts.concurrency} at once per container, ${opts.spacing} ms apart)` : ''}\n`);
  const results = await executor.run({
    targets,
    action,
    actor: staffActor(),
    reason: opts.reason ?? '',
    dryRun: opts.dryRun,
    onResult: (r, done) => {
      if (progress) process.stderr.write(`\r[${done}/${total}] ${r.target.id}: ${r.outcome}`.padEnd(60));
    },
  });
  if (progress) process.stderr.write('\n');
  if (store) {
    try {
      await store.close();
    } catch (err) {
      process.stderr.write(`note: the audit did not reach InfluxDB (${(err as Error).message}); it is in ${auditFile.file}\n`);
    }
  }
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({
        action: describeAction(action),
        peakConcurrent: executor.peakConcurrency(),
        results: results.map((r) => ({ miner: r.target.id, container: r.target.container, host: `${r.target.host}:${r.target.port}`, outcome: r.outcome, detail: r.detail, reply: r.reply, durationMs: Math.round(r.durationMs), confirmMs: r.confirmMs === undefined ? null : Math.round(r.confirmMs), mode: r.sample?.mode ?? null })),
      }) + '\n',
    );
  } else {
    process.stdout.write(summaryTable(results, action));
    if (!opts.dryRun) process.stdout.write(`audit: ${auditFile.file}\n`);
  }
  return exitCodeFor(results);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function common(cmd: Command): Command {
  return cmd
    .argument('[targets...]', 'miner ids, slot paths (C02, C02/R01, C02/R01/S02/3) or hosts')
    .option('--inventory <file>', 'the farm inventory: resolves ids and slot paths, gives protocol and credentials', process.env.FLYMINING_INVENTORY)
    .option('--all-in <container>', 'every miner of this container (repeatable)', collect)
    .option('--dry-run', 'read each miner and say what would be done, without doing it')
    .option('--reason <text>', 'why, for the audit (e.g. a ticket number)')
    .option('--no-wait', 'do not wait for a read that confirms the result (outcome "sent")')
    .option('--timeout <s>', 'how long to wait for the confirming read', (v) => Number(v), 180)
    .option('--concurrency <n>', 'writes at once per container', (v) => Number(v), 10)
    .option('--spacing <ms>', 'least time between two writes starting in one container', (v) => Number(v), 200)
    .option('--user <user>', 'login for miners the inventory does not list')
    .option('--password-file <file>', 'file whose first line is that login\'s password')
    .option('--audit-file <file>', 'the audit file (default $FLYMINING_CONTROL_AUDIT_FILE or ~/.local/state/flymining/control-audit.jsonl)')
    .option('--json', 'print one JSON object with every result');
}

function parsePool(text: string): PoolSetting {
  const [url, user, password] = text.split(',');
  if (!url || !user || !/^stratum(\+tcp|\+ssl|2\+tcp)?:\/\/[^\s,]{3,200}$/.test(url) || user.length > 200) {
    throw new TargetError(`--pool "${text.slice(0, 80)}": expected stratum+tcp://HOST:PORT,USER[,PASSWORD]`);
  }
  return { url, user, password: password ?? 'x' };
}

export function registerControlCommands(miner: Command): void {
  const act = (kind: string, make: (opts: CommonOptions & Record<string, unknown>) => MinerAction) => async (words: string[], opts: CommonOptions & Record<string, unknown>) => {
    let action: MinerAction;
    try {
      action = make(opts);
    } catch (err) {
      process.stderr.write(`flymining miner ${kind}: ${(err as Error).message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    process.exitCode = await runAction(words, action, opts);
  };

  common(miner.command('reboot').description('reboot miners through their API (staggered per container)')).action(act('reboot', () => ({ kind: 'reboot' })));
  common(miner.command('sleep').description('put miners to sleep (boards off, fans idle); `flymining scrape` then shows mode sleeping')).action(act('sleep', () => ({ kind: 'sleep' })));
  common(miner.command('wake').description('wake sleeping miners; confirmed when they hash again')).action(act('wake', () => ({ kind: 'wake' })));
  common(miner.command('power').description('set a power target in watts or a work mode'))
    .option('--watts <w>', 'power target in watts (Braiins OS, Whatsminer, LuxOS, ePIC)', (v) => Number(v))
    .option('--mode <mode>', `work mode: ${WORK_MODES.join(', ')} (Antminer stock: low, normal)`)
    .action(
      act('power', (opts) => {
        const watts = opts.watts as number | undefined;
        const mode = opts.mode as string | undefined;
        if ((watts === undefined) === (mode === undefined)) throw new TargetError('give exactly one of --watts or --mode');
        if (watts !== undefined) {
          if (!Number.isInteger(watts) || watts < 100 || watts > 20_000) throw new TargetError('--watts: a whole number of watts, 100 to 20000');
          return { kind: 'power', target: { watts } };
        }
        if (!(WORK_MODES as readonly string[]).includes(mode as string)) throw new TargetError(`--mode must be one of ${WORK_MODES.join(', ')}`);
        return { kind: 'power', target: { mode: mode as WorkMode } };
      }),
    );
  common(miner.command('pools').description("set miners' pool list, or switch the active pool"))
    .option('--pool <url,user[,password]>', 'a pool, in priority order (repeatable, at most 3)', collect)
    .option('--switch <index>', 'make the pool at this 0-based index the active one', (v) => Number(v))
    .action(
      act('pools', (opts) => {
        const pools = (opts.pool as string[] | undefined) ?? [];
        const index = opts.switch as number | undefined;
        if ((pools.length === 0) === (index === undefined)) throw new TargetError('give --pool (one or more) or --switch N');
        if (index !== undefined) {
          if (!Number.isInteger(index) || index < 0 || index > 9) throw new TargetError('--switch: a pool index 0 to 9');
          return { kind: 'switch-pool', index };
        }
        return { kind: 'pools', pools: pools.map(parsePool) };
      }),
    );
  common(miner.command('blink').description("blink miners' locate LED, to find them on site"))
    .option('--off', 'stop blinking')
    .action(act('blink', (opts) => ({ kind: 'blink', on: opts.off !== true })));
}
