import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Shared replay guard (a `jti` seen-set with TTL) for every instance of a service: SET NX EX with a token unique
 * to this claim. ioredis re-sends a command whose reply was lost; the re-sent SET then finds the key, so a claim
 * that was refused is checked against the stored token: our own earlier write still counts as our claim.
 */
export class RedisReplayStore {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  async claimOnce(jti: string, ttlSeconds: number): Promise<boolean> {
    const key = `replay:${this.namespace}:${jti}`;
    const token = randomUUID();
    if ((await this.redis.set(key, token, 'EX', ttlSeconds, 'NX')) === 'OK') return true;
    return (await this.redis.get(key)) === token;
  }
}
