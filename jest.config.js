/** One jest run covers every workspace; real servers are started once in globalSetup. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/shared', '<rootDir>/simulator', '<rootDir>/exporters', '<rootDir>/alerting', '<rootDir>/billing'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    // otplib (portal TOTP) depends on @scure/base and @noble/hashes, which ship only as ES modules.
    '/node_modules/(@scure|@noble)/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // Also when nested under another package's node_modules (only the last node_modules/ segment decides).
  transformIgnorePatterns: ['/node_modules/(?!(@scure|@noble)/)(?!.*/node_modules/)'],
  globalSetup: '<rootDir>/scripts/jest/global-setup.ts',
  globalTeardown: '<rootDir>/scripts/jest/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
