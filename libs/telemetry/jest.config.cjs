// Unit tests of telemetry (fast, no I/O). Integration tests (*.int-spec.ts) run in the integration layer.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'telemetry',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/telemetry',
};
