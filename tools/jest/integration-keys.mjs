// The integration layer's Redis keys (jest.integration.config.cjs globalSetup / globalTeardown). Every test writes
// under PAYRAIL_RUN_KEY_PREFIX. `npm test` sets it to its run's prefix and removes those keys when it stops; Jest run
// on its own claims a prefix here (recorded in .payrail/jest-integration/, so a run that was killed has its keys
// removed by the next one) and removes its keys at the end. deploy/local/redis.mjs does the work.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimRunPrefix, cleanAbandonedPrefixes, newRunPrefix } from '../../deploy/local/redis.mjs';

const payrailDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.payrail');
let claim;

export async function setup() {
  if (process.env.PAYRAIL_RUN_KEY_PREFIX) return; // the run that set it owns the keys
  await cleanAbandonedPrefixes(payrailDir);
  claim = claimRunPrefix({ runDir: join(payrailDir, 'jest-integration'), url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: newRunPrefix('jest-integration') });
  process.env.PAYRAIL_RUN_KEY_PREFIX = claim.prefix;
}

export async function teardown() {
  await claim?.release();
}
