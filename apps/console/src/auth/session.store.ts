// Sessions in Redis under the SHA-256 of their id, expiring after the idle time-out (refreshed on use). Creating,
// refreshing and ending a session are idempotent (same key, same values), as ioredis may re-send them.
import type { Redis } from '@payrail/messaging';
import { ConsoleRole, ROLES } from './operator-directory';

export interface StoredSession {
  readonly username: string;
  readonly role: ConsoleRole;
  readonly createdAt: string;
}

const sessionKey = (storageKey: string) => `console:session:${storageKey}`;

export class RedisSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number,
  ) {}

  async create(storageKey: string, session: StoredSession): Promise<void> {
    await this.redis
      .multi()
      .hset(sessionKey(storageKey), 'username', session.username, 'role', session.role, 'created_at', session.createdAt)
      .expire(sessionKey(storageKey), this.ttlS)
      .exec();
  }

  /** The session, its idle time-out restarted; undefined when unknown or expired. */
  async touch(storageKey: string): Promise<StoredSession | undefined> {
    const [found] = await Promise.all([this.redis.hgetall(sessionKey(storageKey)), this.redis.expire(sessionKey(storageKey), this.ttlS)]);
    const role = ROLES.find((r) => r === found['role']);
    if (!found['username'] || !role) return undefined;
    return { username: found['username'], role, createdAt: found['created_at'] ?? '' };
  }

  /** Whether the session still exists (without restarting its idle time-out). */
  async exists(storageKey: string): Promise<boolean> {
    return (await this.redis.exists(sessionKey(storageKey))) === 1;
  }

  async destroy(storageKey: string): Promise<void> {
    await this.redis.del(sessionKey(storageKey));
  }
}
