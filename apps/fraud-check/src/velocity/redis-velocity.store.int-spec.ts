// The velocity Lua script against real Redis (REDIS_URL): the same results as the in-memory store on any
// sequence, exact sums beyond 2^53, idempotent under concurrent redelivery from two connections (two instances),
// one hash slot per call.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis, createRedis } from '@payrail/messaging';
import { InMemoryVelocityStore } from './in-memory-velocity.store';
import { RedisVelocityStore, dimensionTag } from './redis-velocity.store';
import { VelocityEvent } from './velocity';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;

function event(id: string, atMs: number, o: Partial<VelocityEvent> = {}): VelocityEvent {
  return { paymentId: id, atMs, currency: 'EUR', amountMinor: 100n, payee: 'm-1', small: false, trackPayees: true, duplicateLookbackMs: 0, ...o };
}

describe('RedisVelocityStore on real Redis', () => {
  const prefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}velocity-${randomUUID()}:`;
  let a: Redis;
  let b: Redis;

  beforeAll(async () => {
    const config = { url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: prefix };
    a = createRedis(config, 'velocity-test-a');
    b = createRedis(config, 'velocity-test-b');
    await Promise.all([a.connect(), b.connect()]);
  });

  afterAll(async () => {
    const keys = await a.keys(`${prefix}*`);
    if (keys.length > 0) await a.del(...keys.map((k) => k.slice(prefix.length)));
    await Promise.all([a.quit(), b.quit()]);
  });

  it('gives exactly what the in-memory store gives, observation by observation, on any sequence', async () => {
    const step = fc.record({
      id: fc.integer({ min: 0, max: 30 }),
      dt: fc.oneof(fc.integer({ min: 0, max: 90_000 }), fc.integer({ min: -100_000, max: 0 }), fc.constantFrom(HOUR, 24 * HOUR + 1)),
      amount: fc.bigInt({ min: 0n, max: 10n ** 15n }),
      currency: fc.constantFrom('EUR', 'JPY'),
      payee: fc.constantFrom('m-1', 'm-2'),
      payer: fc.constantFrom('c1', 'c2', 'c3', 'c4'),
      small: fc.boolean(),
      approve: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        const redis = new RedisVelocityStore(a, `fraud:v:${randomUUID()}`);
        const memory = new InMemoryVelocityStore();
        const payments = new Map<number, VelocityEvent>();
        let now = T0;
        for (const s of steps) {
          const e = payments.get(s.id) ?? event(`p${String(s.id).padStart(2, '0')}`, (now += s.dt), { amountMinor: s.amount, currency: s.currency, payee: s.payee, payerFingerprint: s.payer, small: s.small, duplicateLookbackMs: 120_000 });
          payments.set(s.id, e);
          const [got, want] = await Promise.all([redis.record('ip', '198.51.100.1', e), memory.record('ip', '198.51.100.1', e)]);
          expect(got).toEqual(want);
          if (s.approve) await Promise.all([redis.markPayeeKnown('ip', '198.51.100.1', e.payee, e.paymentId), memory.markPayeeKnown('ip', '198.51.100.1', e.payee, e.paymentId)]);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps sums exact far beyond 2^53 (integer limbs, never Lua doubles)', async () => {
    const store = new RedisVelocityStore(a, `fraud:v:${randomUUID()}`);
    let last;
    for (let i = 0; i < 20; i++) last = await store.record('card', 'big', event(`p${i}`, T0 + i, { amountMinor: 10n ** 15n - BigInt(i) }));
    const expected = Array.from({ length: 20 }, (_, i) => 10n ** 15n - BigInt(i)).reduce((x, y) => x + y, 0n);
    expect(expected > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(last?.windows['1m'].sumMinor).toBe(expected);
  });

  it('counts each payment once when two instances record the same payments concurrently (redelivery)', async () => {
    const store1 = new RedisVelocityStore(a, 'fraud:v:shared');
    const store2 = new RedisVelocityStore(b, 'fraud:v:shared');
    const card = `card-${randomUUID()}`;
    const events = Array.from({ length: 300 }, (_, i) => event(`p${i}`, T0 + i * 10, { amountMinor: BigInt(1000 + i) }));
    // every payment recorded by both instances, interleaved, 4 times over
    await Promise.all(events.flatMap((e) => [store1.record('card', card, e), store2.record('card', card, e), store1.record('card', card, e), store2.record('card', card, e)]));
    const check = await store1.record('card', card, event('p-last', T0 + 300 * 10, { amountMinor: 0n }));
    expect(check.windows['24h'].count).toBe(301);
    expect(check.windows['24h'].sumMinor).toBe(events.reduce((s, e) => s + e.amountMinor, 0n));
  });

  it('puts every key of a dimension value in one hash slot, and hashes values that could break a hash tag', () => {
    const store = new RedisVelocityStore(a);
    const keys = store.keys('device', 'dev{1}');
    const tags = keys.map((k) => /\{([^}]*)\}/.exec(k)?.[1]);
    expect(new Set(tags).size).toBe(1);
    expect(dimensionTag('device', 'dev{1}')).toMatch(/^\{device:h\.[A-Za-z0-9_-]{43}\}$/);
    expect(dimensionTag('ip', '2001:db8::1')).toBe('{ip:2001:db8::1}');
  });

  it('refuses bad input before writing anything', async () => {
    const store = new RedisVelocityStore(a, `fraud:v:${randomUUID()}`);
    await expect(store.record('card', 'c', event('p1', T0, { currency: 'eur' }))).rejects.toThrow(/bad currency/);
    const after = await store.record('card', 'c', event('p2', T0));
    expect(after.windows['24h'].count).toBe(1);
  });
});
