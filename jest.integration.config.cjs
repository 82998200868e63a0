// Integration layer: *.int-spec.ts against the real Kafka broker and Redis that `npm test` started
// (KAFKA_BROKERS and REDIS_URL are passed in the environment; tests isolate themselves with unique topics/keys, their
// Redis keys all under PAYRAIL_RUN_KEY_PREFIX, removed when the run stops: tools/jest/integration-keys.mjs).
module.exports = {
  ...require('./jest.preset.cjs'),
  displayName: 'integration',
  rootDir: __dirname,
  testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts', '<rootDir>/deploy/*.int-spec.ts'],
  globalSetup: '<rootDir>/tools/jest/integration-setup.mjs',
  globalTeardown: '<rootDir>/tools/jest/integration-teardown.mjs',
  testTimeout: 120_000,
  maxWorkers: 1,
};
