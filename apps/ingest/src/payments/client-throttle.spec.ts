import { Registry } from 'prom-client';
import { DOMAIN_METRIC_NAMES, IngestThrottleMetrics } from '@payrail/messaging';
import { ClientThrottle, ThrottledBudget, ThrottledRoute, TokenBuckets } from './client-throttle';

class Clock {
  ms = 1_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

class CountedThrottles {
  readonly seen: string[] = [];
  throttled(route: ThrottledRoute, budget: ThrottledBudget): void {
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
    const throttle = new ClientThrottle(limits, counted, clock.now);
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

  it('counts each throttled request on payrail_ingest_requests_throttled_total by route and budget', async () => {
    const registry = new Registry();
    const throttle = new ClientThrottle({ attempts: { perSecond: 1, burst: 1 }, failures: { perSecond: 1, burst: 1 } }, new IngestThrottleMetrics(registry), new Clock().now);
    throttle.admit('a', 'submit');
    throttle.admit('a', 'submit');
    throttle.admit('a', 'status');
    throttle.failedAuthentication('b');
    throttle.admit('b', 'status');
    const text = await registry.metrics();
    expect(text).toContain(`${DOMAIN_METRIC_NAMES.ingestThrottled}{route="submit",budget="attempts"} 1`);
    expect(text).toContain(`${DOMAIN_METRIC_NAMES.ingestThrottled}{route="status",budget="attempts"} 1`);
    expect(text).toContain(`${DOMAIN_METRIC_NAMES.ingestThrottled}{route="status",budget="failures"} 1`);
  });
});
