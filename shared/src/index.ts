export * from './sample';
export * from './faults';
export * from './inventory';
