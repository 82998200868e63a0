// A Lua script registered on the service's Redis connection (EVALSHA, falling back to EVAL after a restart of
// Redis), called with its keys first, then its arguments. ioredis applies the key prefix to the keys.
import type { Redis } from '@payrail/messaging';

export type RedisScript<R> = (...keysThenArgs: (string | number)[]) => Promise<R>;

export function defineScript<R>(redis: Redis, name: string, numberOfKeys: number, lua: string): RedisScript<R> {
  redis.defineCommand(name, { numberOfKeys, lua });
  const command = (redis as unknown as Record<string, ((...args: (string | number)[]) => Promise<unknown>) | undefined>)[name];
  if (!command) throw new Error(`Redis script ${name} was not registered`);
  return (...args) => command.apply(redis, args) as Promise<R>;
}
