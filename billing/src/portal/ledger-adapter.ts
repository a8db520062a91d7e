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
import { PayoutRefused, type ContractSummary, type CreditView, type InvestorSummary, type PayoutView, type PortalLedger } from './ledger-view';

const today = (): string => new Date().toISOString().slice(0, 10);

function contractSummary(c: Contract): ContractSummary {
  const day = today();
  return {
    id: c.id,
    investorId: c.investorId,
    label: c.id,
    purchasedThs: c.hashrateThs,
    startDay: c.startDay,
    endDay: c.endDay,
    status: day < c.startDay ? 'starts later' : day > c.endDay ? 'ended' : 'active',
  };
}

function creditView(c: DailyCredit): CreditView {
  const i = c.inputs;
  // The contract is delivered its purchased hashrate scaled by the farm's delivery that day (see billing/README.md).
  const delivered = new Decimal(c.contractedThs).times(i.scale);
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
      ...(i.difficulty === null ? {} : { difficulty: i.difficulty }),
      ...(i.btcPriceUsd === null ? {} : { btc_price_usd: i.btcPriceUsd }),
      gross_sat: String(c.grossSat),
      maintenance_fee_sat: String(c.maintenanceFeeSat),
      revenue_fee_sat: String(c.revenueFeeSat),
    },
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
    balanceSat: String((await getBalance(pool, investor.id)).availableSat),
  });
  return {
    async investor(investorId) {
      const investor = await getInvestor(pool, investorId);
      return investor ? summary(investor) : undefined;
    },
    async contractsOf(investorId) {
      return (await listContracts(pool, { investorId })).map(contractSummary);
    },
    async creditsOf(investorId, range = {}) {
      const credits = await listDailyCredits(pool, investorId, { from: range.fromDay, to: range.toDay });
      return credits.filter((c) => !range.contractId || c.contractId === range.contractId).map(creditView);
    },
    async payoutsOf(investorId) {
      return (await listPayouts(pool, { investorId })).map(payoutView).reverse();
    },
    statementCsv(investorId, fromDay, toDay) {
      return statementCsv(pool, investorId, fromDay, toDay);
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
    async investors() {
      return Promise.all((await listInvestors(pool)).map(summary));
    },
    async contracts() {
      return (await listContracts(pool)).map(contractSummary);
    },
    async payouts(status) {
      return (await listPayouts(pool, { status })).map(payoutView).reverse();
    },
    async dailyRuns(limit) {
      return (await listDailyRuns(pool, { limit })).map((r) => ({
        day: r.day,
        status: r.revision > 1 ? `${r.status} (revision ${r.revision})` : r.status,
        startedAt: r.startedAt.toISOString().slice(0, 19).replace('T', ' '),
        finishedAt: r.finishedAt ? r.finishedAt.toISOString().slice(0, 19).replace('T', ' ') : null,
        detail: `${r.contracts} contracts · revenue ${r.revenueSat} sat${r.creditedSat === null ? '' : ` · credited ${r.creditedSat} sat`}`,
      }));
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
