/**
 * Port for the replay guard: a seen-set shared by every instance (Redis SET NX EX in production, written
 * elsewhere against this interface). claimOnce resolves true the first time an id is claimed within ttlSeconds,
 * false afterwards; it rejects when the store cannot answer (verification then fails closed).
 */
export interface ReplayStore {
  claimOnce(jti: string, ttlSeconds: number): Promise<boolean>;
}

export interface InMemoryReplayStoreOptions {
  /** Clock in ms, for tests. */
  now?: () => number;
  /** Refuse (reject) new claims beyond this many live entries rather than grow without bound. Default 100 000. */
  maxEntries?: number;
}

/** Single-process ReplayStore for tests and local runs. */
export class InMemoryReplayStore implements ReplayStore {
  readonly #seen = new Map<string, number>();
  readonly #now: () => number;
  readonly #max: number;
  #nextSweep = 0;

  constructor(opts: InMemoryReplayStoreOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#max = opts.maxEntries ?? 100_000;
  }

  async claimOnce(jti: string, ttlSeconds: number): Promise<boolean> {
    if (typeof jti !== 'string' || jti.length === 0) throw new TypeError('claimOnce: jti must be a non-empty string');
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new TypeError('claimOnce: ttlSeconds must be positive');
    const now = this.#now();
    const until = this.#seen.get(jti);
    if (until !== undefined && until > now) return false;
    if (now >= this.#nextSweep || this.#seen.size >= this.#max) this.#sweep(now);
    if (this.#seen.size >= this.#max) throw new Error('InMemoryReplayStore is full');
    this.#seen.set(jti, now + ttlSeconds * 1000);
    return true;
  }

  /** Live entries. */
  size(): number {
    this.#sweep(this.#now());
    return this.#seen.size;
  }

  #sweep(now: number): void {
    for (const [k, until] of this.#seen) if (until <= now) this.#seen.delete(k);
    this.#nextSweep = now + 1000;
  }
}
