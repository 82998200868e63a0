// Throttles keyed by client address, checked before any credential is: a signature verify (ingest) or a token
// comparison (fraud-check's admin API, settlement's operators API) costs work that anyone could otherwise make a
// service do at will. The key is the client address as Fastify resolves it (request.ip): the socket's address, or
// the one a TRUSTED_PROXIES proxy reports in X-Forwarded-For (bootstrapService's trustProxy); a client cannot pick
// it with a header of its own. Two budgets per address:
// - attempts (optional): every request, a generous rate (one busy upstream behind one address must fit in it);
// - failures: requests that failed authentication, a small rate. Failures are counted per address, not per claimed
//   identity: a flood of bad credentials naming someone throttles the flooding address only, and the real client's
//   traffic from its own addresses goes on.
// In-process token buckets, per instance (no Redis round trip before the check): with N replicas an address gets
// up to N times the budget, and a restart forgets them. Framework-free apart from the 429 it builds; clock injected.
import { ProblemException } from './problem.filter';

/** A token bucket's rate: `perSecond` refill (a fraction is fine: 0.5 is one every 2 s), `burst` capacity. */
export interface BucketRate {
  perSecond: number;
  burst: number;
}

/** Below this a fraction of a token is floating-point noise (1/3600 of a token a second, summed, is not exact). */
const EPSILON = 1e-9;

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets keyed by client address. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: BucketRate,
    /** Above this many addresses, full buckets (addresses idle long enough) are forgotten, then the oldest. */
    private readonly maxAddresses = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** 0 when `address` has a token now, else the milliseconds until it has one. Takes nothing. */
  waitMs(address: string): number {
    const bucket = this.buckets.get(address);
    if (!bucket) return 0;
    const tokens = this.refilled(bucket, this.now());
    return tokens >= 1 - EPSILON ? 0 : this.msUntilOne(tokens);
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
    if (tokens < 1 - EPSILON) {
      bucket.tokens = tokens;
      return this.msUntilOne(tokens);
    }
    bucket.tokens = Math.max(0, tokens - 1);
    return 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  private msUntilOne(tokens: number): number {
    return Math.max(1, Math.ceil(((1 - tokens) * 1000) / this.limit.perSecond - EPSILON * 1000));
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

export type ThrottleVerdict = { kind: 'ALLOWED' } | { kind: 'THROTTLED'; budget: ThrottledBudget; retryAfterS: number };

export interface ClientThrottleLimits {
  /** Every request from one address (none: only failures are limited). */
  attempts?: BucketRate;
  /** Requests from one address that failed authentication. */
  failures: BucketRate;
}

/** Where throttled requests are counted (a metric), by the route the service names and the budget that ran out. */
export interface ThrottleCounter<Route extends string = string> {
  throttled(route: Route, budget: ThrottledBudget): void;
}

export class ClientThrottle<Route extends string = string> {
  private readonly attempts: TokenBuckets | undefined;
  private readonly failures: TokenBuckets;

  constructor(
    limits: ClientThrottleLimits,
    private readonly counter: ThrottleCounter<Route>,
    now?: () => number,
  ) {
    this.attempts = limits.attempts && new TokenBuckets(limits.attempts, undefined, now);
    this.failures = new TokenBuckets(limits.failures, undefined, now);
  }

  /** Before any credential is checked: may this address make one more attempt? */
  admit(address: string, route: Route): ThrottleVerdict {
    const failureWaitMs = this.failures.waitMs(address);
    if (failureWaitMs > 0) return this.throttled(route, 'failures', failureWaitMs);
    const attemptWaitMs = this.attempts?.take(address) ?? 0;
    if (attemptWaitMs > 0) return this.throttled(route, 'attempts', attemptWaitMs);
    return { kind: 'ALLOWED' };
  }

  /** After a request from this address failed authentication (unknown key or token, bad signature, stale, ...). */
  failedAuthentication(address: string): void {
    this.failures.take(address);
  }

  /** admit(), throwing the 429 problem when the address is over a budget. */
  admitOrThrow(address: string, route: Route): void {
    const verdict = this.admit(address, route);
    if (verdict.kind === 'THROTTLED') throw throttledProblem(verdict);
  }

  private throttled(route: Route, budget: ThrottledBudget, waitMs: number): ThrottleVerdict {
    this.counter.throttled(route, budget);
    return { kind: 'THROTTLED', budget, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}

/** The problem every throttle answers with: https://payrail.dev/problems/rate-limited. */
export const RATE_LIMITED_PROBLEM = { status: 429, type: 'rate-limited', title: 'Rate limit exceeded' } as const;

/** 429 rate-limited problem+json with Retry-After (whole seconds), saying which budget ran out. */
export function throttledProblem(verdict: Extract<ThrottleVerdict, { kind: 'THROTTLED' }>): ProblemException {
  const detail =
    verdict.budget === 'failures'
      ? `too many requests from this address failed authentication; retry in ${verdict.retryAfterS} s`
      : `too many requests from this address; retry in ${verdict.retryAfterS} s`;
  return new ProblemException(RATE_LIMITED_PROBLEM.status, RATE_LIMITED_PROBLEM.type, RATE_LIMITED_PROBLEM.title, detail, {}, { 'retry-after': String(verdict.retryAfterS) });
}
