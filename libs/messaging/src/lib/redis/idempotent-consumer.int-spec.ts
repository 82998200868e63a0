// Against the real Redis (REDIS_URL): the processed marker and the effect are written in one atomic step, so a
// redelivered event, a burst of concurrent redeliveries and a script ioredis re-sends all apply the effect once.
import { randomUUID } from 'node:crypto';
import { createRedis, Redis } from './redis-client';
import { IdempotentConsumer } from './idempotent-consumer';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}idempotent-${randomUUID().slice(0, 8)}:`;

// per merchant: settled sum (minor units, as a string so no Lua number touches it) and count
const SETTLE = `
if not string.match(ARGV[1], '^[0-9]+$') then return redis.error_reply('ERR amount must be whole minor units') end
redis.call('INCRBY', KEYS[1], ARGV[1])
return redis.call('INCR', KEYS[2])
`;

describe('IdempotentConsumer against a real Redis', () => {
  const clients: Redis[] = [];
  const client = async (): Promise<Redis> => {
    const redis = createRedis({ url, keyPrefix: prefix }, 'payrail-int-idempotent');
    await redis.connect();
    clients.push(redis);
    return redis;
  };
  let redis: Redis;

  beforeAll(async () => {
    redis = await client();
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.unlink(...keys.map((k) => k.slice(prefix.length)));
    await Promise.all(clients.map((c) => c.quit()));
  });

  const keysOf = (merchant: string) => [`settled:{${merchant}}:sum`, `settled:{${merchant}}:count`];

  it('applies an event once; its redelivery is a no-op; the marker carries the configured TTL', async () => {
    const effect = new IdempotentConsumer(redis, { consumer: 'ledger', markerTtlSeconds: 3600 }).defineEffect<number>({ numberOfKeys: 2, lua: SETTLE });
    const merchant = `m-${randomUUID()}`;
    const first = await effect.applyOnce({ eventId: 'evt-1', scope: merchant, keys: keysOf(merchant), args: ['1050'] });
    const again = await effect.applyOnce({ eventId: 'evt-1', scope: merchant, keys: keysOf(merchant), args: ['1050'] });
    expect(first).toEqual({ outcome: 'APPLIED', result: 1, resent: false });
    expect(again).toEqual({ outcome: 'DUPLICATE' });
    expect(await redis.mget(...keysOf(merchant))).toEqual(['1050', '1']);
    const ttl = await redis.ttl(effect.markerKey(merchant, 'evt-1'));
    expect(ttl).toBeGreaterThan(3590);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('applies once under 200 concurrent redeliveries from two connections', async () => {
    const [a, b] = [await client(), await client()];
    const effects = [a, b].map((c) => new IdempotentConsumer(c, { consumer: 'ledger' }).defineEffect<number>({ numberOfKeys: 2, lua: SETTLE }));
    const merchant = `m-${randomUUID()}`;
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => effects[i % 2]?.applyOnce({ eventId: 'evt-burst', scope: merchant, keys: keysOf(merchant), args: ['7'] })),
    );
    expect(outcomes.filter((o) => o?.outcome === 'APPLIED')).toHaveLength(1);
    expect(outcomes.filter((o) => o?.outcome === 'DUPLICATE')).toHaveLength(199);
    expect(await redis.mget(...keysOf(merchant))).toEqual(['7', '1']);
  });

  it('records no marker when the effect refuses, so a corrected retry still applies', async () => {
    const effect = new IdempotentConsumer(redis, { consumer: 'ledger' }).defineEffect<number>({ numberOfKeys: 2, lua: SETTLE });
    const merchant = `m-${randomUUID()}`;
    await expect(effect.applyOnce({ eventId: 'evt-2', scope: merchant, keys: keysOf(merchant), args: ['10.50'] })).rejects.toThrow('amount must be whole minor units');
    expect(await redis.exists(effect.markerKey(merchant, 'evt-2'), ...keysOf(merchant))).toBe(0);
    expect(await effect.applyOnce({ eventId: 'evt-2', scope: merchant, keys: keysOf(merchant), args: ['1050'] })).toMatchObject({ outcome: 'APPLIED' });
    expect(await redis.mget(...keysOf(merchant))).toEqual(['1050', '1']);
  });

  it('reports a script re-sent by the same call (lost reply) as applied by that call, and applies it once', async () => {
    const effect = new IdempotentConsumer(redis, { consumer: 'ledger' }).defineEffect<number>({ numberOfKeys: 2, lua: SETTLE });
    const merchant = `m-${randomUUID()}`;
    const token = randomUUID();
    const invocation = { eventId: 'evt-3', scope: merchant, keys: keysOf(merchant), args: ['5'] };
    expect(await effect.applyOnce(invocation, token)).toMatchObject({ outcome: 'APPLIED', resent: false });
    expect(await effect.applyOnce(invocation, token)).toEqual({ outcome: 'APPLIED', result: undefined, resent: true });
    expect(await effect.applyOnce(invocation)).toEqual({ outcome: 'DUPLICATE' });
    expect(await redis.mget(...keysOf(merchant))).toEqual(['5', '1']);
  });

  it('keeps separate markers per consumer: two consumers of one event each apply their own effect once', async () => {
    const merchant = `m-${randomUUID()}`;
    const ledger = new IdempotentConsumer(redis, { consumer: 'ledger' }).defineEffect({ numberOfKeys: 2, lua: SETTLE });
    const stats = new IdempotentConsumer(redis, { consumer: 'stats' }).defineEffect({ numberOfKeys: 1, lua: "return redis.call('INCR', KEYS[1])" });
    const statsKey = `stats:{${merchant}}:events`;
    for (let i = 0; i < 3; i++) {
      await ledger.applyOnce({ eventId: 'evt-4', scope: merchant, keys: keysOf(merchant), args: ['100'] });
      await stats.applyOnce({ eventId: 'evt-4', scope: merchant, keys: [statsKey] });
    }
    expect(await redis.mget(...keysOf(merchant), statsKey)).toEqual(['100', '1', '1']);
  });

  it('writes every key under the service key prefix and inside the scope\'s hash tag', async () => {
    const effect = new IdempotentConsumer(redis, { consumer: 'ledger' }).defineEffect({ numberOfKeys: 2, lua: SETTLE });
    const merchant = `m-${randomUUID()}`;
    await effect.applyOnce({ eventId: 'evt-5', scope: merchant, keys: keysOf(merchant), args: ['1'] });
    // a client without the prefix sees the raw key names
    const raw = createRedis({ url, keyPrefix: '' }, 'payrail-int-idempotent-raw');
    await raw.connect();
    clients.push(raw);
    const written = (await raw.keys(`*{${merchant}}*`)).sort();
    expect(written).toEqual([`${prefix}processed:{${merchant}}:ledger:evt-5`, `${prefix}settled:{${merchant}}:count`, `${prefix}settled:{${merchant}}:sum`]);
  });

  describe('calls made in one turn of the event loop go as one script call', () => {
    // the MONITOR connection is closed even when an assertion fails first
    let afterTest: (() => void) | undefined;
    afterEach(() => {
      afterTest?.();
      afterTest = undefined;
    });
    /** EVALSHA/EVAL commands the server receives that touch the given merchant's keys (via MONITOR). */
    const watchScripts = async (merchant: string): Promise<{ count: () => number; stop: () => void }> => {
      const monitor = await redis.monitor();
      let n = 0;
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (/^eval/i.test(args[0] ?? '') && args.some((a) => a.includes(`{${merchant}}`))) n++;
      });
      return { count: () => n, stop: () => monitor.status !== 'end' && monitor.disconnect() };
    };
    const settle = (merchant: string, maxBatch?: number) =>
      new IdempotentConsumer(redis, { consumer: 'ledger', ...(maxBatch ? { maxBatch } : {}) }).defineEffect<number>({ numberOfKeys: 2, lua: SETTLE });

    it('applies 600 events in 3 script calls (256 per call), each with its own outcome and marker', async () => {
      const merchant = `m-${randomUUID()}`;
      const scripts = await watchScripts(merchant);
      afterTest = scripts.stop;
      const effect = settle(merchant);
      const outcomes = await Promise.all(
        Array.from({ length: 600 }, (_, i) => effect.applyOnce({ eventId: `evt-${i}`, scope: merchant, keys: keysOf(merchant), args: [String(i + 1)] })),
      );
      expect(outcomes.map((o) => o.outcome)).toEqual(Array(600).fill('APPLIED'));
      // INCR's result: each call saw the count its predecessors left, in the order of the calls
      expect(outcomes.map((o) => (o.outcome === 'APPLIED' ? o.result : undefined))).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
      expect(await redis.mget(...keysOf(merchant))).toEqual([String((600 * 601) / 2), '600']);
      expect(await redis.exists(...Array.from({ length: 600 }, (_, i) => effect.markerKey(merchant, `evt-${i}`)))).toBe(600);
      await new Promise((resolve) => setTimeout(resolve, 100)); // MONITOR lines arrive on their own connection
      scripts.stop();
      expect(scripts.count()).toBe(3);
    });

    it('answers each call in a batch on its own: a refusal, a duplicate in the same batch and a re-sent call', async () => {
      const merchant = `m-${randomUUID()}`;
      const effect = settle(merchant);
      const keys = keysOf(merchant);
      await effect.applyOnce({ eventId: 'evt-before', scope: merchant, keys, args: ['1'] }, 'tok-before');
      const calls = [
        effect.applyOnce({ eventId: 'evt-a', scope: merchant, keys, args: ['10'] }),
        effect.applyOnce({ eventId: 'evt-bad', scope: merchant, keys, args: ['10.50'] }),
        effect.applyOnce({ eventId: 'evt-a', scope: merchant, keys, args: ['10'] }),
        effect.applyOnce({ eventId: 'evt-before', scope: merchant, keys, args: ['1'] }, 'tok-before'),
        effect.applyOnce({ eventId: 'evt-before', scope: merchant, keys, args: ['1'] }),
        effect.applyOnce({ eventId: 'evt-b', scope: merchant, keys, args: ['100'] }),
      ];
      const settled = await Promise.allSettled(calls);
      expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
        { outcome: 'APPLIED', result: 2, resent: false },
        'ERR amount must be whole minor units',
        { outcome: 'DUPLICATE' },
        { outcome: 'APPLIED', result: undefined, resent: true },
        { outcome: 'DUPLICATE' },
        { outcome: 'APPLIED', result: 3, resent: false },
      ]);
      expect(await redis.exists(effect.markerKey(merchant, 'evt-bad'))).toBe(0);
      expect(await redis.mget(...keys)).toEqual(['111', '3']);
    });

    it('answers a Redis error raised inside one effect for that call alone', async () => {
      const merchant = `m-${randomUUID()}`;
      const effect = new IdempotentConsumer(redis, { consumer: 'ledger' }).defineEffect({ numberOfKeys: 1, lua: "return redis.call('INCR', KEYS[1])" });
      const listKey = `list:{${merchant}}`;
      await redis.rpush(listKey, 'not-a-number');
      const settled = await Promise.allSettled([
        effect.applyOnce({ eventId: 'evt-1', scope: merchant, keys: [`n:{${merchant}}`] }),
        effect.applyOnce({ eventId: 'evt-2', scope: merchant, keys: [listKey] }),
        effect.applyOnce({ eventId: 'evt-3', scope: merchant, keys: [`n:{${merchant}}`] }),
      ]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(((settled[1] as PromiseRejectedResult).reason as Error).message).toMatch(/WRONGTYPE/);
      expect(await redis.exists(effect.markerKey(merchant, 'evt-2'))).toBe(0);
      expect(await redis.get(`n:{${merchant}}`)).toBe('2');
    });

    it('sends each call alone with maxBatch 1', async () => {
      const merchant = `m-${randomUUID()}`;
      const scripts = await watchScripts(merchant);
      afterTest = scripts.stop;
      const effect = settle(merchant, 1);
      await Promise.all(Array.from({ length: 5 }, (_, i) => effect.applyOnce({ eventId: `evt-${i}`, scope: merchant, keys: keysOf(merchant), args: ['1'] })));
      await new Promise((resolve) => setTimeout(resolve, 100));
      scripts.stop();
      expect(scripts.count()).toBe(5);
      expect(await redis.mget(...keysOf(merchant))).toEqual(['5', '5']);
    });
  });
});
