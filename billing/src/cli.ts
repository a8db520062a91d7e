/** Billing's staff commands: `flymining billing ...` (see billing/README.md). PostgreSQL from FLYMINING_PG_URL. */
import { InfluxStore, loadInfluxConfig } from '@flymining/shared';
import type { Command } from 'commander';
import type { Pool } from 'pg';
import {
  approvePayout,
  createContract,
  createInvestor,
  getInvestor,
  listContracts,
  listDailyCredits,
  listInvestors,
  listPayouts,
  markPayoutSent,
  rejectPayout,
  type PayoutStatus,
} from './api';
import { BillingInputError, type RunInputs } from './domain';
import { migrate, openPool } from './db';
import { fppsBtcPerDay } from './fpps';
import { InfluxHashrateSource } from './hashrate';
import { verifyLedger } from './ledger';
import { importMarketCsv, importPoolPayoutsCsv, recordFxRate, recordMarketDay, recordPoolPayout } from './market';
import { setInvestorCurrency } from './store/investors';
import { listHashrateChecks, PoolHashrateGapError } from './pools/gap';
import { importerFromEnv, networkSourceFromEnv, scheduledImportersFromEnv } from './pools/config';
import { importNetwork, importPool } from './pools/import';
import { catchUp, correctDay, recomputeDay, runDay, settingsFromEnv } from './run';
import { startBillingScheduler } from './scheduler';
import { statementCsv } from './statement';
import { recordPurchasePrice } from './store/contracts';
import type { InvestorMailer, PortalLinks } from './mail';
import { changeContractFee, endContractEarly, extendContract, listContractChanges } from './contracts';

type Out = NodeJS.WritableStream;

// Mail (nodemailer) and PDF (pdfkit) code is loaded by the commands that send or render only: every other command,
// run many times a day by staff and scripts, starts about half a second sooner. (tsx/cjs: require, not import().)
/* eslint-disable @typescript-eslint/no-require-imports */
const mailModule = (): typeof import('./mail') => require('./mail') as typeof import('./mail');
const noticesModule = (): typeof import('./notices') => require('./notices') as typeof import('./notices');
const statementsModule = (): typeof import('./statements/issue') => require('./statements/issue') as typeof import('./statements/issue');
/* eslint-enable @typescript-eslint/no-require-imports */

/** The SMTP mailer and the portal's link settings, or undefined without FLYMINING_SMTP_URL (an error when `required`). */
function mailSetup(required: boolean): { mailer: InvestorMailer; links: PortalLinks } | undefined {
  const { mailerFromEnv, portalLinksFromEnv } = mailModule();
  const mailer = mailerFromEnv();
  if (!mailer) {
    if (required) throw new Error('FLYMINING_SMTP_URL is not set');
    return undefined;
  }
  try {
    return { mailer, links: portalLinksFromEnv() };
  } catch (err) {
    mailer.close();
    throw err;
  }
}

