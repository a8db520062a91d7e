/** The errors billing throws on purpose: bad input, and a payout that cannot be made or moved on. */

export class BillingInputError extends Error {
  override name = 'BillingInputError';
}

export type PayoutErrorCode = 'INVALID_ADDRESS' | 'BELOW_MINIMUM' | 'INSUFFICIENT_BALANCE' | 'NOT_FOUND' | 'WRONG_STATUS';

export class PayoutError extends Error {
  override name = 'PayoutError';
  constructor(readonly code: PayoutErrorCode, message: string) {
    super(message);
  }
}
