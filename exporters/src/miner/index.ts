export * from './json-repair';
export * from './envelope';
export * from './backends';
export * from './detect';
export * from './limits';
