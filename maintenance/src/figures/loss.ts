/**
 * What a ticket cost while it was open: lost TH·h = ∫ max(0, nominal − delivered) dt over the stored samples from
 * opening to fix (or close), in one-minute means; a minute without a sample counts as nothing delivered (an
 * unreachable miner writes none). BTC = lost TH·h / 24 × that UTC day's hashprice (BTC per TH per day), from the
 * market day the billing engine runs on; a day without market data leaves BTC unknown rather than guessed.
 */
import Decimal from 'decimal.js';
import type { Pool } from 'pg';
import { quoteString, timeLiteral, type InfluxStore } from '@flymining/shared';
import { fppsBtcPerDay } from '@flymining/billing/src/fpps';
import { getMarketDay } from '@flymining/billing/src/market';

const MINUTE_MS = 60_000;

export interface TicketWindow {
  miner: string;
  from: Date;
  to: Date;
  nominalThs: number | null;
}

export interface TicketLoss {
  thHours: number;
  /** Per UTC day, TH·h lost. */
  byDay: Map<string, number>;
  /** Null when a day of the window has no market data. */
  btc: string | null;
}

/** Hashprice of a UTC day in BTC per TH per day, or null without its market data. */
export async function hashprice(pool: Pool, day: string): Promise<Decimal | null> {
  const m = await getMarketDay(pool, day);
  if (!m) return null;
  return fppsBtcPerDay({ hashrateThs: 1, difficulty: m.difficulty, subsidyBtc: new Decimal(m.subsidySat).div(1e8), feesPerBlockBtc: new Decimal(m.feesPerBlockSat).div(1e8) });
}

export async function ticketLoss(influx: InfluxStore, pool: Pool, w: TicketWindow): Promise<TicketLoss> {
  const start = Math.floor(w.from.getTime() / MINUTE_MS) * MINUTE_MS;
  const end = Math.max(start + MINUTE_MS, w.to.getTime());
  const rows = await influx.queryRows(
    `SELECT mean("hashrate_ths") AS ths, mean("nominal_ths") AS nominal FROM "miner" WHERE "miner" = ${quoteString(w.miner)} AND time >= ${timeLiteral(start)} AND time < ${timeLiteral(end)} GROUP BY time(1m) fill(none)`,
  );
  const delivered = new Map<number, number>();
  let nominalSeen: number | null = null;
  for (const r of rows) {
    if (typeof r.ths === 'number') delivered.set(r.time, r.ths);
    if (typeof r.nominal === 'number' && r.nominal > 0) nominalSeen = r.nominal;
  }
  const nominal = w.nominalThs ?? nominalSeen ?? 0;
  const byDay = new Map<string, number>();
  let total = 0;
  for (let t = start; t < end; t += MINUTE_MS) {
    // The part of this minute inside the window (the first and last minutes may be partial).
    const share = (Math.min(end, t + MINUTE_MS) - Math.max(w.from.getTime(), t)) / MINUTE_MS;
    if (share <= 0) continue;
    const lost = Math.max(0, nominal - (delivered.get(t) ?? 0)) * (share / 60);
    const day = new Date(t).toISOString().slice(0, 10);
    byDay.set(day, (byDay.get(day) ?? 0) + lost);
    total += lost;
  }
  let btc: Decimal | null = new Decimal(0);
  for (const [day, thHours] of byDay) {
    if (thHours === 0) continue;
    const price = await hashprice(pool, day);
    if (!price) {
      btc = null;
      break;
    }
    btc = btc.add(price.mul(thHours).div(24));
  }
  return { thHours: total, byDay, btc: btc === null ? null : btc.toFixed(8, Decimal.ROUND_HALF_UP) };
}

/**
 * Fills lost TH·h and BTC of closed tickets that have none yet (at most `limit` a call, oldest first). A ticket whose
 * BTC cannot be priced yet keeps its TH·h and is priced on a later call, once the market day is recorded.
 */
export async function fillTicketLosses(pool: Pool, influx: InfluxStore, limit = 200): Promise<number> {
  const { rows } = await pool.query<{ id: string; miner: string; opened_at: Date; end_at: Date; nominal_ths: string | null }>(
    `SELECT id, miner, opened_at, COALESCE(fixed_at, closed_at) AS end_at, nominal_ths FROM maintenance.tickets
      WHERE closed_at IS NOT NULL AND (lost_th_hours IS NULL OR (lost_btc IS NULL AND closed_at > now() - interval '35 days'))
      ORDER BY closed_at LIMIT $1`,
    [limit],
  );
  let filled = 0;
  for (const r of rows) {
    const loss = await ticketLoss(influx, pool, { miner: r.miner, from: r.opened_at, to: r.end_at, nominalThs: r.nominal_ths === null ? null : Number(r.nominal_ths) });
    await pool.query('UPDATE maintenance.tickets SET lost_th_hours = $2, lost_btc = $3 WHERE id = $1', [r.id, loss.thHours.toFixed(3), loss.btc]);
    filled += 1;
  }
  return filled;
}
