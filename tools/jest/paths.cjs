// Maps the tsconfig.base.json path aliases (@payrail/*) for Jest, so tests run the TypeScript sources.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');

function pathsToModuleNameMapper() {
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));
  const mapper = {};
  for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
    mapper[`^${alias.replace(/[/.*+?^${}()|[\]\\]/g, '\\$&')}$`] = join(root, target);
  }
  return mapper;
}

module.exports = { pathsToModuleNameMapper, root };
