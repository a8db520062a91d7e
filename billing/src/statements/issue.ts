/**
 * Issuing a month's statements (`flymining billing statements --month 2026-10`): for every investor with a
 * contract that month, the statement is read from the ledger, recorded in statement_issues with its opening and
 * closing balance, optionally written as a PDF, and the investor is mailed a signed link that downloads it for a
 * limited time. Repeating the command mails nobody twice (unless `resend`): each mail is claimed in
 * statement_issues before it is sent, so two runs at once (the command and the scheduler, two schedulers) cannot
 * both send it. A month issued in full is recorded in statement_months; the scheduler issues last month's
 * statements by itself (issueDueStatements) once every day of it is credited, unless that month is recorded there.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { BillingInputError } from '../domain';
import { signedUrl, type InvestorMailer, type MailMessage, type PortalLinks } from '../mail';
import { escapeHtml } from '@flymining/shared';
import { satsToBtc } from '../portal/forms';
import { withRunLock } from '../run';
import { loadMonthlyStatement, monthDays, openDays, previousMonth, type MonthlyStatement } from './monthly';
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
  /** Told of each mail that could not be sent (its claim is released: a later run tries again). */
  mailFailed?: (investorId: string, err: Error) => void;
  /** Who issues, as recorded in statement_months (default `command`). */
  issuedBy?: 'command' | 'scheduler';
  now?: () => number;
}

export interface IssueProgress {
  month: string;
  investors: number;
  done: number;
  mailed: number;
  withoutEmail: number;
  alreadyMailed: number;
  /** Mails the SMTP server refused or that could not be handed over; retried by the next run. */
  failed: number;
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
  const progress: IssueProgress = { month, investors: investors.length, done: 0, mailed: 0, withoutEmail: 0, alreadyMailed: 0, failed: 0, pdfs: 0 };
  const expiresAtS = Math.floor(now() / 1000) + (options.linkDays ?? 30) * 86_400;
  for (const investorId of investors) {
    const statement = await loadMonthlyStatement(pool, investorId, month);
    await pool.query(
      `INSERT INTO statement_issues (investor_id, month, opening_sat, closing_sat) VALUES ($1, $2, $3, $4)
       ON CONFLICT (investor_id, month) DO UPDATE SET opening_sat = EXCLUDED.opening_sat, closing_sat = EXCLUDED.closing_sat, issued_at = now()`,
      [investorId, month, statement.openingSat, statement.closingSat],
    );
    if (options.outDir) {
      await writeFile(path.join(options.outDir, `${investorId}-${month}.pdf`), await statementPdf(statement));
      progress.pdfs += 1;
    }
    if (options.mailer && options.links) {
      const email = statement.investor.email;
      if (!email) progress.withoutEmail += 1;
      else if (!(await claimMail(pool, investorId, month, email, options.resend ?? false))) progress.alreadyMailed += 1;
      else {
        try {
          await options.mailer.send(statementMail(statement, email, statementLink(options.links, investorId, month, expiresAtS), expiresAtS));
          progress.mailed += 1;
        } catch (err) {
          await pool.query('UPDATE statement_issues SET mailed_to = NULL, mailed_at = NULL WHERE investor_id = $1 AND month = $2', [investorId, month]);
          progress.failed += 1;
          options.mailFailed?.(investorId, err as Error);
        }
      }
    }
    progress.done += 1;
    options.progress?.({ ...progress });
  }
  // A month issued in full and final (no provisional statement, no mail left to retry) is recorded once.
  if (open.length === 0 && progress.failed === 0) {
    await pool.query('INSERT INTO statement_months (month, investors, mailed, issued_by) VALUES ($1, $2, $3, $4) ON CONFLICT (month) DO NOTHING', [
      month,
      progress.investors,
      progress.mailed,
      options.issuedBy ?? 'command',
    ]);
  }
  return progress;
}

/**
 * Takes the right to mail an investor their statement: true for exactly one caller (the row is updated under its
 * row lock, so a second run at the same moment finds it mailed). Claimed before sending: a crash in between loses
 * that mail rather than sending it twice; a failed send gives the claim back.
 */
async function claimMail(pool: Pool, investorId: string, month: string, email: string, resend: boolean): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE statement_issues SET mailed_to = $3, mailed_at = now() WHERE investor_id = $1 AND month = $2 AND (mailed_at IS NULL OR $4)',
    [investorId, month, email, resend],
  );
  return rowCount === 1;
}

/** Whether the month's statements were issued in full already (statement_months). */
export async function monthIssued(pool: Pool, month: string): Promise<boolean> {
  return (await pool.query('SELECT 1 FROM statement_months WHERE month = $1', [month])).rowCount === 1;
}

/**
 * The scheduler's part: issues (and with a mailer, mails) last month's statements once every day of it is credited
 * and nobody issued that month in full yet. Under the run lock, so it neither overlaps a run or correction nor
 * another scheduler. Returns what to log, or undefined when there was nothing to do.
 */
export async function issueDueStatements(
  pool: Pool,
  options: Omit<IssueOptions, 'resend' | 'allowOpenDays' | 'issuedBy' | 'progress'> & { log?: (line: string) => void } = {},
): Promise<string | undefined> {
  const now = options.now ?? Date.now;
  const report = options.log && throttledProgress(options.log, 10_000);
  const month = previousMonth(new Date(now()).toISOString().slice(0, 7));
  if (await monthIssued(pool, month)) return undefined;
  const { from, to } = monthDays(month);
  const open = await openDays(pool, null, from, to);
  if (open.length) return `statements ${month}: waiting for ${open.length} day(s) to be credited (${open[0]}${open.length > 1 ? ' …' : ''})`;
  const outcome = await withRunLock(pool, async () => ({
    // Checked again under the lock: another instance may have issued the month since.
    result: (await monthIssued(pool, month)) ? undefined : await issueMonthlyStatements(pool, month, {
          ...options,
          issuedBy: 'scheduler',
          // Progress every 10 s for a large farm; the last line is the answer below.
          progress: report && ((p) => p.done < p.investors && report(p)),
          mailFailed: (investorId, err) => {
            options.mailFailed?.(investorId, err);
            options.log?.(`statements ${month}: mail to ${investorId} not sent: ${err.message}`);
          },
        }),
  }));
  if (!outcome) return `statements ${month}: another billing instance holds the run lock; next tick`;
  const r = outcome.result;
  if (!r) return undefined;
  return `${progressText(r)}${r.failed ? ' (the failed ones are mailed on a later tick)' : ''}${options.mailer ? '' : ' (no SMTP server: not mailed)'}`;
}

/** One line of progress: `statements 2026-10: 500/10000 investors (5 %), 498 mailed, …`. */
export function progressText(p: IssueProgress): string {
  const pct = p.investors ? Math.floor((100 * p.done) / p.investors) : 100;
  return `statements ${p.month}: ${p.done}/${p.investors} investors (${pct} %), ${p.mailed} mailed, ${p.alreadyMailed} mailed before, ${p.withoutEmail} without email, ${p.failed ? `${p.failed} failed, ` : ''}${p.pdfs} PDFs`;
}

/** Calls `log` with the progress line at most every `everyMs` (and always for the last investor). */
export function throttledProgress(log: (line: string) => void, everyMs: number): (p: IssueProgress, force?: boolean) => void {
  let last = 0;
  return (p, force = false) => {
    if (!force && Date.now() - last < everyMs && p.done !== p.investors) return;
    last = Date.now();
    log(progressText(p));
  };
}
