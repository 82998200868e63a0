import { join } from 'node:path';

/** The repository's root folder (the benchmarks run the built services and CLI from there). */
export const repoRoot = join(__dirname, '..', '..', '..');
