import { ClientThrottle, ThrottledBudget, TokenBuckets, throttledProblem } from './client-throttle';
import { ProblemException } from './problem.filter';

type ThrottledRoute = 'submit' | 'status';

class Clock {
  ms = 1_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

class CountedThrottles {
  readonly seen: string[] = [];
  throttled(route: string, budget: ThrottledBudget): void {
    this.seen.push(`${route}/${budget}`);
  }
}

describe('TokenBuckets', () => {
  it('lets a burst through, then refuses with the wait until the next token, and refills at the rate', () => {
    const clock = new Clock();
    const buckets = new TokenBuckets({ perSecond: 10, burst: 3 }, 100, clock.now);
    expect([buckets.take('198.51.100.7'), buckets.take('198.51.100.7'), buckets.take('198.51.100.7')]).toEqual([0, 0, 0]);
    expect(buckets.take('198.51.100.7')).toBe(100);
    clock.advance(40);
    expect(buckets.take('198.51.100.7')).toBe(60);
    clock.advance(60);
    expect(buckets.take('198.51.100.7')).toBe(0);
    expect(buckets.take('198.51.100.7')).toBe(100);
  });

  it('never stores more than the burst, however long an address stays away', () => {
    const clock = new Clock();
    const buckets = new TokenBuckets({ perSecond: 100, burst: 2 }, 100, clock.now);
    buckets.take('a');
    clock.advance(3_600_000);
    expect([buckets.take('a'), buckets.take('a')]).toEqual([0, 0]);
    expect(buckets.take('a')).toBeGreaterThan(0);
  });

  it('keeps each address apart', () => {
    const clock = new Clock();
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 }, 100, clock.now);
    expect(buckets.take('203.0.113.1')).toBe(0);
    expect(buckets.take('203.0.113.1')).toBe(1_000);
    expect(buckets.take('203.0.113.2')).toBe(0);
  });

  it('waitMs looks without taking', () => {
    const clock = new Clock();
    const buckets = new TokenBuckets({ perSecond: 2, burst: 1 }, 100, clock.now);
    expect(buckets.waitMs('a')).toBe(0);
    expect(buckets.waitMs('a')).toBe(0);
    buckets.take('a');
    expect(buckets.waitMs('a')).toBe(500);
    expect(buckets.waitMs('a')).toBe(500);
  });

  it('stays bounded under many addresses: idle (full) buckets go first, then the oldest', () => {
    const clock = new Clock();
    const buckets = new TokenBuckets({ perSecond: 1, burst: 5 }, 3, clock.now);
    for (const address of ['a', 'b', 'c']) buckets.take(address);
    clock.advance(10_000); // a, b, c are full again: forgetting them loses nothing
    buckets.take('d');
    expect(buckets.size).toBe(1);
    for (const address of ['e', 'f']) buckets.take(address);
    buckets.take('g'); // d, e, f are all still drained: the oldest (d) is forgotten
    expect(buckets.size).toBe(3);
    for (let i = 0; i < 4; i++) buckets.take('e');
    expect(buckets.take('e')).toBeGreaterThan(0);
  });
});

