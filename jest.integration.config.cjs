// Integration layer: *.int-spec.ts against the real Kafka broker and Redis that `npm test` started
// (KAFKA_BROKERS and REDIS_URL are passed in the environment; tests isolate themselves with unique topics/keys).
module.exports = {
  ...require('./jest.preset.cjs'),
  displayName: 'integration',
  rootDir: __dirname,
  testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
  testTimeout: 120_000,
  maxWorkers: 1,
};
