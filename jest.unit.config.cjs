// Unit layer: every project's *.spec.ts (no I/O). `nx test <project>` runs one project's share.
const { readdirSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const roots = [...['apps', 'libs'].flatMap((dir) => readdirSync(join(__dirname, dir)).map((p) => join(__dirname, dir, p))), join(__dirname, 'deploy'), join(__dirname, 'tools', 'bench')];
module.exports = {
  projects: roots.filter((r) => existsSync(join(r, 'jest.config.cjs'))).map((r) => join(r, 'jest.config.cjs')),
};
