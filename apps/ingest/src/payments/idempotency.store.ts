// Idempotency-Key handling across every ingest instance (Redis): the first request with a key claims it
// (SET NX with the body's hash), runs, and stores its response; a concurrent duplicate waits for that response;
// a later duplicate gets it byte for byte; the same key with another body gets 409. Keys live >= 24 h.
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from '@payrail/messaging';

export interface StoredResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export type IdempotencyClaim =
  | { kind: 'OWNER'; owner: string }
  | { kind: 'REPLAY'; response: StoredResponse }
  | { kind: 'CONFLICT' }
  | { kind: 'IN_PROGRESS' };

interface Entry {
  hash: string;
  /** Unique per claim: a SET NX that ioredis re-sent after a lost reply finds its own claim, not a stranger's. */
  owner: string;
  response?: StoredResponse;
}

/** What a request with an Idempotency-Key gets: its own fresh response, the stored one, or a refusal. */
export type IdempotentOutcome = { kind: 'FRESH' | 'REPLAY'; response: StoredResponse } | { kind: 'CONFLICT' } | { kind: 'IN_PROGRESS' };

export function bodyHash(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64url');
}

export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  private key(upstreamId: string, idempotencyKey: string): string {
    // hash the caller's key: any 255 characters, never a Redis key injection, fixed length
    return `idem:{${upstreamId}}:${createHash('sha256').update(idempotencyKey).digest('base64url')}`;
  }

  /** Claims the key, or tells what to answer instead; waits up to `waitMs` for a concurrent owner to finish. */
  private async claim(upstreamId: string, idempotencyKey: string, hash: string, waitMs = 5_000): Promise<IdempotencyClaim> {
    const key = this.key(upstreamId, idempotencyKey);
    const entry: Entry = { hash, owner: randomUUID() };
    const claimed = await this.redis.set(key, JSON.stringify(entry), 'EX', this.ttlSeconds, 'NX');
    if (claimed === 'OK') return { kind: 'OWNER', owner: entry.owner };
    const deadline = Date.now() + waitMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const raw = await this.redis.get(key);
      if (raw === null) {
        // the owner failed and released the key: compete again
        const again = await this.redis.set(key, JSON.stringify(entry), 'EX', this.ttlSeconds, 'NX');
        if (again === 'OK') return { kind: 'OWNER', owner: entry.owner };
        continue;
      }
      const existing = JSON.parse(raw) as Entry;
      if (existing.hash !== hash) return { kind: 'CONFLICT' };
      if (existing.response) return { kind: 'REPLAY', response: existing.response };
      if (existing.owner === entry.owner) return { kind: 'OWNER', owner: entry.owner };
      if (Date.now() > deadline) return { kind: 'IN_PROGRESS' };
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /**
   * Runs `compute` at most once per (upstream, key) and stores its response; duplicates get that response, the same
   * key with another body CONFLICT. If `compute` throws, the key is released so a retry can run it again.
   */
  async runOnce(upstreamId: string, idempotencyKey: string, hash: string, compute: () => Promise<StoredResponse>): Promise<IdempotentOutcome> {
    const claim = await this.claim(upstreamId, idempotencyKey, hash);
    if (claim.kind !== 'OWNER') return claim;
    let response: StoredResponse;
    try {
      response = await compute();
    } catch (err) {
      await this.release(upstreamId, idempotencyKey);
      throw err;
    }
    await this.complete(upstreamId, idempotencyKey, { hash, owner: claim.owner, response });
    return { kind: 'FRESH', response };
  }

  /** Stores the owner's final response (idempotent: same value). */
  private async complete(upstreamId: string, idempotencyKey: string, entry: Entry & { response: StoredResponse }): Promise<void> {
    await this.redis.set(this.key(upstreamId, idempotencyKey), JSON.stringify(entry), 'EX', this.ttlSeconds);
  }

  /** The owner hit an unexpected error: let a retry run the request again. */
  private async release(upstreamId: string, idempotencyKey: string): Promise<void> {
    await this.redis.del(this.key(upstreamId, idempotencyKey));
  }
}
