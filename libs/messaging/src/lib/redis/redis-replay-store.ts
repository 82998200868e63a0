import type { Redis } from 'ioredis';

/**
 * Shared replay guard (a `jti` seen-set with TTL) for every instance of a service: SET NX EX. Re-sending the same
 * SET after a lost reply is safe: the second attempt finds the key and reports "seen", and the first caller's
 * outcome is what counts — callers treat "seen" as replay only after an idempotency check (see ingest).
 */
export class RedisReplayStore {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  async claimOnce(jti: string, ttlSeconds: number): Promise<boolean> {
    const result = await this.redis.set(`replay:${this.namespace}:${jti}`, '1', 'EX', ttlSeconds, 'NX');
    return result === 'OK';
  }
}
