export * from './sample';
export * from './faults';
export * from './inventory';
export * from './schema';
export * from './log';
export * from './influx';
export * from './service';
export * from './edge';
