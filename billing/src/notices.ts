/**
 * The daily-credit notification: once a day is credited, each investor who has not switched it off gets one mail
 * with that day's credit per contract, the new balance and a signed unsubscribe link (also in List-Unsubscribe).
 * Each investor is mailed once per day (credit_notices), whoever runs it again.
 */
import type { Pool } from 'pg';
import { escapeHtml } from '@flymining/shared';
import { satoshi, type Queryable } from './db';
import { daySchema, parseInput } from './domain';
import { signedUrl, type InvestorMailer, type MailMessage, type PortalLinks } from './mail';
import { satsToBtc } from './portal/forms';

export const UNSUBSCRIBE_PURPOSE = 'unsubscribe-daily-credit';
export const UNSUBSCRIBE_PATH = '/notifications/unsubscribe';

export type NotificationChange = 'portal' | 'unsubscribe-link' | 'staff';

/** Whether the investor wants the daily-credit mail (on unless switched off). */
export async function dailyCreditMailsOn(db: Queryable, investorId: string): Promise<boolean> {
  const { rows } = await db.query<{ daily_credit: boolean }>('SELECT daily_credit FROM investor_notifications WHERE investor_id = $1', [investorId]);
  return rows[0]?.daily_credit ?? true;
}

export async function setDailyCreditMails(db: Queryable, investorId: string, on: boolean, via: NotificationChange): Promise<void> {
  await db.query(
    `INSERT INTO investor_notifications (investor_id, daily_credit, changed_via) VALUES ($1, $2, $3)
     ON CONFLICT (investor_id) DO UPDATE SET daily_credit = EXCLUDED.daily_credit, changed_via = EXCLUDED.changed_via, changed_at = now()`,
    [investorId, on, via],
  );
}

/** The unsubscribe link of an investor (it does not expire: an old mail's link must still work). */
export function unsubscribeLink(links: PortalLinks, investorId: string): string {
  return signedUrl(links, UNSUBSCRIBE_PATH, UNSUBSCRIBE_PURPOSE, { fields: { i: investorId }, expiresAtS: null });
}

interface DayCredit {
  investorId: string;
  name: string;
  email: string;
  contractId: string;
  netSat: number;
  balanceSat: number;
}

export function creditNoticeMail(day: string, credits: readonly DayCredit[], unsubscribe: string): MailMessage {
  const first = credits[0]!;
  const total = credits.reduce((s, c) => s + c.netSat, 0);
  const lines = credits.map((c) => `  ${c.contractId}: ${satsToBtc(BigInt(c.netSat))} BTC`);
  const text = [
    `Dear ${first.name},`,
    '',
    `your credit for ${day} (UTC): ${satsToBtc(BigInt(total))} BTC`,
    ...lines,
    `Balance now: ${satsToBtc(BigInt(first.balanceSat))} BTC. The portal explains each credit.`,
    '',
    `You get this mail after each credited day. Stop it: ${unsubscribe}`,
  ].join('\n');
  const html = `<p>Dear ${escapeHtml(first.name)},</p><p>your credit for ${day} (UTC): <strong>${satsToBtc(BigInt(total))} BTC</strong></p>
<ul>${credits.map((c) => `<li>${escapeHtml(c.contractId)}: ${satsToBtc(BigInt(c.netSat))} BTC</li>`).join('')}</ul>
<p>Balance now: ${satsToBtc(BigInt(first.balanceSat))} BTC. The portal explains each credit.</p>
<p>You get this mail after each credited day. <a href="${escapeHtml(unsubscribe)}">Stop these mails</a>.</p>`;
  return { to: first.email, subject: `FlyMining: your credit for ${day}`, text, html, headers: { 'List-Unsubscribe': `<${unsubscribe}>` } };
}

/**
 * Mails every investor credited on `day` (its latest finished revision) who wants it and was not mailed for that
 * day yet. Returns how many were mailed and skipped.
 */
export async function notifyDailyCredits(
  pool: Pool,
  day: string,
  options: { mailer: InvestorMailer; links: PortalLinks },
): Promise<{ day: string; mailed: number; optedOut: number; alreadyMailed: number; withoutEmail: number }> {
  parseInput(daySchema, day, 'day');
  const { rows } = await pool.query<{ investor_id: string; name: string; email: string | null; contract_id: string; net_sat: string; balance_sat: string; wants: boolean | null; mailed: boolean }>(
    `WITH run AS (SELECT revision FROM daily_runs WHERE day = $1 AND status = 'done' ORDER BY revision DESC LIMIT 1)
     SELECT c.investor_id, i.name, i.email, c.contract_id, c.net_sat, a.balance_sat, n.daily_credit AS wants,
            EXISTS (SELECT 1 FROM credit_notices cn WHERE cn.investor_id = c.investor_id AND cn.day = $1) AS mailed
       FROM daily_credits c JOIN run ON c.revision = run.revision JOIN investors i ON i.id = c.investor_id
       JOIN accounts a ON a.investor_id = c.investor_id LEFT JOIN investor_notifications n ON n.investor_id = c.investor_id
      WHERE c.day = $1 AND c.kind = 'credit' ORDER BY c.investor_id, c.contract_id`,
    [day],
  );
  const byInvestor = new Map<string, typeof rows>();
  for (const r of rows) byInvestor.set(r.investor_id, [...(byInvestor.get(r.investor_id) ?? []), r]);
  const result = { day, mailed: 0, optedOut: 0, alreadyMailed: 0, withoutEmail: 0 };
  for (const [investorId, mine] of byInvestor) {
    const first = mine[0]!;
    if (first.wants === false) result.optedOut += 1;
    else if (first.mailed) result.alreadyMailed += 1;
    else if (!first.email) result.withoutEmail += 1;
    else {
      const credits = mine.map((r) => ({ investorId, name: r.name, email: first.email!, contractId: r.contract_id, netSat: satoshi(r.net_sat), balanceSat: satoshi(r.balance_sat) }));
      // Recorded first: a crash after sending must not mail the investor twice (a lost mail is the lesser harm).
      const claimed = await pool.query('INSERT INTO credit_notices (investor_id, day, net_sat, mailed_to) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
        investorId,
        day,
        credits.reduce((s, c) => s + c.netSat, 0),
        first.email,
      ]);
      if (claimed.rowCount !== 1) {
        result.alreadyMailed += 1;
        continue;
      }
      await options.mailer.send(creditNoticeMail(day, credits, unsubscribeLink(options.links, investorId)));
      result.mailed += 1;
    }
  }
  return result;
}
