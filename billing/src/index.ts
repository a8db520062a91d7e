/** @flymining/billing: the ledger API (api.ts), the daily run, FPPS and address validation. See billing/README.md. */
export * from './api';
export { validateBtcAddress, type AddressCheck, type BtcNetwork, type BtcAddressType } from './address';
export { migrate, openPool, inTransaction } from './db';
export { verifyLedger, type LedgerCheck } from './ledger';
