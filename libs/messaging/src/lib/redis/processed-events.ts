import type { Redis } from 'ioredis';

/**
 * Remembers which event ids a consumer has handled, for effects that do not live in Redis (e.g. publishing the
 * next event): check before, mark after. A crash between effect and mark re-runs the effect once, so those effects
 * must be deterministic or de-duplicated downstream. Effects that live in Redis must instead check and record the
 * id inside their own Lua script (see the settlement ledger).
 */
export class ProcessedEvents {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly ttlSeconds = 7 * 24 * 3600,
  ) {}

  private key(id: string): string {
    return `processed:${this.namespace}:${id}`;
  }

  async seen(id: string): Promise<boolean> {
    return (await this.redis.exists(this.key(id))) === 1;
  }

  /** Idempotent: SET with the same value and TTL. */
  async mark(id: string): Promise<void> {
    await this.redis.set(this.key(id), '1', 'EX', this.ttlSeconds);
  }
}
