export * from './tokens';
export * from './portal-session';
export * from './settings';
export * from './middleware';
