// Where a benchmark writes its Redis keys, and how they are removed. The one implementation is
// deploy/local/redis.mjs (dependency-free, shared with tools/stack and the tests); this is its typed door.
import { join } from 'node:path';
import type * as LocalRedis from '../../../deploy/local/redis.mjs';
import { repoRoot } from './repo';

export type { DeleteResult } from '../../../deploy/local/redis.mjs';

export interface BenchKeys {
  /** Every key the benchmark writes starts with it. */
  prefix: string;
  /** Removes every key under the prefix when the benchmark claimed it (one log line: how many); once. */
  release(): Promise<void>;
}

/** deploy/local/redis.mjs (ESM, loaded from the benchmarks' CommonJS). */
export function localRedis(): Promise<typeof LocalRedis> {
  return import('../../../deploy/local/redis.mjs');
}

/**
 * The key prefix of a benchmark on the Redis at `url`:
 * - under `runPrefix` (the prefix of the stack the benchmark started, or PAYRAIL_RUN_KEY_PREFIX from the run that
 *   started it): that run removes the keys when it stops, release() does nothing;
 * - otherwise (a Redis given by REDIS_URL alone) a prefix of its own, recorded in .payrail/<name>/ before anything is
 *   written: release() removes its keys, and the next run removes those of a benchmark that was killed.
 */
export async function benchKeys(name: string, url: string, runPrefix = process.env['PAYRAIL_RUN_KEY_PREFIX']): Promise<BenchKeys> {
  if (runPrefix) return { prefix: `${runPrefix}${name}:`, release: async () => undefined };
  const redis = await localRedis();
  const payrailDir = join(repoRoot, '.payrail');
  await redis.cleanAbandonedPrefixes(payrailDir);
  const claim = redis.claimRunPrefix({ runDir: join(payrailDir, name), url, prefix: redis.newRunPrefix(name) });
  return {
    prefix: claim.prefix,
    release: async () => {
      await claim.release();
    },
  };
}
