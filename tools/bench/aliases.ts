// Resolves the workspace's @payrail/* path aliases (tsconfig.base.json) for tools run with
// `node -r @swc-node/register`, which does not read tsconfig paths. Import it before any @payrail/* code.
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
const aliases = new Map(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [alias, join(root, target ?? '')]));

type Resolve = (request: string, ...rest: unknown[]) => string;
const internal = Module as unknown as { _resolveFilename: Resolve };
const original = internal._resolveFilename;
internal._resolveFilename = function resolveAlias(this: unknown, request: string, ...rest: unknown[]): string {
  return original.call(this, aliases.get(request) ?? request, ...rest);
};
