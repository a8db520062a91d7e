export * from './json-repair';
export * from './envelope';
export * from './dialects';
export * from './detect';
export * from './limits';
