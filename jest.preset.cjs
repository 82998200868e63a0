// Shared Jest settings: SWC transform (keeps NestJS decorator metadata), node environment, UTC.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { pathsToModuleNameMapper } = require('./tools/jest/paths.cjs');

const swcrc = JSON.parse(readFileSync(join(__dirname, '.swcrc'), 'utf8'));

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', { ...swcrc, swcrc: false }],
    // deploy/local is dependency-free ESM (.mjs, run by Node before node_modules exists); tests of it load it as CJS
    '/deploy/local/[^/]+\\.mjs$': ['@swc/jest', { ...swcrc, swcrc: false, jsc: { ...swcrc.jsc, parser: { syntax: 'ecmascript' } } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(),
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  coverageReporters: ['text-summary', 'lcov'],
};
