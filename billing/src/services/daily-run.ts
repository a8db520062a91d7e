/**
 * Posting a day's run: the credits of a frozen revision in chunks, the reversal of the revision it supersedes,
 * and the farm's share. The caller chooses the transaction scope explicitly with a RunScope: `chunked(pool)`
 * commits each chunk on its own (a crash loses at most the chunk in flight, the next run finishes the rest),
 * `within(tx)` puts everything in the caller's transaction (a correction happens entirely or not at all).
 */
import type { Pool } from 'pg';
import { allocateDay, soldThsOf, type ContractAllocation, type ContractTerms, type DayAllocation } from '../allocate';
import { inTransaction, type Queryable, type Tx } from '../db';
import type { RunInputs, RunResult, RunSettings, RunStatus } from '../domain';
import { BillingDecimal } from '../fpps';
import { postTransactions, reversalOf, type NewTransaction } from '../ledger';
import { investorAccountIds, systemAccountId } from '../store/accounts';
import { activeContractTerms } from '../store/contracts';
import { creditBook, readReceivables, settleAgainstPositions, settleCredits, type Receivable } from './position';
import { insertCredits, insertReversals, prepareCreditsPosting, recordRunCreditInputs, type CreditOfTransaction, type NewCredit, type RunCreditInputs } from '../store/credits';
import { insertRun, latestRun, markRunDone, revisionHasCredits, runTotals, unreversedRevisionTransactions, type StoredRun } from '../store/runs';

/** Where a run reads (`db`) and how it makes one unit of work atomic (`atomic`). */
export interface RunScope {
  db: Queryable;
  atomic: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;
  /** Each atomic unit commits on its own (so a chunk may commit without waiting for its flush; the last one waits). */
  commitsEachUnit: boolean;
  /** Runs independent reads of `db`: side by side on a pool; one after the other on one client, which takes one query at a time. */
  readAll: <T extends readonly unknown[]>(reads: { readonly [K in keyof T]: () => Promise<T[K]> }) => Promise<T>;
}

/** Each unit of work (a chunk of credits, the farm share) in its own transaction on the pool. */
export function chunked(pool: Pool): RunScope {
  return {
    db: pool,
    atomic: (fn) => inTransaction(pool, fn),
    commitsEachUnit: true,
    readAll: <T extends readonly unknown[]>(reads: { readonly [K in keyof T]: () => Promise<T[K]> }) => Promise.all(reads.map((read) => read())) as Promise<unknown> as Promise<T>,
  };
}

/** Everything inside the caller's transaction. */
export function within(tx: Tx): RunScope {
  return {
    db: tx,
    atomic: (fn) => fn(tx),
    commitsEachUnit: false,
    readAll: async <T extends readonly unknown[]>(reads: { readonly [K in keyof T]: () => Promise<T[K]> }) => {
      const results: unknown[] = [];
      for (const read of reads as readonly (() => Promise<unknown>)[]) results.push(await read());
      return results as unknown as T;
    },
  };
}

export type Run = StoredRun<RunInputs>;

export function soldThs(contracts: readonly ContractTerms[]): string {
  return soldThsOf(contracts);
}

/** The day's split: curtailed hours count as delivered, and the farm's top-up for them as revenue (curtailment.ts). */
export function allocate(inputs: RunInputs, contracts: readonly ContractTerms[]): DayAllocation {
  const c = inputs.curtailment;
  return allocateDay({
    revenueSat: inputs.revenueSat + (c?.topUpSat ?? 0),
    deliveredThs: c ? new BillingDecimal(inputs.hashrate.deliveredThs).add(c.withheldThs) : inputs.hashrate.deliveredThs,
    contracts,
    btcPriceUsd: inputs.btcPriceUsd,
  });
}

/** What the farm keeps of the day: its share of the split less what it funded for curtailment (may be negative). */
export function farmNetSat(inputs: RunInputs, allocation: DayAllocation): number {
  return allocation.farmSat - (inputs.curtailment?.topUpSat ?? 0);
}

