import { Redis } from 'ioredis';
import { IdempotentConsumer, hashTag, interpretReply } from './idempotent-consumer';

// lazyConnect and never used for I/O: these tests cover the checks made before anything is sent
const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false });

describe('idempotent consumer (no I/O)', () => {
  afterAll(() => redis.disconnect());

  it('reads the Redis Cluster hash tag of a key the way Redis does', () => {
    expect(hashTag('settled:{merchant-1}:sum')).toBe('merchant-1');
    expect(hashTag('a{b}c{d}')).toBe('b');
    expect(hashTag('a{}b{c}')).toBeUndefined(); // an empty first tag means the whole key is hashed
    expect(hashTag('no-tag')).toBeUndefined();
    expect(hashTag('open{only')).toBeUndefined();
  });

  it('keeps the processed marker in the same slot as the effect', () => {
    const effect = new IdempotentConsumer(redis, { consumer: 'ledger' }).defineEffect({ numberOfKeys: 1, lua: 'return 1' });
    expect(hashTag(effect.markerKey('merchant-1', 'evt-1'))).toBe('merchant-1');
    expect(effect.markerKey('merchant-1', 'evt-1')).toBe('processed:{merchant-1}:ledger:evt-1');
  });

  it('refuses keys outside the scope\'s slot, braces in the scope and bad event ids before sending anything', async () => {
    const effect = new IdempotentConsumer(redis, { consumer: 'ledger' }).defineEffect({ numberOfKeys: 2, lua: 'return 1' });
    const ok = { eventId: 'evt-1', scope: 'm-1', keys: ['sum:{m-1}', 'count:{m-1}'] };
    await expect(effect.applyOnce({ ...ok, keys: ['sum:{m-1}', 'count:{m-2}'] })).rejects.toThrow('count:{m-2} must carry the hash tag {m-1}');
    await expect(effect.applyOnce({ ...ok, keys: ['sum:{m-1}', 'count'] })).rejects.toThrow(/hash tag/);
    await expect(effect.applyOnce({ ...ok, keys: ['sum:{m-1}'] })).rejects.toThrow('effect takes 2 keys, got 1');
    await expect(effect.applyOnce({ ...ok, scope: 'm{1}' })).rejects.toThrow(/without braces/);
    await expect(effect.applyOnce({ ...ok, eventId: '' })).rejects.toThrow(/event id/);
    await expect(effect.applyOnce({ ...ok, eventId: 'x'.repeat(257) })).rejects.toThrow(/event id/);
  });

  it('refuses a consumer name that could break the key layout and a marker TTL that is not a positive whole number', () => {
    expect(() => new IdempotentConsumer(redis, { consumer: 'a:b' })).toThrow(/consumer/);
    expect(() => new IdempotentConsumer(redis, { consumer: 'ledger', markerTtlSeconds: 0 })).toThrow(/markerTtlSeconds/);
    expect(() => new IdempotentConsumer(redis, { consumer: 'ledger', markerTtlSeconds: 1.5 })).toThrow(/markerTtlSeconds/);
  });

  it('answers every call of a batch when its script call fails (here: no connection), and none hangs', async () => {
    const effect = new IdempotentConsumer(redis, { consumer: 'ledger' }).defineEffect({ numberOfKeys: 1, lua: 'return 1' });
    const calls = ['evt-1', 'evt-2', 'evt-3'].map((eventId) => effect.applyOnce({ eventId, scope: 'm-1', keys: ['sum:{m-1}'] }));
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(new Set(settled.map((s) => ((s as PromiseRejectedResult).reason as Error).message)).size).toBe(1);
    expect(() => new IdempotentConsumer(redis, { consumer: 'ledger', maxBatch: 0 })).toThrow(/maxBatch/);
  });

  it('tells a real duplicate from its own re-sent script (ioredis resends a command whose reply was lost)', () => {
    expect(interpretReply(['APPLIED', 3], 'tok-1')).toEqual({ outcome: 'APPLIED', result: 3, resent: false });
    expect(interpretReply(['APPLIED'], 'tok-1')).toEqual({ outcome: 'APPLIED', result: undefined, resent: false });
    expect(interpretReply(['DUPLICATE', 'tok-1'], 'tok-1')).toEqual({ outcome: 'APPLIED', result: undefined, resent: true });
    expect(interpretReply(['DUPLICATE', 'tok-0'], 'tok-1')).toEqual({ outcome: 'DUPLICATE' });
    expect(() => interpretReply('OK', 'tok-1')).toThrow(/unexpected reply/);
  });
});
