/**
 * The farm's life during `npm start`: now and then a part breaks in a simulated miner (a fan stops, chips die, a
 * hashboard drops out), so alerting pages and opens live tickets; and when a technician closes a ticket with a repair
 * record on the staff page while the fault still fires, the "site crew" repairs the simulated miner, so the ticket
 * becomes fixed and, after quiet time, verified. Demo plumbing only: a real farm's parts break by themselves.
 *
 *   tsx scripts/demo-farm-life.ts --control-url http://127.0.0.1:4100 --pg-url postgres://… [--every 120] [--max-faulty 3]
 */
import { Command } from 'commander';
import { Pool } from 'pg';
import { TicketStore } from '../maintenance/src';

interface SimulatedMiner {
  id: string;
  reachable: boolean;
  mode: string;
  fansRpm: number[];
  faults: Record<string, unknown>;
}

const program = new Command('demo-farm-life')
  .requiredOption('--control-url <url>', "the simulator's control API")
  .requiredOption('--pg-url <url>', 'PostgreSQL with the maintenance schema')
  .option('--every <seconds>', 'seconds between new faults (0: none)', '120')
  .option('--max-faulty <n>', 'at most this many miners broken by this script at once', '3')
  .option('--first-after <seconds>', 'seconds before the first fault', '20')
  .parse(process.argv);
const opts = program.opts<{ controlUrl: string; pgUrl: string; every: string; maxFaulty: string; firstAfter: string }>();
const pool = new Pool({ connectionString: opts.pgUrl, max: 2 });
pool.on('error', () => undefined);
const tickets = new TicketStore(pool);
const broken = new Set<string>();
/** Tickets whose miner the crew already repaired (the fault clears with the next sweep; said once). */
const repaired = new Set<number>();
const log = (text: string): void => void process.stdout.write(`${new Date().toISOString()} ${text}\n`);

async function control(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${opts.controlUrl}${path}`, { ...init, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000) });
}

function pick<T>(items: readonly T[]): T | undefined {
  return items[Math.floor(Math.random() * items.length)];
}

async function breakSomething(): Promise<void> {
  if (broken.size >= Number(opts.maxFaulty)) return;
  const { miners } = (await (await control('/miners')).json()) as { miners: SimulatedMiner[] };
  const healthy = miners.filter((m) => m.reachable && m.mode === 'hashing' && Object.keys(m.faults).length === 0 && m.fansRpm.length > 0);
  const miner = pick(healthy);
  if (!miner) return;
  const candidates = [
    { fault: 'stopFan', index: Math.floor(Math.random() * miner.fansRpm.length) },
    { fault: 'stopFan', index: 0 },
    { fault: 'killChips', board: 0, count: 6 },
    { fault: 'dropBoard', board: 1 },
  ];
  const fault = pick(candidates)!;
  const res = await control(`/miners/${encodeURIComponent(miner.id)}/faults`, { method: 'POST', body: JSON.stringify(fault) });
  if (!res.ok) return log(`could not break ${miner.id} (${fault.fault}): HTTP ${res.status}`);
  broken.add(miner.id);
  log(`${miner.id}: ${fault.fault} ${JSON.stringify(fault)} — alerting will page it and open a ticket`);
}

/** Tickets in repair with a repair record whose fault still fires: the crew's repair takes on the simulated miner. */
async function repairWhatWasClosed(): Promise<void> {
  for (const t of await tickets.list({ state: 'in_repair' })) {
    if (!t.firing || repaired.has(t.id)) continue;
    const { repairs } = await tickets.get(t.id);
    if (repairs.length === 0) continue;
    const res = await control(`/miners/${encodeURIComponent(t.miner)}/faults`, { method: 'DELETE' });
    if (res.ok) {
      repaired.add(t.id);
      broken.delete(t.miner);
      log(`${t.miner}: repaired on site for ticket #${t.id} (${repairs[0]!.action}); the fault clears with the next sweep`);
    }
  }
}

async function forever(every: number, task: () => Promise<void>, what: string): Promise<never> {
  for (;;) {
    await task().catch((e: unknown) => log(`${what} failed: ${(e as Error).message}`));
    await new Promise((r) => setTimeout(r, every));
  }
}

if (Number(opts.every) > 0) setTimeout(() => void forever(Number(opts.every) * 1000, breakSomething, 'breaking a part'), Number(opts.firstAfter) * 1000);
void forever(5000, repairWhatWasClosed, 'the site crew');
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void pool.end().finally(() => process.exit(0)));
