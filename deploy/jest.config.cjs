// Deployment descriptors checked against the apps' config schemas, and the pure functions of deploy/local (unit
// layer: no I/O beyond reading files).
module.exports = {
  ...require('../jest.preset.cjs'),
  displayName: 'deploy',
  rootDir: __dirname,
  testMatch: ['<rootDir>/*.spec.ts'],
};
