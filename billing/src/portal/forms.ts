/**
 * Every request the portal accepts is parsed here, at the edge, with messages written for the person at the form.
 */
import { formatIssues } from '@flymining/shared';
import { z } from 'zod';

const SATS_PER_BTC = 100_000_000n;
/** A real calendar day: 2026-02-30 and 2026-13-01 have the shape but do not exist (Date would roll them over). */
function isRealDay(v: string): boolean {
  const ms = Date.parse(`${v}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === v;
}

const isoDay = (field: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${field}: use a date like 2026-01-31`)
    .refine((v) => !/^\d{4}-\d{2}-\d{2}$/.test(v) || isRealDay(v), `${field}: there is no such day`);

const passwordField = z.string({ error: 'Enter your password' }).min(1, 'Enter your password').max(1024, 'That password is too long');

export const loginForm = z.object({
  email: z.string().trim().min(1, 'Enter your email address').max(320, 'That email address is too long'),
  password: passwordField,
});

/** The password again, to prove a signed-in session is still its owner's before a security change. */
export const reauthForm = z.object({
  password: passwordField,
});

export const totpForm = z.object({
  code: z
    .string({ error: 'Enter the 6-digit code from your authenticator app' })
    .trim()
    .regex(/^\d{6}$/, 'Enter the 6-digit code from your authenticator app'),
});

/** Converts "0.015" BTC to satoshis without floating point. */
export function btcToSats(text: string): bigint {
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * SATS_PER_BTC + BigInt(fraction.padEnd(8, '0'));
}

export function satsToBtc(sats: string | bigint): string {
  const value = BigInt(sats);
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / SATS_PER_BTC}.${(abs % SATS_PER_BTC).toString().padStart(8, '0')}`;
}

export const payoutRequestForm = z.object({
  amountBtc: z
    .string()
    .trim()
    .regex(/^\d{1,8}(\.\d{1,8})?$/, 'Amount: enter BTC with at most 8 decimals, e.g. 0.0125')
    // The shape check above does not stop zod from running this one: guard it.
    .refine((v) => !/^\d{1,8}(\.\d{1,8})?$/.test(v) || btcToSats(v) > 0n, 'Amount: must be more than zero'),
  // One per rendered form: a double click or a reload re-posting the form cannot request the payout twice.
  requestKey: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'This form is incomplete. Reload the page and try again.'),
  // Shape only; the ledger checks the checksum and network of the address.
  address: z
    .string()
    .trim()
    .regex(/^(bc1|tb1|bcrt1)[02-9ac-hj-np-z]{8,87}$|^[123mn][1-9A-HJ-NP-Za-km-z]{25,34}$/, 'Address: not a Bitcoin address'),
});

export const statementQuery = z
  .object({
    from: isoDay('from').optional(),
    to: isoDay('to').optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'the "from" date must not be after the "to" date' });

export const idParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'not a valid id') });

export const markSentForm = z.object({
  txid: z
    .string()
    .trim()
    .regex(/^[0-9a-fA-F]{64}$/, 'Transaction id: 64 hexadecimal characters'),
});

export const rejectForm = z.object({
  reason: z.string().trim().min(1, 'Reason: say why the payout is refused (the investor sees it)').max(500, 'Reason: at most 500 characters'),
});

/** One readable line per problem, e.g. "Amount: must be more than zero". */
export function problems(error: z.ZodError): string[] {
  return formatIssues(error, { messagesOnly: true });
}