/** The inputs every credit of a run shares: stored once per run (recordRunCreditInputs), not in every record. */
export function runCreditInputs(inputs: RunInputs, allocation: DayAllocation): RunCreditInputs {
  const c = inputs.curtailment;
  return {
    revenueSat: allocation.revenueSat,
    revenueSource: inputs.revenueSource,
    farmDeliveredThs: allocation.deliveredThs,
    soldThs: allocation.soldThs,
    scale: allocation.scale,
    difficulty: inputs.difficulty,
    btcPriceUsd: inputs.btcPriceUsd,
    reachableUptime: inputs.hashrate.reachableUptime,
    hashingUptime: inputs.hashrate.hashingUptime,
    ...(c ? { curtailedThs: c.withheldThs, curtailedMinerHours: c.minerHours, curtailmentTopUpSat: c.topUpSat } : {}),
  };
}

export async function latestDayRun(db: Queryable, day: string): Promise<Run | undefined> {
  return latestRun<RunInputs>(db, day);
}

/** Records a revision's inputs (once) and reads the day's latest revision back. */
export async function freezeRun(db: Queryable, inputs: RunInputs, revision: number): Promise<Run> {
  await insertRun(db, { day: inputs.day, revision, inputs, contracts: inputs.contracts, revenueSat: inputs.revenueSat });
  const run = await latestDayRun(db, inputs.day);
  if (!run) throw new Error(`${inputs.day}: revision ${revision} was frozen but cannot be read back`);
  return run;
}

export async function summarise(db: Queryable, day: string, run: Run, status: RunStatus, postedNow: number): Promise<RunResult> {
  const totals = await runTotals(db, day, run.revision);
  return {
    day,
    status,
    revision: run.revision,
    contracts: run.inputs.contracts,
    postedNow,
    revenueSat: run.inputs.revenueSat,
    creditedSat: totals.creditedSat,
    farmSat: totals.farmSat,
    ...(run.inputs.curtailment ? { curtailmentTopUpSat: run.inputs.curtailment.topUpSat } : {}),
  };
}

const creditKey = (contractId: string, day: string, revision: number): string => `credit:${contractId}:${day}:r${revision}`;

/** What a credit record holds of its allocation. */
const creditOf = (a: ContractAllocation): CreditOfTransaction => ({
  contractId: a.contract.id,
  investorId: a.contract.investorId,
  contractedThs: a.contract.hashrateThs,
  grossSat: a.grossSat,
  maintenanceFeeSat: a.maintenanceFeeSat,
  revenueFeeSat: a.revenueFeeSat,
  netSat: a.netSat,
  quotaSat: a.quotaSat,
  maintenanceUsd: a.maintenanceUsd,
});

/**
 * The allocations in chunks of about `size` that hold whole investors: every contract of an investor is in the
 * same chunk, in the order given (a chunk grows past `size` only for an investor with more contracts than that).
 */
