// Unit tests of the test helpers (fast, no I/O). Integration tests (*.int-spec.ts) run in the integration layer.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'testing',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/testing',
};
