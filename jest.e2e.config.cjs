// End-to-end layer: *.e2e-spec.ts against the four services running as separate processes.
module.exports = {
  ...require('./jest.preset.cjs'),
  displayName: 'e2e',
  rootDir: __dirname,
  testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts'],
  testTimeout: 180_000,
  maxWorkers: 1,
};
