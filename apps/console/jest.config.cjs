// Unit tests of console (fast, no I/O). Integration tests (*.int-spec.ts) run in the integration layer.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'console',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/apps/console',
};
