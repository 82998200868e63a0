// Unit tests of messaging-nest (fast, no I/O). Integration tests (*.int-spec.ts) run in the integration layer.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'messaging-nest',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/messaging-nest',
};
