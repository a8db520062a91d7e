/** The portal's ledger view, implemented on the billing engine's API (billing/src/api.ts). */
import Decimal from 'decimal.js';
import type { Pool } from 'pg';
import {
  BillingInputError,
  PayoutError,
  approvePayout,
  getBalance,
  getInvestor,
  listContracts,
  listDailyCredits,
  listDailyRuns,
  listInvestors,
  listPayouts,
  markPayoutSent,
  rejectPayout,
  requestPayout,
  type Contract,
  type DailyCredit,
  type Investor,
  type Payout,
} from '../api';
import type { BtcNetwork } from '../address';
import { statementCsv } from '../statement';
import { loadMonthlyStatement, statementMonths } from '../statements/monthly';
import { hashpriceSatPerThsDay } from '../pools/mempool';
import { purchasePrices, selectContractsPage } from '../store/contracts';
import { selectPayoutsPage } from '../store/payouts';
import { countRuns, selectRuns } from '../store/runs';
import { investorCurrency } from '../store/investors';
import type { MarketToday } from './explain';
import { PayoutRefused, type ContractSummary, type CreditView, type InvestorSummary, type PayoutView, type PortalLedger } from './ledger-view';

const today = (): string => new Date().toISOString().slice(0, 10);

function contractSummary(c: Contract, prices: ReadonlyMap<string, string> = new Map()): ContractSummary {
  const day = today();
  return {
    id: c.id,
    investorId: c.investorId,
    label: c.id,
    purchasedThs: c.hashrateThs,
    startDay: c.startDay,
    endDay: c.endDay,
    status: day < c.startDay ? 'starts later' : day > c.endDay ? 'ended' : 'active',
    purchasePriceUsd: prices.get(c.id) ?? null,
    maintenanceUsdPerThsDay: c.maintenanceUsdPerThsDay,
    revenueFeePct: c.revenueFeePct,
  };
}

/** What the credits' days recorded beside the credit itself: the frozen run, the market day, the investor's rate. */
interface DayFacts {
  runs: Map<string, { poolFeePct?: string; hashpriceSatPerThsDay?: string | null }>;
  market: Map<string, { difficulty: string; rewardSat: number }>;
  fx: Map<string, { perUsd: string; source: string }>;
}

