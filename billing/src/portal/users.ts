/**
 * Portal accounts: credentials, TOTP second factor and the audit of sign-ins (tables of migrations/1*.sql).
 * Investors' money lives in the ledger; this module only decides who may look at which investor.
 */
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import type { Pool } from 'pg';
import { inTransaction } from '../db';
import { decoyPasswordHash, hashPassword, verifyPassword } from './passwords';
import type { PortalRole } from './session';

export interface PortalUser {
  id: number;
  email: string;
  role: PortalRole;
  investorId: string | null;
  totpEnabled: boolean;
  /** Raised when the password is reset: a session signed in under an older epoch has ended. */
  sessionEpoch: number;
}

interface UserRow {
  id: string;
  email: string;
  role: PortalRole;
  investor_id: string | null;
  password_hash: string;
  totp_confirmed: boolean;
  session_epoch: number;
}

const USER_COLUMNS = `u.id, u.email, u.role, u.investor_id::text AS investor_id, u.password_hash, u.session_epoch,
  (t.confirmed_at IS NOT NULL) AS totp_confirmed`;

function toUser(row: UserRow): PortalUser {
  return { id: Number(row.id), email: row.email, role: row.role, investorId: row.investor_id, totpEnabled: row.totp_confirmed, sessionEpoch: row.session_epoch };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface NewPortalUser {
  email: string;
  password: string;
  role: PortalRole;
  investorId?: string;
}

export async function createPortalUser(pool: Pool, user: NewPortalUser): Promise<PortalUser> {
  if ((user.role === 'investor') !== (user.investorId !== undefined)) {
    throw new Error('an investor account needs --investor; a staff account must not have one');
  }
  const hash = await hashPassword(user.password);
  try {
    const { rows } = await pool.query<{ id: string }>(
      'INSERT INTO portal_users (email, password_hash, role, investor_id) VALUES ($1, $2, $3, $4) RETURNING id',
      [normalizeEmail(user.email), hash, user.role, user.investorId ?? null],
    );
    return { id: Number(rows[0]?.id), email: normalizeEmail(user.email), role: user.role, investorId: user.investorId ?? null, totpEnabled: false, sessionEpoch: 0 };
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new Error(`a portal user with email ${user.email} already exists`);
    if ((err as { code?: string }).code === '23503') throw new Error(`no investor with id ${user.investorId}`);
    throw err;
  }
}

/** Turns an account off (or on again). Its open sessions end at their next request. Returns false if unknown. */
export async function setUserDisabled(pool: Pool, email: string, disabled: boolean): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE portal_users SET disabled = $2 WHERE email = $1', [normalizeEmail(email), disabled]);
  return rowCount === 1;
}

export async function findUserById(pool: Pool, id: number): Promise<PortalUser | undefined> {
  const { rows } = await pool.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM portal_users u LEFT JOIN portal_totp t ON t.user_id = u.id WHERE u.id = $1 AND NOT u.disabled`,
    [id],
  );
  return rows[0] && toUser(rows[0]);
}

export type PasswordCheck = { ok: true; user: PortalUser } | { ok: false };

/** Same work whether or not the email exists, so neither the answer nor its timing reveals accounts. */
export async function checkPassword(pool: Pool, email: string, password: string): Promise<PasswordCheck> {
  const { rows } = await pool.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM portal_users u LEFT JOIN portal_totp t ON t.user_id = u.id
     WHERE u.email = $1 AND NOT u.disabled`,
    [normalizeEmail(email)],
  );
  const row = rows[0];
  const matches = await verifyPassword(password, row?.password_hash ?? (await decoyPasswordHash()));
  return row && matches ? { ok: true, user: toUser(row) } : { ok: false };
}

export type LoginOutcome = 'signed_in' | 'bad_credentials' | 'totp_required' | 'bad_totp' | 'rate_limited';

