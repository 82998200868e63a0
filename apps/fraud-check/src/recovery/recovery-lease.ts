// Who restores after a Redis loss: one instance at a time holds a lease in Redis (SET NX PX, renewed while it works);
// the others wait for the Redis-life marker, or take the lease over when its holder stopped renewing it (crashed).
// The holder writes the marker in the same script that checks it still holds the lease: when Redis lost its data
// again during the restore, the lease is gone with it and the restore is done again, never marked done half-way.
// Each script is idempotent for the same holder: a command ioredis re-sends after a lost reply changes nothing.
import { randomUUID } from 'node:crypto';
import type { Redis } from '@payrail/messaging';
import { OPS_NAMESPACE, REDIS_LIFE_KEY } from '../audit/audit-log';
import { RedisScript, defineScript } from '../redis-script';

export const RECOVERY_LEASE_KEY = `${OPS_NAMESPACE}:recovery-lease`;
/** How long a lease outlives its holder's last renewal; renewed every third of it. */
export const RECOVERY_LEASE_MS = 30_000;

const ACQUIRE_SCRIPT = `
-- KEYS: 1 lease; ARGV: 1 holder id, 2 lease ms. 1 when this holder has the lease (taken now or already), else 0.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

const RENEW_SCRIPT = `
-- KEYS: 1 lease; ARGV: 1 holder id, 2 lease ms. 0 when the lease is no longer this holder's (lost with Redis, or lapsed).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

const FINISH_SCRIPT = `
-- KEYS: 1 lease, 2 Redis-life marker; ARGV: 1 holder id, 2 marker value. 1 when the marker was written.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1
`;

export interface RestoreLease {
  /** True when this instance holds the lease (now or already). */
  acquire(): Promise<boolean>;
  /** Runs `work` renewing the lease every third of its length. */
  hold<T>(work: () => Promise<T>): Promise<T>;
  /** Writes the Redis-life marker and releases the lease, if this instance still holds it: false when it did not. */
  finish(): Promise<boolean>;
}

export class RedisRecoveryLease implements RestoreLease {
  private readonly holder = randomUUID();
  private readonly acquireScript: RedisScript<number>;
  private readonly renewScript: RedisScript<number>;
  private readonly finishScript: RedisScript<number>;

  constructor(
    redis: Redis,
    private readonly leaseMs = RECOVERY_LEASE_MS,
    private readonly onRenewFailed: (err: Error) => void = () => undefined,
  ) {
    this.acquireScript = defineScript(redis, 'payrailFraudRecoveryLease', 1, ACQUIRE_SCRIPT);
    this.renewScript = defineScript(redis, 'payrailFraudRecoveryLeaseRenew', 1, RENEW_SCRIPT);
    this.finishScript = defineScript(redis, 'payrailFraudRecoveryFinish', 2, FINISH_SCRIPT);
  }

  async acquire(): Promise<boolean> {
    return (await this.acquireScript(RECOVERY_LEASE_KEY, this.holder, this.leaseMs)) === 1;
  }

  async hold<T>(work: () => Promise<T>): Promise<T> {
    // a lost renewal is found out by finish(): the restore is then done again
    const timer = setInterval(() => void this.renewScript(RECOVERY_LEASE_KEY, this.holder, this.leaseMs).catch((err: Error) => this.onRenewFailed(err)), Math.max(Math.floor(this.leaseMs / 3), 1));
    timer.unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  async finish(): Promise<boolean> {
    return (await this.finishScript(RECOVERY_LEASE_KEY, REDIS_LIFE_KEY, this.holder, randomUUID())) === 1;
  }
}
