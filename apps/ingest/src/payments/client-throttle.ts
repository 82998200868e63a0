// The throttle in front of signature verification. A verify costs ~100-140 µs of CPU, and anyone can send a token
// with a registered kid and a junk signature, so each client address (the socket's address; X-Forwarded-For only
// from TRUSTED_PROXIES) has two budgets, checked before anything is verified:
// - attempts: every request, a generous rate (one busy upstream behind one address must fit in it);
// - failures: requests that failed authentication (401), a small rate. Failures are counted per address, not per
//   claimed kid: a flood of bad signatures naming an upstream's kid throttles the flooding address only, and the
//   upstream's good traffic from its own addresses goes on.
// In-process token buckets, per instance (no Redis round trip before the verify): with N replicas an address gets
// up to N times the budget. The upstream's own registered rate is enforced later, in Redis, across instances.
import type { RateLimit } from '../config';

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets keyed by client address: `perSecond` refill, `burst` capacity. Framework-free, clock injected. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    /** Above this many addresses, full buckets (addresses idle long enough) are forgotten, then the oldest. */
    private readonly maxAddresses = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** 0 when `address` has a token now, else the milliseconds until it has one. Takes nothing. */
  waitMs(address: string): number {
    const bucket = this.buckets.get(address);
    if (!bucket) return 0;
    const tokens = this.refilled(bucket, this.now());
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / this.limit.perSecond);
  }

  /** Takes a token: 0 when there was one, else the milliseconds until there is one (nothing taken). */
  take(address: string): number {
    const now = this.now();
    let bucket = this.buckets.get(address);
    if (!bucket) {
      this.makeRoom(now);
      bucket = { tokens: this.limit.burst, at: now };
      this.buckets.set(address, bucket);
    }
    const tokens = this.refilled(bucket, now);
    bucket.at = now;
    if (tokens < 1) {
      bucket.tokens = tokens;
      return Math.ceil(((1 - tokens) * 1000) / this.limit.perSecond);
    }
    bucket.tokens = tokens - 1;
    return 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: Bucket, now: number): number {
    return Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) * this.limit.perSecond) / 1000);
  }

  private makeRoom(now: number): void {
    if (this.buckets.size < this.maxAddresses) return;
    for (const [address, bucket] of this.buckets) if (this.refilled(bucket, now) >= this.limit.burst) this.buckets.delete(address);
    // still full: forget the addresses seen longest ago (Map keeps insertion order)
    for (const address of this.buckets.keys()) {
      if (this.buckets.size < this.maxAddresses) break;
      this.buckets.delete(address);
    }
  }
}

export type ThrottledBudget = 'attempts' | 'failures';
export type ThrottledRoute = 'submit' | 'status';

export type ThrottleVerdict = { kind: 'ALLOWED' } | { kind: 'THROTTLED'; budget: ThrottledBudget; retryAfterS: number };

export interface ClientThrottleLimits {
  /** Every request from one address. */
  attempts: RateLimit;
  /** Requests from one address that failed authentication. */
  failures: RateLimit;
}

export interface ThrottleCounter {
  throttled(route: ThrottledRoute, budget: ThrottledBudget): void;
}

export class ClientThrottle {
  private readonly attempts: TokenBuckets;
  private readonly failures: TokenBuckets;

  constructor(
    limits: ClientThrottleLimits,
    private readonly counter: ThrottleCounter,
    now?: () => number,
  ) {
    this.attempts = new TokenBuckets(limits.attempts, undefined, now);
    this.failures = new TokenBuckets(limits.failures, undefined, now);
  }

  /** Before anything is verified: may this address make one more attempt? */
  admit(address: string, route: ThrottledRoute): ThrottleVerdict {
    const failureWaitMs = this.failures.waitMs(address);
    if (failureWaitMs > 0) return this.throttled(route, 'failures', failureWaitMs);
    const attemptWaitMs = this.attempts.take(address);
    if (attemptWaitMs > 0) return this.throttled(route, 'attempts', attemptWaitMs);
    return { kind: 'ALLOWED' };
  }

  /** After a request from this address failed authentication (unknown kid, bad signature, stale, ...). */
  failedAuthentication(address: string): void {
    this.failures.take(address);
  }

  private throttled(route: ThrottledRoute, budget: ThrottledBudget, waitMs: number): ThrottleVerdict {
    this.counter.throttled(route, budget);
    return { kind: 'THROTTLED', budget, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
