/** Billing's domain: types, input schemas and errors. No SQL here. */
export * from './types';
export * from './errors';
export * from './schemas';
export * from './run';