async function withPool<T>(fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = openPool();
  try {
    await migrate(pool);
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

function openInflux(): { source: InfluxHashrateSource; store: InfluxStore } {
  const store = new InfluxStore(loadInfluxConfig({ url: 'http://127.0.0.1:8086' }), { spool: false });
  return { store, source: new InfluxHashrateSource(store, process.env.FLYMINING_BILLING_SITE || undefined) };
}

async function withInflux<T>(fn: (source: InfluxHashrateSource) => Promise<T>): Promise<T> {
  const { store, source } = openInflux();
  try {
    return await fn(source);
  } finally {
    await store.close();
  }
}

function fail(err: unknown): void {
  process.stderr.write(`flymining billing: ${(err as Error).message}\n`);
  process.exitCode = 2;
}

/** Wraps an action so a refused input or failed run prints one line on stderr and exits 2, not a stack trace. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      fail(err);
    }
  };
}

function payoutId(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new Error(`payout id must be a number, got "${text}"`);
  return Number(text);
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

export function registerBillingCommands(program: Command, out: Out = process.stdout): void {
  const billing = program.command('billing').description('investor credits, ledger and payouts (PostgreSQL: FLYMINING_PG_URL)');

  billing
    .command('fpps')
    .description('expected BTC per day for a hashrate under FPPS')
    .requiredOption('--ths <n>', 'hashrate in TH/s')
    .requiredOption('--difficulty <d>', 'network difficulty')
    .requiredOption('--subsidy <btc>', 'block subsidy in BTC')
    .option('--fees <btc>', 'average transaction fees per block in BTC', '0')
    .option('--pool-fee-pct <p>', 'pool fee in percent', '0')
    .option('--fpps-rate <r>', 'FPPS rate (1 = full expected reward)', '1')
    .action(
      action(async (o: { ths: string; difficulty: string; subsidy: string; fees: string; poolFeePct: string; fppsRate: string }) => {
        for (const [name, value] of Object.entries(o)) {
          if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: "${value}" is not a non-negative number`);
        }
        const btc = fppsBtcPerDay({ hashrateThs: o.ths, difficulty: o.difficulty, subsidyBtc: o.subsidy, feesPerBlockBtc: o.fees, poolFeePct: o.poolFeePct, fppsRate: o.fppsRate });
        out.write(`${btc.toFixed(8)}\n`);
      }),
    );

  billing
    .command('run')
    .description('credit one closed UTC day (safe to repeat), or every missed day with --catch-up')
    .option('--date <YYYY-MM-DD>', 'the day')
    .option('--catch-up', 'run every closed day not done yet (last 35 days)')
    .option('--accept-pool-gap <reason>', "credit the day although the pool's worker hashrate differs from the farm's beyond the tolerance (recorded)")
    .action(
      action(async (o: { date?: string; catchUp?: boolean; acceptPoolGap?: string }) => {
        if (!o.date && !o.catchUp) throw new Error('give --date YYYY-MM-DD or --catch-up');
        if (o.acceptPoolGap !== undefined && (!o.date || o.acceptPoolGap.trim() === '')) throw new Error('--accept-pool-gap needs --date and a reason');
        const settings = { ...settingsFromEnv(), acceptPoolGap: o.acceptPoolGap?.trim(), log: (m: string) => process.stderr.write(`${m}\n`) };
        await withPool((pool) =>
          withInflux(async (source) => {
            if (o.catchUp) {
              out.write(json(await catchUp(pool, source, settings)));
              return;
            }
            let result;
            try {
              result = await runDay(pool, source, o.date!, settings);
            } catch (err) {
              if (!(err instanceof PoolHashrateGapError)) throw err;
              out.write(json({ day: o.date, status: 'blocked', check: err.check }));
              process.stderr.write(`flymining billing: ${err.message}\n`);
              process.exitCode = 4;
              return;
            }
            out.write(json(result));
            if (result.status === 'locked') {
              process.stderr.write('flymining billing: another billing run holds the lock; nothing done\n');
              process.exitCode = 3;
            }
          }),
        );
      }),
    );

  billing
    .command('recompute')
    .description("recompute a day from today's inputs and compare; --apply posts reversals and the new credits")
    .requiredOption('--date <YYYY-MM-DD>', 'the day')
    .option('--apply', 'correct the ledger (reversing entries, new revision)')
    .action(
      action(async (o: { date: string; apply?: boolean }) => {
        await withPool((pool) =>
          withInflux(async (source) => {
            const settings = settingsFromEnv();
            const r = await recomputeDay(pool, source, o.date, settings);
            out.write(`day ${r.day} revision ${r.revision}: revenue ${r.stored.revenueSat} → ${r.recomputed.revenueSat} sat (${r.stored.revenueSource} → ${r.recomputed.revenueSource}), `);
            out.write(`delivered ${r.stored.hashrate.deliveredThs} → ${r.recomputed.hashrate.deliveredThs} TH/s, farm ${r.storedFarmSat} → ${r.recomputedFarmSat} sat\n`);
            const curtailed = (i: RunInputs) => (i.curtailment ? `${i.curtailment.withheldThs} TH/s (${i.curtailment.topUpSat} sat from the farm)` : 'none');
            if (r.stored.curtailment || r.recomputed.curtailment) out.write(`curtailed, credited as hashed: ${curtailed(r.stored)} → ${curtailed(r.recomputed)}\n`);
            out.write(`${r.differences.length} credit(s) differ\n`);
            for (const d of r.differences.slice(0, 50)) out.write(`  ${d.contractId}: ${d.storedNetSat ?? '-'} → ${d.recomputedNetSat ?? '-'} sat\n`);
            if (o.apply) out.write(json(await correctDay(pool, source, o.date, settings)));
          }),
        );
      }),
    );

  billing
    .command('statement')
    .description("an investor's credits and payouts as CSV")
    .requiredOption('--investor <id>', 'investor id')
    .requiredOption('--from <YYYY-MM-DD>', 'first day')
    .requiredOption('--to <YYYY-MM-DD>', 'last day')
    .action(
      action(async (o: { investor: string; from: string; to: string }) => {
        await withPool(async (pool) => {
          if (!(await getInvestor(pool, o.investor))) throw new Error(`investor ${o.investor} does not exist`);
          out.write(await statementCsv(pool, o.investor, o.from, o.to));
        });
      }),
    );

  billing
    .command('statements')
    .description("issue every investor's monthly statement: recorded, mailed with a signed download link (FLYMINING_SMTP_URL, FLYMINING_PORTAL_URL), optionally written as PDFs")
    .requiredOption('--month <YYYY-MM>', 'the month, once every day of it is credited')
    .option('--out <dir>', 'also write each statement as DIR/<investor>-<month>.pdf')
    .option('--no-mail', 'record (and write) only; mail nobody')
    .option('--resend', 'mail investors who were mailed this statement already')
    .option('--link-days <n>', 'how long a mailed link works, in days', '30')
    .option('--allow-open-days', 'issue although some days of the month are not credited yet (statements say "provisional")')
    .action(
      action(async (o: { month: string; out?: string; mail: boolean; resend?: boolean; linkDays: string; allowOpenDays?: boolean }) => {
        const linkDays = Number(o.linkDays);
        if (!Number.isSafeInteger(linkDays) || linkDays < 1 || linkDays > 366) throw new Error(`--link-days: "${o.linkDays}" is not a number of days (1-366)`);
        const mail = o.mail ? mailSetup(false) : undefined;
        if (o.mail && !mail) throw new Error('FLYMINING_SMTP_URL is not set: set it, or give --no-mail');
        try {
          await withPool(async (pool) => {
            const statements = statementsModule();
            const report = statements.throttledProgress((line) => process.stderr.write(`${line}\n`), 1000);
            const result = await statements.issueMonthlyStatements(pool, o.month, {
              ...mail,
              linkDays,
              outDir: o.out,
              resend: o.resend,
              allowOpenDays: o.allowOpenDays,
              progress: report,
              mailFailed: (investor, err) => process.stderr.write(`statements ${o.month}: mail to ${investor} not sent: ${err.message}\n`),
            });
            if (result.investors === 0) report(result, true);
            out.write(json(result));
            if (result.failed) throw new Error(`${result.failed} statement mail(s) not sent; run the command again to retry them`);
          });
        } finally {
          mail?.mailer.close();
        }
      }),
    );

  billing
    .command('notify-credits')
    .description("mail each investor credited on a day their credit and balance (unless they switched it off); once per day (the scheduler does this after each run)")
    .requiredOption('--date <YYYY-MM-DD>', 'the credited day')
    .action(
      action(async (o: { date: string }) => {
        const mail = mailSetup(true)!;
        try {
          await withPool(async (pool) => void out.write(json(await noticesModule().notifyDailyCredits(pool, o.date, mail))));
        } finally {
          mail.mailer.close();
        }
      }),
    );

  billing
    .command('add-investor')
    .description('add an investor (and their ledger account)')
    .requiredOption('--id <id>')
    .requiredOption('--name <name>')
    .option('--email <email>')
    .action(action(async (o: { id: string; name: string; email?: string }) => withPool(async (pool) => void out.write(json(await createInvestor(pool, o))))));

  billing
    .command('add-contract')
    .description('add a hashrate contract (changed afterwards only with flymining billing contract end|extend|change-fee)')
    .requiredOption('--id <id>')
    .requiredOption('--investor <id>')
    .requiredOption('--ths <n>', 'contracted TH/s')
    .requiredOption('--start <YYYY-MM-DD>', 'first day credited')
    .requiredOption('--end <YYYY-MM-DD>', 'last day credited')
    .option('--maintenance-usd <usd>', 'maintenance fee per TH/s per day in USD', '0')
    .option('--revenue-fee-pct <p>', 'fee in percent of the gross credit', '0')
    .option('--purchase-price-usd <usd>', 'what the investor paid, USD (shown with the payback projection)')
    .action(
      action(async (o: { id: string; investor: string; ths: string; start: string; end: string; maintenanceUsd: string; revenueFeePct: string; purchasePriceUsd?: string }) =>
        withPool(async (pool) => {
          // Checked before the contract is created, so a bad price leaves nothing behind.
          if (o.purchasePriceUsd !== undefined && (!/^\d+(\.\d{1,2})?$/.test(o.purchasePriceUsd) || Number(o.purchasePriceUsd) <= 0)) {
            throw new BillingInputError(`purchasePriceUsd: "${o.purchasePriceUsd}" is not a positive USD amount with at most 2 decimals`);
          }
          const c = await createContract(pool, {
            id: o.id,
            investorId: o.investor,
            hashrateThs: o.ths,
            startDay: o.start,
            endDay: o.end,
            maintenanceUsdPerThsDay: o.maintenanceUsd,
            revenueFeePct: o.revenueFeePct,
          });
          if (o.purchasePriceUsd !== undefined) await recordPurchasePrice(pool, c.id, o.purchasePriceUsd);
          out.write(json(o.purchasePriceUsd === undefined ? c : { ...c, purchasePriceUsd: o.purchasePriceUsd }));
        }),
      ),
    );

  const contract = billing.command('contract').description('change a contract: end early, extend, change fees (re-allocates days already credited; audited)');
  const endChanges = [
    ['end', 'end a contract after --last-day; days after it already credited are taken back (what was withdrawn is owed)', endContractEarly],
    ['extend', 'extend a contract to --last-day; days already run in between are credited now', extendContract],
  ] as const;
  for (const [name, description, apply] of endChanges) {
    contract
      .command(name)
      .description(description)
      .requiredOption('--id <contract>')
      .requiredOption('--last-day <YYYY-MM-DD>', 'the last day credited')
      .requiredOption('--staff <name>')
      .requiredOption('--reason <text>')
      .action(action(async (o: { id: string; lastDay: string; staff: string; reason: string }) =>
        withPool(async (pool) => void out.write(json(await apply(pool, { contractId: o.id, lastDay: o.lastDay, staff: o.staff, reason: o.reason })))),
      ));
  }
  contract
    .command('change-fee')
    .description('new fees from --from on; days from then already credited are re-allocated')
    .requiredOption('--id <contract>')
    .requiredOption('--from <YYYY-MM-DD>', 'first day of the new fees')
    .option('--maintenance-usd <usd>', 'maintenance fee per TH/s per day in USD')
    .option('--revenue-fee-pct <p>', 'fee in percent of the gross credit')
    .requiredOption('--staff <name>')
    .requiredOption('--reason <text>')
    .action(action(async (o: { id: string; from: string; maintenanceUsd?: string; revenueFeePct?: string; staff: string; reason: string }) =>
      withPool(async (pool) =>
        void out.write(
          json(await changeContractFee(pool, { contractId: o.id, fromDay: o.from, maintenanceUsdPerThsDay: o.maintenanceUsd, revenueFeePct: o.revenueFeePct, staff: o.staff, reason: o.reason })),
        ),
      ),
    ));

  billing
    .command('list')
    .description('investors, contracts, payouts, or credits --investor ID, as JSON')
    .argument('<what>', 'investors | contracts | payouts | credits | pool-gaps | contract-changes')
    .option('--investor <id>')
    .option('--status <status>', 'payouts: requested, approved, sent, rejected')
    .action(
      action(async (what: string, o: { investor?: string; status?: PayoutStatus }) =>
        withPool(async (pool) => {
          if (what === 'investors') out.write(json(await listInvestors(pool)));
          else if (what === 'contracts') out.write(json(await listContracts(pool, { investorId: o.investor })));
          else if (what === 'payouts') out.write(json(await listPayouts(pool, { investorId: o.investor, status: o.status })));
          else if (what === 'credits' && o.investor) out.write(json(await listDailyCredits(pool, o.investor)));
          else if (what === 'pool-gaps') out.write(json(await listHashrateChecks(pool)));
          else if (what === 'contract-changes') out.write(json(await listContractChanges(pool)));
          else throw new Error(`list what? investors, contracts, payouts, pool-gaps or credits --investor ID (got "${what}")`);
        }),
      ),
    );

  billing
    .command('record-market')
    .description("record a day's network difficulty, block subsidy and fees, and BTC price")
    .requiredOption('--date <YYYY-MM-DD>')
    .requiredOption('--difficulty <d>')
    .requiredOption('--subsidy <btc>')
    .option('--fees <btc>', 'average fees per block', '0')
    .requiredOption('--price-usd <usd>')
    .action(
      action(async (o: { date: string; difficulty: string; subsidy: string; fees: string; priceUsd: string }) =>
        withPool((pool) => recordMarketDay(pool, { day: o.date, difficulty: o.difficulty, subsidyBtc: o.subsidy, feesPerBlockBtc: o.fees, btcPriceUsd: o.priceUsd })),
      ),
    );

  billing
    .command('record-fx')
    .description('record what one USD bought in another currency on a day, with its source (investors see credits in their currency)')
    .requiredOption('--date <YYYY-MM-DD>')
    .requiredOption('--currency <code>', 'ISO 4217, e.g. EUR')
    .requiredOption('--per-usd <rate>', 'units of the currency per USD, e.g. 0.92')
    .requiredOption('--source <text>', 'where the rate comes from, e.g. "ECB reference rate"')
    .action(
      action(async (o: { date: string; currency: string; perUsd: string; source: string }) =>
        withPool((pool) => recordFxRate(pool, { day: o.date, currency: o.currency, perUsd: o.perUsd, source: o.source })),
      ),
    );

  billing
    .command('set-currency')
    .description("the currency an investor's pages show values in (USD, or one with recorded rates)")
    .requiredOption('--investor <id>')
    .requiredOption('--currency <code>', 'ISO 4217, e.g. EUR')
    .action(action(async (o: { investor: string; currency: string }) => withPool((pool) => setInvestorCurrency(pool, o.investor, o.currency))));

  billing
    .command('record-payout')
    .description("record what the pool paid for a day (replaces the FPPS expectation for that day)")
    .requiredOption('--date <YYYY-MM-DD>')
    .requiredOption('--pool <name>')
    .requiredOption('--btc <amount>')
    .action(action(async (o: { date: string; pool: string; btc: string }) => withPool((pool) => recordPoolPayout(pool, { day: o.date, pool: o.pool, amountBtc: o.btc }))));

  billing
    .command('import')
    .description('import a CSV: payouts (date,pool,amount_btc) or market (date,difficulty,subsidy_btc,fees_btc,btc_price_usd)')
    .argument('<kind>', 'payouts | market')
    .argument('<file>')
    .action(
      action(async (kind: string, file: string) =>
        withPool(async (pool) => {
          if (kind !== 'payouts' && kind !== 'market') throw new Error(`import payouts FILE or import market FILE (got "${kind}")`);
          const n = kind === 'payouts' ? await importPoolPayoutsCsv(pool, file) : await importMarketCsv(pool, file);
          out.write(`${n} line(s) recorded from ${file}\n`);
        }),
      ),
    );

  billing
    .command('import-pool')
    .description("import a pool's daily revenue (and per-worker hashrate with --workers) over an API; key from FLYMINING_POOL_<POOL>_..._FILE")
    .requiredOption('--pool <name>', 'foundry | braiins | f2pool | viabtc')
    .requiredOption('--from <YYYY-MM-DD>', 'first UTC day')
    .requiredOption('--to <YYYY-MM-DD>', 'last UTC day')
    .option('--workers <YYYY-MM-DD>', "also import the pool's per-worker hashrate of this day")
    .action(
      action(async (o: { pool: string; from: string; to: string; workers?: string }) => {
        const importer = importerFromEnv(o.pool);
        await withPool(async (pool) => void out.write(json(await importPool(pool, importer, o.from, o.to, { workerDays: o.workers ? [o.workers] : [] }))));
      }),
    );

  billing
    .command('import-network')
    .description('import difficulty, subsidy and fees per block, BTC price and hashprice per UTC day from mempool.space (FLYMINING_NETWORK_URL)')
    .requiredOption('--from <YYYY-MM-DD>', 'first UTC day')
    .requiredOption('--to <YYYY-MM-DD>', 'last UTC day')
    .action(action(async (o: { from: string; to: string }) => withPool(async (pool) => void out.write(json(await importNetwork(pool, networkSourceFromEnv(), o.from, o.to))))));

  /** A staff decision on one payout: `<payoutId>` (checked before the database is opened), its required options, the payout printed. */
  const payoutDecision = <O extends Record<string, string>>(
    name: string,
    description: string,
    options: readonly (readonly [flags: string, help?: string])[],
    decide: (pool: Pool, pid: number, o: O) => Promise<unknown>,
  ): void => {
    const command = billing.command(name).description(description).argument('<payoutId>');
    for (const [flags, help] of options) command.requiredOption(flags, help);
    command.action(
      action(async (id: string, o: O) => {
        const pid = payoutId(id);
        await withPool(async (pool) => void out.write(json(await decide(pool, pid, o))));
      }),
    );
  };

  payoutDecision<{ staff: string }>('approve', 'approve a requested payout', [['--staff <name>']], (pool, pid, o) => approvePayout(pool, pid, o.staff));
  payoutDecision<{ txid: string; staff: string }>(
    'mark-sent',
    'record that an approved payout was broadcast (ledger: pending → sent)',
    [['--txid <hex>', 'the Bitcoin transaction id'], ['--staff <name>']],
    (pool, pid, o) => markPayoutSent(pool, pid, { btcTxid: o.txid, staff: o.staff }),
  );
  payoutDecision<{ reason: string; staff: string }>(
    'reject',
    'refuse a payout; the amount returns to the balance',
    [['--reason <text>'], ['--staff <name>']],
    (pool, pid, o) => rejectPayout(pool, pid, { reason: o.reason, staff: o.staff }),
  );

  billing
    .command('verify')
    .description('recompute every ledger invariant from the journal entries')
    .action(
      action(async () =>
        withPool(async (pool) => {
          const check = await verifyLedger(pool);
          out.write(json(check));
          if (!check.ok) process.exitCode = 1;
        }),
      ),
    );

  billing
    .command('scheduler')
    .description("run every closed day automatically (node-cron, FLYMINING_BILLING_CRON, default 00:30 UTC); catches up at start; issues and mails last month's statements once it is credited in full (FLYMINING_BILLING_AUTO_STATEMENTS=0: not)")
    .action(
      action(async () => {
        const pool = openPool();
        await migrate(pool);
        const { source } = openInflux();
        const importers = scheduledImportersFromEnv();
        const days = Number(process.env.FLYMINING_POOL_IMPORT_DAYS || '3');
        if (!Number.isSafeInteger(days) || days < 1 || days > 35) throw new Error(`FLYMINING_POOL_IMPORT_DAYS: "${process.env.FLYMINING_POOL_IMPORT_DAYS}" is not a number of days (1-35)`);
        const network = process.env.FLYMINING_NETWORK_IMPORT === '1' ? networkSourceFromEnv() : undefined;
        // With an SMTP server, each credited day is mailed to the investors who want it (daily-credit mails), and
        // last month's statements once it is credited in full (unless FLYMINING_BILLING_AUTO_STATEMENTS=0).
        const mail = mailSetup(false);
        const autoStatements = process.env.FLYMINING_BILLING_AUTO_STATEMENTS ?? '1';
        if (autoStatements !== '0' && autoStatements !== '1') throw new Error(`FLYMINING_BILLING_AUTO_STATEMENTS: "${autoStatements}" is not 0 or 1`);
        const log = (m: string): void => void process.stderr.write(`${new Date().toISOString()} ${m}\n`);
        const scheduler = startBillingScheduler(pool, source, {
          ...settingsFromEnv(),
          imports: { importers, network, days },
          afterDay:
            mail
              ? async (day) => {
                  const r = await noticesModule().notifyDailyCredits(pool, day, mail);
                  return `credit mails: ${r.mailed} sent, ${r.optedOut} switched off, ${r.withoutEmail} without email`;
                }
              : undefined,
          afterCatchUp: autoStatements === '1' ? () => statementsModule().issueDueStatements(pool, { ...mail, log }) : undefined,
          log,
        });
        await new Promise<void>((resolve) => {
          const stop = () => void scheduler.stop().then(() => (mail?.mailer.close(), pool.end())).then(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );
}
