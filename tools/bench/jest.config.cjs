// The benchmarks' pure arithmetic (unit layer: no I/O, nothing timed).
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'bench',
  rootDir: __dirname,
  testMatch: ['<rootDir>/lib/*.spec.ts'],
};
