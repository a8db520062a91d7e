/** @flymining/billing: the ledger API (api.ts over services/ and store/, types in domain/), the daily run, FPPS and address validation. See billing/README.md. */
export * from './api';
export { validateBtcAddress, type AddressCheck, type BtcNetwork, type BtcAddressType } from './address';
export { migrate, migratePortal, openPool, inTransaction, type Schema } from './db';
export { verifyLedger, type LedgerCheck } from './ledger';
