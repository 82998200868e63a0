import { Redis, RedisOptions } from 'ioredis';
import { RedisConnectionConfig } from './redis.config';

export type { Redis } from 'ioredis';

/** Redis refused the configured user or password: retrying cannot help, the configuration must change. */
export class RedisAuthenticationError extends Error {
  override readonly name = 'RedisAuthenticationError';
}

/** A refused credential is final: WRONGPASS (bad user or password), NOAUTH (a password is required). */
const AUTH_REFUSED = /^(WRONGPASS|NOAUTH)\b/;
const authFailures = new WeakMap<Redis, Error>();
const lastErrors = new WeakMap<Redis, Error>();

/** The URL as it may appear in logs and errors: the password replaced by `***`. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable Redis URL)';
  }
}

/**
 * An ioredis client. Note: ioredis re-sends a command whose reply was lost on reconnect, so every mutating
 * operation Payrail sends must be idempotent (an operation id checked inside the same script).
 * It reconnects after network errors, but not after Redis refused the credentials (see `connectRedis`).
 */
export function createRedis(config: RedisConnectionConfig, connectionName: string): Redis {
  const refused: { error?: Error } = {};
  const options: RedisOptions = {
    keyPrefix: config.keyPrefix,
    connectionName,
    lazyConnect: true,
    maxRetriesPerRequest: 5,
    enableAutoPipelining: true,
    retryStrategy: (times) => (refused.error ? null : Math.min(times * 100, 2_000)),
  };
  if (config.url.startsWith('rediss://')) options.tls = config.tlsCa ? { ca: [config.tlsCa] } : {};
  const redis = new Redis(config.url, options);
  redis.on('error', (err: Error) => {
    lastErrors.set(redis, err);
    if (AUTH_REFUSED.test(err.message)) {
      refused.error = err;
      authFailures.set(redis, err);
    }
  });
  return redis;
}

/**
 * Connects a client made by `createRedis`, or fails saying why instead of ioredis' bare "Connection is closed":
 * wrong credentials as a RedisAuthenticationError naming the user and Redis' answer (never the password), anything
 * else (refused connection, a certificate the CA does not verify) with the underlying error. A client that failed
 * to connect stops trying.
 */
export async function connectRedis(redis: Redis, config: RedisConnectionConfig): Promise<void> {
  try {
    await redis.connect();
  } catch (err) {
    if (redis.status !== 'end') redis.disconnect();
    const refused = authFailures.get(redis);
    if (refused) throw new RedisAuthenticationError(`Redis at ${redactRedisUrl(config.url)} refused the credentials: ${refused.message}`);
    const cause = lastErrors.get(redis) ?? (err as Error);
    throw new Error(`cannot connect to Redis at ${redactRedisUrl(config.url)}: ${cause.message}`, { cause });
  }
}

/** Set once Redis refused the credentials: the client will not reconnect, the process cannot recover by itself. */
export function redisAuthenticationFailure(redis: Redis): Error | undefined {
  return authFailures.get(redis);
}

export async function redisReady(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  const ping = redis.ping().then((r) => r === 'PONG', () => false);
  return Promise.race([ping, timeout]);
}
