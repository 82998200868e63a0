// A lease in Redis for work one process should do at a time (restoring state after a Redis loss, closing
// batches): SET NX PX, renewed while the work runs, released only by its holder, and a write that lands only while
// the lease is still held (when Redis lost its data again meanwhile, the lease went with it and the work is done
// again, never marked done half-way). Every script is idempotent for the same holder: a command ioredis re-sends
// after a lost reply changes nothing.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const ACQUIRE = "local h = redis.call('GET', KEYS[1]) if h == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end if h then return 0 end redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1";
const RENEW = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1";
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const SET_IF_HELD = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end redis.call('SET', KEYS[2], ARGV[2]) return 1";

export class RedisLease {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly holder: string = randomUUID(),
    private readonly leaseMs = 30_000,
  ) {}

  /** True when this holder has the lease (taken now, or already its own). */
  async acquire(): Promise<boolean> {
    return (await this.redis.eval(ACQUIRE, 1, this.key, this.holder, String(this.leaseMs))) === 1;
  }

  /** False when the lease is no longer this holder's (lapsed, or lost with Redis). */
  async renew(): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key, this.holder, String(this.leaseMs))) === 1;
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.holder);
  }

  /** Runs `work` renewing the lease every third of its length, and releases it afterwards. */
  async hold<T>(work: () => Promise<T>): Promise<T> {
    // a lost renewal is found out by setIfHeld(): the work is then done again
    const timer = setInterval(() => void this.renew().catch(() => undefined), Math.max(Math.floor(this.leaseMs / 3), 1));
    timer.unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
      await this.release();
    }
  }

  /** SET `key` `value` only while this holder still has the lease: false when it did not (nothing written). */
  async setIfHeld(key: string, value: string): Promise<boolean> {
    return (await this.redis.eval(SET_IF_HELD, 2, this.key, key, this.holder, value)) === 1;
  }
}
