/** One jest run covers every workspace; real servers are started once in globalSetup. */
const nodeProject = {
  displayName: 'node',
  testEnvironment: 'node',
  roots: ['<rootDir>/shared', '<rootDir>/simulator', '<rootDir>/exporters', '<rootDir>/alerting', '<rootDir>/billing', '<rootDir>/maintenance', '<rootDir>/grafana-plugin', '<rootDir>/bench'],
  testMatch: ['**/test/**/*.test.ts'],
  // The panel's React tests run in the jsdom project below.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/grafana-plugin/test/dom/'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    // otplib (portal TOTP) depends on @scure/base and @noble/hashes, which ship only as ES modules.
    '/node_modules/(@scure|@noble)/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // Also when nested under another package's node_modules (only the last node_modules/ segment decides).
  transformIgnorePatterns: ['/node_modules/(?!(@scure|@noble)/)(?!.*/node_modules/)'],
  globalSetup: '<rootDir>/scripts/jest/global-setup.ts',
  globalTeardown: '<rootDir>/scripts/jest/global-teardown.ts',
};

/** The rack-map panel's components in a browser-like DOM (no servers needed). */
const domProject = {
  displayName: 'dom',
  testEnvironment: 'jsdom',
  // @grafana/data and @grafana/ui require a few ESM-only packages (marked, d3-*): those are compiled too.
  transformIgnorePatterns: ['/node_modules/(?!(marked|d3-[^/]+|internmap|@react-hookz|@ver0|react-calendar|get-user-locale|memoize|mimic-function|@wojtekmaj|ol|rbush|quickselect|earcut|color-space|color-rgba|color-parse|color-name|pbf|geotiff)/)'],
  roots: ['<rootDir>/grafana-plugin/test/dom'],
  testMatch: ['**/*.test.ts?(x)'],
  transform: {
    '^.+\\.(t|j|mj)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } }, target: 'es2022' } }],
  },
  moduleNameMapper: { '\\.css$': '<rootDir>/grafana-plugin/test/dom/style-stub.js' },
  setupFiles: ['<rootDir>/grafana-plugin/test/dom/setup.ts'],
};

module.exports = {
  projects: [nodeProject, domProject],
  testTimeout: 60000,
  maxWorkers: 2,
};
