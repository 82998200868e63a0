// Against the real Redis (REDIS_URL) and Kafka (KAFKA_BROKERS): the audit trail keeps one entry per request even
// when the same append is sent again (as ioredis does after a lost reply), newest first, publishes each entry to the
// audit topic and comes back from it after Redis lost it; sessions live under the hash of their id and end on
// sign-out or after the idle time-out.
import { randomUUID } from 'node:crypto';
import { EventProducer, OperatorAuditJournal, createKafka, kafkaConnectionFromProcessEnv, createRedis, ensureTopics } from '@payrail/messaging';
import { RedisSessionStore } from '../auth/session.store';
import { AuditEntry, AuditTrail } from './audit-trail';

const prefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}console:${randomUUID().slice(0, 8)}:`;
const redis = createRedis({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: prefix }, 'console-int-test');

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { request_id: randomUUID(), at: new Date().toISOString(), operator: 'ops.alice', role: 'operator', action: 'review.approve', target: randomUUID(), outcome: 'decided', ...overrides };
}

beforeAll(async () => {
  await redis.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
  await redis.quit();
});

describe('AuditTrail', () => {
  it('appends each request once however often it is sent, and reads back newest first', async () => {
    const trail = new AuditTrail(redis, 1_000);
    const first = entry({ action: 'session.sign-in', target: 'session', outcome: 'ok', address: '127.0.0.1' });
    const second = entry({ detail: 'looks fine' });
    await expect(trail.record(first)).resolves.toBe(true);
    const resent = await Promise.all([trail.record(second), trail.record(second), trail.record(second)]);
    expect(resent.filter(Boolean)).toEqual([true]);
    const recent = await trail.recent(10);
    expect(recent.map(({ id: _id, ...e }) => e)).toEqual([
      { ...second, address: undefined },
      { ...first, detail: undefined },
    ]);
    // everything lives under the configured prefix
    expect((await redis.keys(`${prefix}console:audit*`)).length).toBeGreaterThanOrEqual(3);
  });

  it('trims the stream near its cap', async () => {
    const trail = new AuditTrail(redis, 1_000);
    for (let i = 0; i < 1_300; i += 100) await Promise.all(Array.from({ length: 100 }, () => trail.record(entry())));
    expect(await redis.xlen('console:audit')).toBeLessThan(1_300);
    expect(await redis.xlen('console:audit')).toBeGreaterThanOrEqual(1_000);
  });
});

describe('AuditTrail after a Redis loss', () => {
  it('publishes every entry to the audit topic and restores the trail from it once Redis lost it, once per Redis life', async () => {
    const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'console-audit-int-spec'), { warn: () => undefined, error: () => undefined });
    await ensureTopics(kafka);
    const producer = new EventProducer(kafka, { source: 'payrail/test' });
    await producer.connect();
    const lossPrefix = `${prefix}loss:`;
    const own = createRedis({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: lossPrefix }, 'console-int-test-loss');
    await own.connect();
    try {
      const trail = new AuditTrail(own, 100, new OperatorAuditJournal(producer, kafka, 'console'));
      expect(await trail.restore()).toBeGreaterThanOrEqual(0); // a new Redis: nothing or the run's earlier entries, and the marker
      const t0 = Date.now();
      const written = [0, 1, 2].map((i) => entry({ at: new Date(t0 + i).toISOString(), target: `payment-${i}` }));
      for (const e of written) await trail.record(e);
      await trail.record(written[1] ?? entry()); // a retried request: published twice, one entry
      const before = (await trail.recent(3)).map(({ id: _id, ...e }) => e);
      expect(before.map((e) => e.target)).toEqual(['payment-2', 'payment-1', 'payment-0']);

      const keys = (await own.keys(`${lossPrefix}*`)).map((k) => k.slice(lossPrefix.length));
      await own.del(...keys); // Redis restarted without persistence
      expect(await trail.intact()).toBe(false);
      expect(await trail.restore()).toBeGreaterThanOrEqual(3);
      expect((await trail.recent(3)).map(({ id: _id, ...e }) => e)).toEqual(before);
      const ids = (await trail.recent(100)).map((e) => e.request_id);
      expect(new Set(ids).size).toBe(ids.length);
      // restored once: a second check writes nothing
      expect(await trail.restore()).toBe(-1);
    } finally {
      const keys = (await own.keys(`${lossPrefix}*`)).map((k) => k.slice(lossPrefix.length));
      if (keys.length > 0) await own.del(...keys);
      await own.quit();
      await producer.disconnect();
    }
  });
});

describe('RedisSessionStore', () => {
  it('creates, refreshes and ends sessions; an expired one is gone', async () => {
    const store = new RedisSessionStore(redis);
    const key = 'a'.repeat(64);
    const session = { username: 'ops.alice', role: 'operator' as const, credential: 'c'.repeat(22), createdAtMs: 1_740_823_200_000 };
    await store.create(key, session, 60);
    await store.create(key, session, 60);
    await expect(store.read(key)).resolves.toEqual(session);
    await store.refresh(key, 60_000);
    expect(await redis.ttl(`console:session:${key}`)).toBeGreaterThan(50);
    await store.destroy(key);
    await store.destroy(key);
    await expect(store.read(key)).resolves.toBeUndefined();

    const idle = 'b'.repeat(64);
    await store.create(idle, { ...session, username: 'ops.bob', role: 'viewer' }, 1);
    await new Promise((r) => setTimeout(r, 2_100));
    await expect(store.read(idle)).resolves.toBeUndefined();
  });
});
