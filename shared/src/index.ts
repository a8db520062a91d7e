export * from './sample';
export * from './faults';
