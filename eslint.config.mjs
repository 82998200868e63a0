// Lint for every project. Module boundaries are real: scope x type constraints, and each infrastructure
// library is the only importer of its driver (node-jose -> crypto, kafkajs/ioredis -> messaging).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const NEST = ['@nestjs/*', 'nestjs-pino', '@nestjs/terminus'];
const DRIVERS = ['node-jose', 'kafkajs', 'ioredis'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.nx', '**/tmp', '**/.payrail', '**/*.cjs', '**/*.mjs', '**/*.js'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          allow: [],
          depConstraints: [
            // what each kind of project may use
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:crypto', 'type:data-access', 'type:util', 'type:sdk'] },
            { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: ['type:contracts', 'type:crypto'], bannedExternalImports: [...NEST, 'kafkajs', 'ioredis'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contracts', 'type:sdk', 'type:testing'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: [...NEST, ...DRIVERS, 'pino'] },
            { sourceTag: 'type:crypto', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: [...NEST, 'kafkajs', 'ioredis'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:contracts', 'type:data-access', 'type:util'], bannedExternalImports: ['node-jose'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'], bannedExternalImports: DRIVERS },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:crypto', 'type:data-access', 'type:util'], bannedExternalImports: ['node-jose'] },
            // which service may use what: a service never imports another service's code
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:ingest', onlyDependOnLibsWithTags: ['scope:shared', 'scope:ingest'] },
            { sourceTag: 'scope:signing', onlyDependOnLibsWithTags: ['scope:shared', 'scope:signing'] },
            { sourceTag: 'scope:fraud-check', onlyDependOnLibsWithTags: ['scope:shared', 'scope:fraud-check'] },
            { sourceTag: 'scope:settlement', onlyDependOnLibsWithTags: ['scope:shared', 'scope:settlement'] },
            { sourceTag: 'scope:ops', onlyDependOnLibsWithTags: ['scope:shared', 'scope:ops', 'scope:settlement'] }, // the operators' CLI runs settlement's ledger commands
            { sourceTag: 'scope:upstream', onlyDependOnLibsWithTags: ['scope:shared', 'scope:upstream'] },
          ],
        },
      ],
    },
  },
  {
    // the drivers: only their own library may import them, whatever the project's tags
    files: ['apps/**/*.ts', 'libs/contracts/**/*.ts', 'libs/platform/**/*.ts', 'libs/messaging-nest/**/*.ts', 'libs/testing/**/*.ts', 'libs/upstream-sdk/**/*.ts', 'e2e/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: DRIVERS.map((name) => ({ name, message: `${name} is imported only by its own library (node-jose: @payrail/crypto; kafkajs, ioredis: @payrail/messaging).` })),
      }],
    },
  },
  {
    files: ['libs/crypto/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['kafkajs', 'ioredis'].map((name) => ({ name, message: 'crypto does no I/O to Kafka or Redis: take a port (e.g. ReplayStore) instead.' })) }],
    },
  },
  {
    files: ['libs/messaging/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['node-jose'], patterns: [{ group: ['@nestjs/*'], message: 'the messaging core is NestJS-free; NestJS lives in @payrail/messaging-nest.' }] }],
    },
  },
  {
    // the deployment checks read each app's own config schema and routes (so descriptors cannot drift from them):
    // the one place allowed to import app code
    files: ['deploy/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  ...tseslint.configs.recommended.map((c) => ({ ...c, files: ['**/*.ts'] })),
];
