export * from './lineProtocol';
export * from './influxql';
export * from './config';
export * from './spool';
export * from './store';
export * from './retention';
export * from './http';
export * from './uplink';
