/**
 * Issuing a month's statements (`flymining billing statements --month 2026-10`): for every investor with a
 * contract that month, the statement is read from the ledger, recorded in statement_issues with its opening and
 * closing balance, optionally written as a PDF, and the investor is mailed a signed link that downloads it for a
 * limited time. Repeating the command mails nobody twice (unless `resend`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { BillingInputError } from '../domain';
import { signedUrl, type InvestorMailer, type MailMessage, type PortalLinks } from '../mail';
import { escapeHtml } from '@flymining/shared';
import { satsToBtc } from '../portal/forms';
import { loadMonthlyStatement, monthDays, openDays, type MonthlyStatement } from './monthly';
import { statementPdf } from './render';

export const STATEMENT_LINK_PURPOSE = 'statement';
export const STATEMENT_LINK_PATH = '/statements/link';

export interface IssueOptions {
  mailer?: InvestorMailer;
  links?: PortalLinks;
  /** How long a mailed link works (default 30 days). */
  linkDays?: number;
  /** Also write each statement as <dir>/<investor>-<month>.pdf. */
  outDir?: string;
  /** Mail investors who were mailed this month's statement already. */
  resend?: boolean;
  /** Issue although some days of the month are not credited yet. */
  allowOpenDays?: boolean;
  progress?: (p: IssueProgress) => void;
  now?: () => number;
}

export interface IssueProgress {
  month: string;
  investors: number;
  done: number;
  mailed: number;
  withoutEmail: number;
  alreadyMailed: number;
  pdfs: number;
}

/** The link an investor gets in the statement mail. */
export function statementLink(links: PortalLinks, investorId: string, month: string, expiresAtS: number): string {
  return signedUrl(links, STATEMENT_LINK_PATH, STATEMENT_LINK_PURPOSE, { fields: { i: investorId, m: month }, expiresAtS });
}

export function statementMail(s: MonthlyStatement, to: string, link: string, expiresAtS: number): MailMessage {
  const until = new Date(expiresAtS * 1000).toISOString().slice(0, 10);
  const closing = `${satsToBtc(BigInt(s.closingSat))} BTC`;
  const subject = `Your FlyMining statement for ${s.month}`;
  const text = [
    `Dear ${s.investor.name},`,
    '',
    `your statement for ${s.month} (${s.from} to ${s.to}, UTC) is ready.`,
    `Closing balance: ${closing}.`,
    '',
    `Download it (PDF): ${link}`,
    `The link works until ${until}; after that, sign in to the portal and open Statements.`,
  ].join('\n');
  const html = `<p>Dear ${escapeHtml(s.investor.name)},</p><p>your statement for ${escapeHtml(s.month)} (${s.from} to ${s.to}, UTC) is ready.
Closing balance: <strong>${closing}</strong>.</p><p><a href="${escapeHtml(link)}">Download your statement (PDF)</a></p>
<p>The link works until ${until}; after that, sign in to the portal and open Statements.</p>`;
  return { to, subject, text, html };
}

/** Investors with a contract running on some day of the month, by id. */
async function investorsOfMonth(pool: Pool, from: string, to: string): Promise<string[]> {
  const { rows } = await pool.query<{ investor_id: string }>(
    `SELECT DISTINCT investor_id FROM contracts WHERE start_day <= $2::date AND end_day >= $1::date ORDER BY investor_id`,
    [from, to],
  );
  return rows.map((r) => r.investor_id);
}

export async function issueMonthlyStatements(pool: Pool, month: string, options: IssueOptions = {}): Promise<IssueProgress> {
  const { from, to } = monthDays(month);
  const now = options.now ?? Date.now;
  const today = new Date(now()).toISOString().slice(0, 10);
  if (to >= today) throw new BillingInputError(`month: ${month} is not over yet (today is ${today} UTC)`);
  const open = await openDays(pool, null, from, to);
  if (open.length && !options.allowOpenDays) {
    throw new BillingInputError(`month: ${open.length} day(s) of ${month} are not credited yet (${open.slice(0, 5).join(', ')}${open.length > 5 ? ', …' : ''}); run them first`);
  }
  if (options.mailer && !options.links) throw new Error('mailing statements needs the portal links (FLYMINING_PORTAL_URL and its secret)');
  if (options.outDir) await mkdir(options.outDir, { recursive: true });
  const investors = await investorsOfMonth(pool, from, to);
  const progress: IssueProgress = { month, investors: investors.length, done: 0, mailed: 0, withoutEmail: 0, alreadyMailed: 0, pdfs: 0 };
  const expiresAtS = Math.floor(now() / 1000) + (options.linkDays ?? 30) * 86_400;
  for (const investorId of investors) {
    const statement = await loadMonthlyStatement(pool, investorId, month);
    const { rows } = await pool.query<{ mailed_at: Date | null }>(
      `INSERT INTO statement_issues (investor_id, month, opening_sat, closing_sat) VALUES ($1, $2, $3, $4)
       ON CONFLICT (investor_id, month) DO UPDATE SET opening_sat = EXCLUDED.opening_sat, closing_sat = EXCLUDED.closing_sat, issued_at = now()
       RETURNING mailed_at`,
      [investorId, month, statement.openingSat, statement.closingSat],
    );
    if (options.outDir) {
      await writeFile(path.join(options.outDir, `${investorId}-${month}.pdf`), await statementPdf(statement));
      progress.pdfs += 1;
    }
    if (options.mailer && options.links) {
      const email = statement.investor.email;
      if (!email) progress.withoutEmail += 1;
      else if (rows[0]?.mailed_at && !options.resend) progress.alreadyMailed += 1;
      else {
        await options.mailer.send(statementMail(statement, email, statementLink(options.links, investorId, month, expiresAtS), expiresAtS));
        await pool.query('UPDATE statement_issues SET mailed_to = $3, mailed_at = now() WHERE investor_id = $1 AND month = $2', [investorId, month, email]);
        progress.mailed += 1;
      }
    }
    progress.done += 1;
    options.progress?.({ ...progress });
  }
  return progress;
}