async function dayFacts(pool: Pool, currency: string, from: string, to: string): Promise<DayFacts> {
  const [runs, market, fx] = await Promise.all([
    pool.query<{ day_s: string; revision: number; pool_fee_pct: string | null; hashprice: string | null }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day_s, revision, inputs->>'poolFeePct' AS pool_fee_pct, inputs->>'hashpriceSatPerThsDay' AS hashprice
         FROM daily_runs WHERE day BETWEEN $1 AND $2`,
      [from, to],
    ),
    pool.query<{ day_s: string; difficulty: string; reward_sat: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day_s, difficulty::text, (subsidy_sat + fees_per_block_sat)::text AS reward_sat FROM market_days WHERE day BETWEEN $1 AND $2`,
      [from, to],
    ),
    pool.query<{ day_s: string; per_usd: string; source: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day_s, per_usd::text, source FROM fx_rates WHERE currency = $1 AND day BETWEEN $2 AND $3`,
      [currency, from, to],
    ),
  ]);
  return {
    runs: new Map(runs.rows.map((r) => [`${r.day_s}|${r.revision}`, { poolFeePct: r.pool_fee_pct ?? undefined, hashpriceSatPerThsDay: r.hashprice }])),
    market: new Map(market.rows.map((r) => [r.day_s, { difficulty: r.difficulty, rewardSat: Number(r.reward_sat) }])),
    fx: new Map(fx.rows.map((r) => [r.day_s, { perUsd: new Decimal(r.per_usd).toString(), source: r.source }])),
  };
}

function creditView(c: DailyCredit, facts?: DayFacts): CreditView {
  const i = c.inputs;
  // The contract is delivered its purchased hashrate scaled by the farm's delivery that day (see billing/README.md).
  const delivered = new Decimal(c.contractedThs).times(i.scale);
  const run = facts?.runs.get(`${c.day}|${c.revision}`);
  const market = facts?.market.get(c.day);
  const fx = facts?.fx.get(c.day);
  return {
    contractId: c.contractId,
    day: c.day,
    kind: c.kind,
    deliveredThs: delivered.toDecimalPlaces(3).toString(),
    purchasedThs: new Decimal(c.contractedThs).toString(),
    netSat: String(c.netSat),
    inputs: {
      ...(c.kind === 'reversal' ? { reverses: `revision ${c.revision - 1}` } : c.revision > 1 ? { revision: String(c.revision) } : {}),
      farm_revenue_sat: String(i.revenueSat),
      revenue_source: i.revenueSource,
      farm_delivered_ths: i.farmDeliveredThs,
      sold_ths: i.soldThs,
      scale: i.scale,
      hashing_uptime: i.hashingUptime,
      ...(i.curtailedThs === undefined
        ? {}
        : { curtailed_ths: i.curtailedThs, curtailed_miner_hours: i.curtailedMinerHours ?? '', curtailment_topup_sat: String(i.curtailmentTopUpSat ?? 0) }),
      ...(i.difficulty === null ? {} : { difficulty: i.difficulty }),
      ...(i.btcPriceUsd === null ? {} : { btc_price_usd: i.btcPriceUsd }),
      gross_sat: String(c.grossSat),
      maintenance_fee_sat: String(c.maintenanceFeeSat),
      revenue_fee_sat: String(c.revenueFeeSat),
    },
    grossSat: String(c.grossSat),
    maintenanceFeeSat: String(c.maintenanceFeeSat),
    revenueFeeSat: String(c.revenueFeeSat),
    farmRevenueSat: String(i.revenueSat),
    revenueSource: i.revenueSource,
    farmDeliveredThs: i.farmDeliveredThs,
    soldThs: i.soldThs,
    hashingUptime: i.hashingUptime,
    reachableUptime: i.reachableUptime,
    poolFeePct: i.revenueSource === 'fpps' ? (run?.poolFeePct ?? null) : null,
    btcPriceUsd: i.btcPriceUsd,
    hashpriceSatPerThsDay: run?.hashpriceSatPerThsDay ?? (market ? hashpriceSatPerThsDay(market.difficulty, market.rewardSat) : null),
    fxPerUsd: fx?.perUsd ?? null,
    fxSource: fx?.source ?? null,
    curtailment:
      i.curtailedThs === undefined ? null : { withheldThs: i.curtailedThs, minerHours: i.curtailedMinerHours ?? '0', topUpSat: String(i.curtailmentTopUpSat ?? 0) },
  };
}

function payoutView(p: Payout): PayoutView {
  return {
    id: String(p.id),
    investorId: p.investorId,
    amountSat: String(p.amountSat),
    address: p.address,
    status: p.status,
    requestedAt: new Date(p.requestedAt).toISOString(),
    txid: p.btcTxid,
    rejectedReason: p.rejectedReason,
  };
}

/** Payout ids in URLs are strings; the engine numbers them. */
function payoutNumber(id: string): number {
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n <= 0) throw new PayoutError('NOT_FOUND', `payout ${id} does not exist`);
  return n;
}

export function engineLedger(pool: Pool, options: { network?: BtcNetwork } = {}): PortalLedger {
  const summary = async (investor: Investor): Promise<InvestorSummary> => ({
    id: investor.id,
    name: investor.name,
    email: investor.email,
    ...(await getBalance(pool, investor.id).then((b) => ({ balanceSat: String(b.availableSat), owedSat: String(b.owedSat) }))),
    currency: await investorCurrency(pool, investor.id),
  });
  return {
    async investor(investorId) {
      const investor = await getInvestor(pool, investorId);
      return investor ? summary(investor) : undefined;
    },
    async contractsOf(investorId) {
      const prices = await purchasePrices(pool, investorId);
      return (await listContracts(pool, { investorId })).map((c) => contractSummary(c, prices));
    },
    async creditsOf(investorId, range = {}) {
      const credits = await listDailyCredits(pool, investorId, { from: range.fromDay, to: range.toDay });
      const mine = credits.filter((c) => !range.contractId || c.contractId === range.contractId);
      if (!mine.length) return [];
      const days = mine.map((c) => c.day).sort();
      const facts = await dayFacts(pool, await investorCurrency(pool, investorId), days[0]!, days[days.length - 1]!);
      return mine.map((c) => creditView(c, facts));
    },
    async marketToday(currency) {
      const { rows } = await pool.query<{ day_s: string; difficulty: string; reward_sat: string; btc_price_usd: string; per_usd: string | null }>(
        `SELECT to_char(m.day, 'YYYY-MM-DD') AS day_s, m.difficulty::text, (m.subsidy_sat + m.fees_per_block_sat)::text AS reward_sat,
                m.btc_price_usd::text, f.per_usd::text
           FROM market_days m LEFT JOIN fx_rates f ON f.day = m.day AND f.currency = $1 ORDER BY m.day DESC LIMIT 1`,
        [currency],
      );
      const r = rows[0];
      if (!r) return null;
      const market: MarketToday = {
        day: r.day_s,
        difficulty: new Decimal(r.difficulty).toString(),
        hashpriceSatPerThsDay: hashpriceSatPerThsDay(r.difficulty, Number(r.reward_sat)),
        btcPriceUsd: new Decimal(r.btc_price_usd).toString(),
        fxPerUsd: r.per_usd === null ? null : new Decimal(r.per_usd).toString(),
      };
      return market;
    },
    async payoutsOf(investorId) {
      return (await listPayouts(pool, { investorId })).map(payoutView).reverse();
    },
    statementCsv(investorId, fromDay, toDay) {
      return statementCsv(pool, investorId, fromDay, toDay);
    },
    statementMonths(investorId) {
      // The month before the current one is the last that is over.
      const now = new Date();
      const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
      return statementMonths(pool, investorId, last);
    },
    monthlyStatement(investorId, month) {
      return loadMonthlyStatement(pool, investorId, month);
    },
    async requestPayout(investorId, amountSat, address, requestKey) {
      try {
        return payoutView(await requestPayout(pool, { investorId, amountSat: Number(amountSat), address, requestKey }, { network: options.network }));
      } catch (err) {
        if (err instanceof PayoutError && err.code === 'INSUFFICIENT_BALANCE') throw new PayoutRefused('Amount: more than your available balance.');
        if (err instanceof PayoutError && err.code === 'BELOW_MINIMUM') throw new PayoutRefused(`Amount: ${err.message}.`);
        if (err instanceof PayoutError && err.code === 'INVALID_ADDRESS') throw new PayoutRefused(`Address: not valid (${err.message}).`);
        if (err instanceof BillingInputError) throw new PayoutRefused(err.message);
        throw err;
      }
    },
    async investors({ page, size }) {
      const [rows, count] = await Promise.all([
        pool.query<{ id: string; name: string; email: string | null; currency: string; balance_sat: string | null; owed_sat: string | null }>(
          `SELECT i.id, i.name, i.email, i.currency, a.balance_sat, r.balance_sat AS owed_sat FROM investors i LEFT JOIN accounts a ON a.investor_id = i.id
             LEFT JOIN accounts r ON r.code = 'receivable:' || i.id ORDER BY i.id LIMIT $1 OFFSET $2`,
          [size, (page - 1) * size],
        ),
        pool.query<{ n: string }>('SELECT count(*) AS n FROM investors'),
      ]);
      const investors = rows.rows.map((r) => ({ id: r.id, name: r.name, email: r.email, currency: r.currency, balanceSat: r.balance_sat ?? '0', owedSat: r.owed_sat ?? '0' }));
      return { page, size, total: Number(count.rows[0]!.n), rows: investors };
    },
    async contracts({ page, size }) {
      const { rows, total } = await selectContractsPage(pool, size, (page - 1) * size);
      return { page, size, total, rows: rows.map((c) => contractSummary(c)) };
    },
    async payouts({ page, size }, statuses = []) {
      const { rows, total } = await selectPayoutsPage(pool, statuses, size, (page - 1) * size);
      return { page, size, total, rows: rows.map(payoutView) };
    },
    async dailyRuns({ page, size }) {
      const [runs, total] = await Promise.all([selectRuns(pool, size, (page - 1) * size), countRuns(pool)]);
      const rows = runs.map((r) => ({
        day: r.day,
        status: r.revision > 1 ? `${r.status} (revision ${r.revision})` : r.status,
        startedAt: r.startedAt.toISOString().slice(0, 19).replace('T', ' '),
        finishedAt: r.finishedAt ? r.finishedAt.toISOString().slice(0, 19).replace('T', ' ') : null,
        detail: `${r.contracts} contracts · revenue ${r.revenueSat} sat${r.creditedSat === null ? '' : ` · credited ${r.creditedSat} sat`}`,
      }));
      return { page, size, total, rows };
    },
    async approvePayout(payoutId, staffEmail) {
      await approvePayout(pool, payoutNumber(payoutId), staffEmail);
    },
    async markPayoutSent(payoutId, txid, staffEmail) {
      await markPayoutSent(pool, payoutNumber(payoutId), { btcTxid: txid, staff: staffEmail });
    },
    async rejectPayout(payoutId, reason, staffEmail) {
      await rejectPayout(pool, payoutNumber(payoutId), { reason, staff: staffEmail });
    },
  };
}
