export * from './types';
export * from './models';
export * from './load';
export * from './watch';
export * from './pools';