export function investorChunks(allocations: readonly ContractAllocation[], size: number): ContractAllocation[][] {
  const byInvestor = new Map<string, ContractAllocation[]>();
  for (const a of allocations) {
    const own = byInvestor.get(a.contract.investorId);
    if (own) own.push(a);
    else byInvestor.set(a.contract.investorId, [a]);
  }
  const chunks: ContractAllocation[][] = [];
  let chunk: ContractAllocation[] = [];
  for (const own of byInvestor.values()) {
    if (chunk.length > 0 && chunk.length + own.length > size) {
      chunks.push(chunk);
      chunk = [];
    }
    for (const a of own) chunk.push(a);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * Posts (or finishes posting) a frozen revision: reverses the previous one, credits every contract, books the farm
 * share. `contractsOfInputs`: the contract terms the inputs were gathered from, when they were frozen just now
 * under the run lock (else every active contract is read again and checked against the frozen count and TH/s).
 */
export async function postRun(scope: RunScope, run: Run, settings: RunSettings, contractsOfInputs?: readonly ContractTerms[]): Promise<RunResult> {
  const { db, atomic } = scope;
  const { inputs, revision } = run;
  const day = inputs.day;
  const contracts = contractsOfInputs ?? (await activeContractTerms(db, day));
  const sold = soldThs(contracts);
  if (contracts.length !== inputs.contracts || sold !== inputs.soldThs) {
    throw new Error(
      `${day}: contracts changed since the run started (${inputs.contracts} contracts, ${inputs.soldThs} TH/s then; ` +
        `${contracts.length}, ${sold} TH/s now); run 'flymining billing recompute --date ${day} --apply'`,
    );
  }
  if (revision > 1) await reverseRevision(scope, day, revision - 1, settings);
  // The database opens and reads the accounts while the allocation is computed here: the queries are sent first
  // (setImmediate lets them out; all of them on a pool, see RunScope.readAll), the allocation then holds the thread. A revision that has posted nothing yet
  // needs no lookup of which keys are in the journal, and settles its credits against one read of its investors'
  // positions, its book (the run lock keeps them ours).
  const investorIds = contracts.map((c) => c.investorId);
  const accountsRead = scope.readAll<[Map<string, number>, number, number, Map<string, Receivable> | undefined]>([
    () => investorAccountIds(db, investorIds),
    () => systemAccountId(db, 'pool:receivable'),
    () => systemAccountId(db, 'farm:fees'),
    async () => ((await revisionHasCredits(db, day, revision)) ? undefined : readReceivables(db, investorIds)),
  ]);
  accountsRead.catch(() => undefined); // awaited below; not an unhandled rejection if the allocation throws first
  await new Promise<void>((resolve) => setImmediate(resolve));
  const allocation = allocate(inputs, contracts);
  const [accounts, receivable, fees, receivables] = await accountsRead;
  const book = receivables && creditBook(accounts, receivables);
  const chunkSize = settings.chunkSize ?? 2000;
  await recordRunCreditInputs(db, day, revision, runCreditInputs(inputs, allocation));
  // Chunks hold whole investors (investorChunks), so no two chunks touch the same investor's accounts: each
  // investor's credits are settled by the book in contract order within one chunk, and chunks may commit in either
  // order (the system accounts they share have no floor; their rows are locked in account order, so two chunks
  // wait for each other there but never deadlock). Two chunks are in flight on two connections when the run
  // settles against its book and commits chunk by chunk; each is then one statement (journal transactions, entries
  // and credit records). Otherwise (a run being finished, or inside the caller's transaction) one chunk at a time,
  // settled against positions read in its own transaction.
  const depth = book && scope.commitsEachUnit ? 2 : 1;
  const inFlight: Array<{ unit: Promise<number>; end: number }> = [];
  let failed = false;
  let postedNow = 0;
  let end = 0;
  const total = allocation.contracts.length;
  // Chunks are awaited, and their progress reported, in chunk order (two in flight may finish in either order).
  const landed = async (): Promise<void> => {
    const { unit, end: endOfChunk } = inFlight.shift()!;
    postedNow += await unit;
    settings.log?.(`${day}: ${endOfChunk}/${total} contracts`);
  };
  try {
    for (const chunk of investorChunks(allocation.contracts, chunkSize)) {
      if (inFlight.length >= depth) await landed();
      end += chunk.length;
      const txns: NewTransaction[] = chunk.map((a) => ({
        idempotencyKey: creditKey(a.contract.id, day, revision),
        kind: 'credit',
        day,
        contractId: a.contract.id,
        entries: [
          { accountId: receivable, amountSat: a.grossSat },
          { accountId: accounts.get(a.contract.investorId)!, amountSat: -a.netSat },
          { accountId: fees, amountSat: -(a.maintenanceFeeSat + a.revenueFeeSat) },
        ],
      }));
      // With the book, the chunk is settled and its statement built here, in chunk order, while the database
      // still works on the chunk before.
      const prepared = book ? prepareCreditsPosting(day, revision, settleCredits(txns, book), chunk.map(creditOf)) : undefined;
      const unit = atomic(async (tx) => {
        if (failed) throw new Error(`${day}: an earlier chunk of the run failed`);
        // Intermediate chunks commit without waiting for their WAL flush: the last transaction of the run (below)
        // waits, which makes every chunk before it durable; a crash before it loses only chunks that the next run
        // posts again under the same keys from the same frozen inputs.
        if (scope.commitsEachUnit) await tx.query('SET LOCAL synchronous_commit = off');
        if (prepared) {
          const { rows } = await tx.query<{ posted: number }>(prepared.text, prepared.values);
          return rows[0]!.posted;
        }
        // settleAgainstPositions leaves out the keys already posted, and this run holds the run lock.
        const posted = await postTransactions(tx, await settleAgainstPositions(tx, txns, { runLockHeld: true }), { knownKeysExcluded: true });
        const fresh: NewCredit[] = [];
        for (const a of chunk) {
          const transactionId = posted.get(creditKey(a.contract.id, day, revision));
          if (transactionId !== undefined) fresh.push({ transactionId, ...creditOf(a) });
        }
        await insertCredits(tx, day, revision, fresh);
        return fresh.length;
      }).catch((err: unknown) => {
        failed = true;
        throw err;
      });
      // Handled here too, so a chunk failing while an earlier one is awaited is not an unhandled rejection; it is
      // thrown when its turn comes.
      unit.catch(() => undefined);
      inFlight.push({ unit, end });
    }
    while (inFlight.length > 0) await landed();
  } catch (err) {
    // Nothing is left running behind the error: the chunks still in flight end (commit or roll back) first.
    failed = true;
    await Promise.allSettled(inFlight.map((f) => f.unit));
    throw err;
  }
  const creditedSat = allocation.contracts.reduce((s, a) => s + a.grossSat, 0);
  const topUpSat = inputs.curtailment?.topUpSat ?? 0;
  await atomic(async (tx) => {
    const farmRevenue = await systemAccountId(tx, 'farm:revenue');
    const txns: NewTransaction[] = [
      {
        idempotencyKey: `farm-share:${day}:r${revision}`,
        kind: 'farm_share',
        day,
        memo: `farm share of ${allocation.revenueSat} sat (${inputs.revenueSource}${topUpSat > 0 ? `, ${topUpSat} of it funded by the farm for curtailment` : ''})`,
        entries: [
          { accountId: receivable, amountSat: allocation.farmSat },
          { accountId: farmRevenue, amountSat: -allocation.farmSat },
        ],
      },
    ];
    // The credits above drew the top-up from the pool's receivable as if the pool had paid it; the farm pays it
    // instead, out of its own revenue, so the receivable ends at exactly what the pool owes.
    if (topUpSat > 0) {
      txns.push({
        idempotencyKey: `curtailment-topup:${day}:r${revision}`,
        kind: 'curtailment_topup',
        day,
        memo: `${inputs.curtailment!.minerHours} miner-hours curtailed by the farm (${inputs.curtailment!.withheldThs} TH/s), credited as hashed`,
        entries: [
          { accountId: farmRevenue, amountSat: topUpSat },
          { accountId: receivable, amountSat: -topUpSat },
        ],
      });
    }
    await postTransactions(tx, txns);
    await markRunDone(tx, day, revision, creditedSat, farmNetSat(inputs, allocation));
  });
  return summarise(db, day, run, 'done', postedNow);
}

/** Posts the reversal of every transaction of one revision of a day (idempotent: `reverse:<transaction id>`). */
async function reverseRevision(scope: RunScope, day: string, revision: number, settings: RunSettings): Promise<void> {
  const ids = await unreversedRevisionTransactions(scope.db, day, revision);
  const chunkSize = settings.chunkSize ?? 2000;
  for (let start = 0; start < ids.length; start += chunkSize) {
    const chunk = ids.slice(start, start + chunkSize);
    await scope.atomic(async (tx) => {
      const txns: NewTransaction[] = [];
      for (const id of chunk) txns.push(await reversalOf(tx, id, `reverse:${id}`, `correction of ${day} revision ${revision}`));
      // A reversal the investor's balance cannot cover (they withdrew it) leaves the rest owed: a clawback.
      const posted = await postTransactions(tx, await settleAgainstPositions(tx, txns));
      await insertReversals(tx, [...posted.values()]);
    });
  }
}
