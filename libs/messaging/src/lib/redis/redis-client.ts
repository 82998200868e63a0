import { Redis, RedisOptions } from 'ioredis';
import { RedisConnectionConfig } from './redis.config';

export type { Redis } from 'ioredis';

/**
 * An ioredis client. Note: ioredis re-sends a command whose reply was lost on reconnect, so every mutating
 * operation Payrail sends must be idempotent (an operation id checked inside the same script).
 */
export function createRedis(config: RedisConnectionConfig, connectionName: string): Redis {
  const options: RedisOptions = {
    keyPrefix: config.keyPrefix,
    connectionName,
    lazyConnect: true,
    maxRetriesPerRequest: 5,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  };
  if (config.url.startsWith('rediss://')) options.tls = config.tlsCa ? { ca: [config.tlsCa] } : {};
  return new Redis(config.url, options);
}

export async function redisReady(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  const ping = redis.ping().then((r) => r === 'PONG', () => false);
  return Promise.race([ping, timeout]);
}
