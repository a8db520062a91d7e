/** SQL of the payouts aggregate. Status changes are decided by services/payouts.ts; this only reads and writes rows. */
import type { Queryable, Tx } from '../db';
import type { Payout, PayoutStatus } from '../domain';
import { toPayout, type PayoutRow } from './rows';

export async function selectPayouts(db: Queryable, filter: { investorId?: string; status?: PayoutStatus } = {}): Promise<Payout[]> {
  const { rows } = await db.query<PayoutRow>(
    `SELECT * FROM payouts WHERE ($1::text IS NULL OR investor_id = $1) AND ($2::text IS NULL OR status = $2) ORDER BY id`,
    [filter.investorId ?? null, filter.status ?? null],
  );
  return rows.map(toPayout);
}

/** One page of payouts with one of `statuses` (all when empty), newest first, and how many there are. */
export async function selectPayoutsPage(db: Queryable, statuses: readonly PayoutStatus[], limit: number, offset: number): Promise<{ rows: Payout[]; total: number }> {
  const filter = statuses.length ? [...statuses] : null;
  const [page, count] = await Promise.all([
    db.query<PayoutRow>(`SELECT * FROM payouts WHERE ($1::text[] IS NULL OR status = ANY($1)) ORDER BY id DESC LIMIT $2 OFFSET $3`, [filter, limit, offset]),
    db.query<{ n: string }>(`SELECT count(*) AS n FROM payouts WHERE ($1::text[] IS NULL OR status = ANY($1))`, [filter]),
  ]);
  return { rows: page.rows.map(toPayout), total: Number(count.rows[0]!.n) };
}

/** The payout whose request transaction carries this idempotency key. */
export async function payoutByRequestKey(db: Queryable, key: string): Promise<Payout | undefined> {
  const { rows } = await db.query<PayoutRow>(
    'SELECT p.* FROM payouts p JOIN journal_transactions t ON t.id = p.request_transaction_id WHERE t.idempotency_key = $1',
    [key],
  );
  return rows[0] ? toPayout(rows[0]) : undefined;
}

export async function insertPayout(tx: Tx, v: { investorId: string; amountSat: number; address: string; requestTransactionId: number | undefined }): Promise<Payout> {
  const { rows } = await tx.query<PayoutRow>(
    `INSERT INTO payouts (investor_id, amount_sat, address, status, request_transaction_id) VALUES ($1, $2, $3, 'requested', $4) RETURNING *`,
    [v.investorId, v.amountSat, v.address, v.requestTransactionId],
  );
  return toPayout(rows[0]!);
}

/** requested → approved in one statement; undefined when the payout is missing or not requested. */
export async function approveRequested(db: Queryable, payoutId: number, by: string): Promise<Payout | undefined> {
  const { rows } = await db.query<PayoutRow>(
    `UPDATE payouts SET status = 'approved', approved_at = now(), approved_by = $2 WHERE id = $1 AND status = 'requested' RETURNING *`,
    [payoutId, by],
  );
  return rows[0] ? toPayout(rows[0]) : undefined;
}

export async function payoutStatus(db: Queryable, payoutId: number): Promise<PayoutStatus | undefined> {
  const { rows } = await db.query<{ status: PayoutStatus }>('SELECT status FROM payouts WHERE id = $1', [payoutId]);
  return rows[0]?.status;
}

/** The payout, its row locked until the transaction ends. */
export async function lockPayout(tx: Tx, payoutId: number): Promise<Payout | undefined> {
  const { rows } = await tx.query<PayoutRow>('SELECT * FROM payouts WHERE id = $1 FOR UPDATE', [payoutId]);
  return rows[0] ? toPayout(rows[0]) : undefined;
}

export async function settlePayoutRow(
  tx: Tx,
  payoutId: number,
  v: { to: 'sent' | 'rejected'; txid: string | null; reason: string | null; settleTransactionId: number | undefined },
): Promise<Payout> {
  const { rows } = await tx.query<PayoutRow>(
    `UPDATE payouts SET status = $2, sent_at = CASE WHEN $2 = 'sent' THEN now() END, btc_txid = $3, rejected_reason = $4, settle_transaction_id = $5
      WHERE id = $1 RETURNING *`,
    [payoutId, v.to, v.txid, v.reason, v.settleTransactionId],
  );
  return toPayout(rows[0]!);
}
