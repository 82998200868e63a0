// Unit tests of fraud-check (fast, no I/O). Integration tests (*.int-spec.ts) run in the integration layer.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'fraud-check',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/apps/fraud-check',
};
