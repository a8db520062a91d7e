export * from './issues';
export * from './html';
export * from './duration';
export * from './json';
export * from './yaml-locator';