describe('ClientThrottle', () => {
  const limits = { attempts: { perSecond: 1_000, burst: 1_000 }, failures: { perSecond: 50, burst: 100 } };

  it('throttles an address after its failure burst, until failures drain, and says when to retry', () => {
    const clock = new Clock();
    const counted = new CountedThrottles();
    const throttle = new ClientThrottle<ThrottledRoute>(limits, counted, clock.now);
    for (let i = 0; i < 100; i++) {
      expect(throttle.admit('192.0.2.66', 'submit')).toEqual({ kind: 'ALLOWED' });
      throttle.failedAuthentication('192.0.2.66');
    }
    expect(throttle.admit('192.0.2.66', 'submit')).toEqual({ kind: 'THROTTLED', budget: 'failures', retryAfterS: 1 });
    expect(throttle.admit('192.0.2.66', 'status')).toEqual({ kind: 'THROTTLED', budget: 'failures', retryAfterS: 1 });
    expect(counted.seen).toEqual(['submit/failures', 'status/failures']);
    clock.advance(20); // one failure token back
    expect(throttle.admit('192.0.2.66', 'submit')).toEqual({ kind: 'ALLOWED' });
  });

  it("does not throttle another address (the upstream's own) for the flooding address's failures", () => {
    const throttle = new ClientThrottle(limits, new CountedThrottles(), new Clock().now);
    for (let i = 0; i < 500; i++) throttle.failedAuthentication('192.0.2.66');
    expect(throttle.admit('192.0.2.66', 'submit').kind).toBe('THROTTLED');
    expect(throttle.admit('198.51.100.10', 'submit')).toEqual({ kind: 'ALLOWED' });
  });

  it('successful requests never spend the failure budget, only the generous attempts budget', () => {
    const clock = new Clock();
    const throttle = new ClientThrottle(limits, new CountedThrottles(), clock.now);
    for (let i = 0; i < 1_000; i++) expect(throttle.admit('198.51.100.10', 'submit')).toEqual({ kind: 'ALLOWED' });
    expect(throttle.admit('198.51.100.10', 'submit')).toEqual({ kind: 'THROTTLED', budget: 'attempts', retryAfterS: 1 });
    clock.advance(1);
    expect(throttle.admit('198.51.100.10', 'submit')).toEqual({ kind: 'ALLOWED' });
  });

  it('counts each throttled request by route and budget', () => {
    const counted = new CountedThrottles();
    const throttle = new ClientThrottle<ThrottledRoute>({ attempts: { perSecond: 1, burst: 1 }, failures: { perSecond: 1, burst: 1 } }, counted, new Clock().now);
    throttle.admit('a', 'submit');
    throttle.admit('a', 'submit');
    throttle.admit('a', 'status');
    throttle.failedAuthentication('b');
    throttle.admit('b', 'status');
    expect(counted.seen).toEqual(['submit/attempts', 'status/attempts', 'status/failures']);
  });

  it('without an attempts budget limits failures only', () => {
    const throttle = new ClientThrottle({ failures: { perSecond: 1, burst: 2 } }, new CountedThrottles(), new Clock().now);
    for (let i = 0; i < 10_000; i++) expect(throttle.admit('198.51.100.10', 'any').kind).toBe('ALLOWED');
    throttle.failedAuthentication('198.51.100.10');
    throttle.failedAuthentication('198.51.100.10');
    expect(throttle.admit('198.51.100.10', 'any')).toEqual({ kind: 'THROTTLED', budget: 'failures', retryAfterS: 1 });
  });

  it('takes rates below one a second: one failure back an hour means exactly the burst, then an hour to wait', () => {
    const clock = new Clock();
    const throttle = new ClientThrottle({ failures: { perSecond: 1 / 3600, burst: 3 } }, new CountedThrottles(), clock.now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.admit('192.0.2.66', 'any').kind).toBe('ALLOWED');
      throttle.failedAuthentication('192.0.2.66');
    }
    expect(throttle.admit('192.0.2.66', 'any')).toEqual({ kind: 'THROTTLED', budget: 'failures', retryAfterS: 3600 });
    clock.advance(3_599_000);
    expect(throttle.admit('192.0.2.66', 'any')).toEqual({ kind: 'THROTTLED', budget: 'failures', retryAfterS: 1 });
    clock.advance(1_000);
    expect(throttle.admit('192.0.2.66', 'any')).toEqual({ kind: 'ALLOWED' });
  });

  it('admitOrThrow answers 429 rate-limited problem details with Retry-After and the budget in the detail', () => {
    const throttle = new ClientThrottle({ failures: { perSecond: 0.5, burst: 1 } }, new CountedThrottles(), new Clock().now);
    expect(() => throttle.admitOrThrow('192.0.2.66', 'any')).not.toThrow();
    throttle.failedAuthentication('192.0.2.66');
    let thrown: unknown;
    try {
      throttle.admitOrThrow('192.0.2.66', 'any');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ProblemException);
    expect(thrown).toMatchObject({ status: 429, problemType: 'rate-limited', title: 'Rate limit exceeded', headers: { 'retry-after': '2' }, detail: 'too many requests from this address failed authentication; retry in 2 s' });
    expect(throttledProblem({ kind: 'THROTTLED', budget: 'attempts', retryAfterS: 7 }).detail).toBe('too many requests from this address; retry in 7 s');
  });
});
