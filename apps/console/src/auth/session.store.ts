// Sessions in Redis under the SHA-256 of their id, expiring after the idle time-out (refreshed on use, never past
// the session's absolute end). Creating, refreshing and ending a session are idempotent (same key, same values),
// as ioredis may re-send them.
import type { Redis } from '@payrail/messaging';
import { ConsoleRole, ROLES } from './operator-directory';

export interface StoredSession {
  readonly username: string;
  /** The role at sign-in (each request uses the role the users file gives now). */
  readonly role: ConsoleRole;
  /** Fingerprint of the password hash at sign-in: a changed password ends the session. */
  readonly credential: string;
  /** Sign-in time (epoch ms): the absolute lifetime counts from here. */
  readonly createdAtMs: number;
}

const sessionKey = (storageKey: string) => `console:session:${storageKey}`;

export class RedisSessionStore {
  constructor(private readonly redis: Redis) {}

  async create(storageKey: string, session: StoredSession, ttlS: number): Promise<void> {
    await this.redis
      .multi()
      .hset(sessionKey(storageKey), 'username', session.username, 'role', session.role, 'credential', session.credential, 'created_at_ms', String(session.createdAtMs))
      .expire(sessionKey(storageKey), ttlS)
      .exec();
  }

  /** The session, or undefined when unknown or expired. */
  async read(storageKey: string): Promise<StoredSession | undefined> {
    const found = await this.redis.hgetall(sessionKey(storageKey));
    const role = ROLES.find((r) => r === found['role']);
    const createdAtMs = Number(found['created_at_ms']);
    if (!found['username'] || !role || !found['credential'] || !Number.isSafeInteger(createdAtMs)) return undefined;
    return { username: found['username'], role, credential: found['credential'], createdAtMs };
  }

  /** Restarts the session's idle time-out (as `ttlMs`, which the caller caps at the absolute end). */
  async refresh(storageKey: string, ttlMs: number): Promise<void> {
    await this.redis.pexpire(sessionKey(storageKey), Math.max(1, Math.floor(ttlMs)));
  }

  async destroy(storageKey: string): Promise<void> {
    await this.redis.del(sessionKey(storageKey));
  }
}
