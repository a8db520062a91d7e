/** zod schemas of every billing input, and parseInput: bad input throws BillingInputError naming the field. */
import { formatIssues } from '@flymining/shared';
import { z } from 'zod';
import { BillingInputError } from './errors';

export const idSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only, at most 64');
export const daySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a day is YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar day');
export const decimalSchema = z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal number such as 100 or 12.5');
export const satSchema = z.number().int('satoshi are whole numbers').nonnegative().max(21e14);

export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = formatIssues(result.error, { whole: 'value' }).join('; ');
  throw new BillingInputError(`${what}: ${issues}`);
}

export const investorSchema = z.object({ id: idSchema, name: z.string().min(1).max(200), email: z.string().email().optional() });
export type NewInvestor = z.input<typeof investorSchema>;

export const contractSchema = z
  .object({
    id: idSchema,
    investorId: idSchema,
    hashrateThs: decimalSchema,
    startDay: daySchema,
    endDay: daySchema,
    maintenanceUsdPerThsDay: decimalSchema.default('0'),
    revenueFeePct: decimalSchema.default('0'),
  })
  .refine((c) => c.endDay >= c.startDay, { message: 'endDay is before startDay', path: ['endDay'] })
  .refine((c) => Number(c.hashrateThs) > 0, { message: 'must be more than 0', path: ['hashrateThs'] })
  .refine((c) => Number(c.revenueFeePct) <= 100, { message: 'at most 100', path: ['revenueFeePct'] });
export type NewContract = z.input<typeof contractSchema>;
export type ValidContract = z.output<typeof contractSchema>;

export const payoutRequestSchema = z.object({
  investorId: idSchema,
  amountSat: satSchema.positive('must be more than 0'),
  address: z.string().min(1).max(100),
  /** Optional key from the client (e.g. a form nonce): the same key never creates a second payout. */
  requestKey: z.string().min(1).max(100).optional(),
});
export type PayoutRequest = z.input<typeof payoutRequestSchema>;

export const staffSchema = z.string().min(1, 'staff name is required').max(100);
export const markSentSchema = z.object({ btcTxid: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a transaction id is 64 hex digits'), staff: staffSchema });
export const rejectSchema = z.object({ reason: z.string().min(1).max(500), staff: staffSchema });