export async function auditLogin(
  pool: Pool,
  entry: { email: string; userId?: number; outcome: LoginOutcome; ip?: string; userAgent?: string },
): Promise<void> {
  await pool.query('INSERT INTO portal_login_audit (email, user_id, outcome, ip, user_agent) VALUES ($1, $2, $3, $4, $5)', [
    normalizeEmail(entry.email).slice(0, 320),
    entry.userId ?? null,
    entry.outcome,
    entry.ip ?? null,
    entry.userAgent?.slice(0, 400) ?? null,
  ]);
}

// ---- TOTP -------------------------------------------------------------------------------------------------

/**
 * Gives the account a new secret at once (the CLI: staff creating an account hand the secret over themselves, so
 * `confirmed`). The account page uses newTotpSecret + confirmTotpEnrolment instead, which keep the old factor
 * until the new one is proven.
 */
export async function beginTotpEnrolment(pool: Pool, user: PortalUser, options: { issuer?: string; confirmed?: boolean } = {}): Promise<{ secret: string; uri: string }> {
  const enrolment = newTotpSecret(user, options.issuer);
  await pool.query(
    `INSERT INTO portal_totp (user_id, secret, confirmed_at) VALUES ($1, $2, CASE WHEN $3 THEN now() END)
     ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, confirmed_at = EXCLUDED.confirmed_at, last_step = NULL`,
    [user.id, enrolment.secret, options.confirmed ?? false],
  );
  return enrolment;
}

/** The time step of a valid code (one 30 s step of clock drift either way, only steps after `afterStep`). */
async function validCodeStep(secret: string, code: string, afterStep: string | null): Promise<number | undefined> {
  const result = await verifyTotp({
    secret,
    token: code,
    epochTolerance: 30,
    ...(afterStep === null ? {} : { afterTimeStep: Number(afterStep) }),
  }).catch(() => ({ valid: false as const }));
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

/**
 * Checks a code against the user's secret and records its time step, so the same code cannot be replayed.
 * `confirm` turns a pending enrolment on.
 */
export async function checkTotpCode(pool: Pool, userId: number, code: string, confirm = false): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ secret: string; last_step: string | null; confirmed: boolean }>(
      'SELECT secret, last_step, confirmed_at IS NOT NULL AS confirmed FROM portal_totp WHERE user_id = $1 FOR UPDATE',
      [userId],
    );
    const row = rows[0];
    if (!row || (!row.confirmed && !confirm)) return false;
    const step = await validCodeStep(row.secret, code, row.last_step);
    if (step === undefined) return false;
    await client.query('UPDATE portal_totp SET last_step = $2, confirmed_at = COALESCE(confirmed_at, now()) WHERE user_id = $1', [userId, step]);
    return true;
  });
}

/** A new secret for the account page's enrolment; nothing is stored until a code from it is confirmed. */
export function newTotpSecret(user: PortalUser, issuer = 'FlyMining'): { secret: string; uri: string } {
  const secret = generateSecret();
  return { secret, uri: newTotpUri(user, secret, issuer) };
}

/** The otpauth:// link an authenticator app reads (as a QR code or opened on the phone). */
export function newTotpUri(user: PortalUser, secret: string, issuer = 'FlyMining'): string {
  return generateURI({ issuer, label: user.email, secret });
}

/**
 * Makes `secret` the account's confirmed second factor if `code` is valid for it. Until then the old one (if any)
 * stays in force, so an abandoned re-enrolment never leaves the account without its second factor.
 */
export async function confirmTotpEnrolment(pool: Pool, userId: number, secret: string, code: string): Promise<boolean> {
  const step = await validCodeStep(secret, code, null);
  if (step === undefined) return false;
  await pool.query(
    `INSERT INTO portal_totp (user_id, secret, confirmed_at, last_step) VALUES ($1, $2, now(), $3)
     ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, confirmed_at = now(), last_step = EXCLUDED.last_step`,
    [userId, secret, step],
  );
  return true;
}

export async function disableTotp(pool: Pool, userId: number): Promise<void> {
  await pool.query('DELETE FROM portal_totp WHERE user_id = $1', [userId]);
}
