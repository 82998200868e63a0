// Against the real Redis started by `npm test` (REDIS_URL): Idempotency-Key handling and the jti replay guard
// under concurrency, as two ingest instances sharing one Redis see them.
import { randomUUID } from 'node:crypto';
import { Redis, RedisReplayStore, createRedis } from '@payrail/messaging';
import { IdempotencyStore, StoredResponse } from './idempotency.store';

describe('IdempotencyStore and RedisReplayStore on real Redis', () => {
  let instanceA: Redis;
  let instanceB: Redis;

  beforeAll(async () => {
    const config = { url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: `payrail-test:${randomUUID()}:` };
    instanceA = createRedis(config, 'test-a');
    instanceB = createRedis(config, 'test-b');
    await Promise.all([instanceA.connect(), instanceB.connect()]);
  });

  afterAll(async () => {
    await Promise.all([instanceA.quit(), instanceB.quit()]);
  });

  it('runs the request once for 40 concurrent duplicates across two instances and gives all the same response', async () => {
    const stores = [new IdempotencyStore(instanceA, 86_400), new IdempotencyStore(instanceB, 86_400)];
    const key = randomUUID();
    let runs = 0;
    const compute = async (): Promise<StoredResponse> => {
      runs++;
      await new Promise((r) => setTimeout(r, 50));
      return { status: 202, headers: { location: '/v1/payments/x' }, body: `{"run":${runs}}` };
    };
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => (stores[i % 2] as IdempotencyStore).runOnce('psp-alpha', key, 'hash-1', compute)));
    expect(runs).toBe(1);
    expect(outcomes.filter((o) => o.kind === 'FRESH')).toHaveLength(1);
    const bodies = new Set(outcomes.map((o) => (o.kind === 'FRESH' || o.kind === 'REPLAY' ? o.response.body : o.kind)));
    expect([...bodies]).toEqual(['{"run":1}']);
    // the same key with another body is refused, every time
    const conflicts = await Promise.all([1, 2, 3].map(() => (stores[1] as IdempotencyStore).runOnce('psp-alpha', key, 'hash-2', compute)));
    expect(conflicts.map((o) => o.kind)).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT']);
    expect(runs).toBe(1);
  });

  it('releases the key when the request fails, so a retry runs it', async () => {
    const store = new IdempotencyStore(instanceA, 86_400);
    const key = randomUUID();
    await expect(store.runOnce('psp-alpha', key, 'h', async () => { throw new Error('broker down'); })).rejects.toThrow('broker down');
    const retry = await store.runOnce('psp-alpha', key, 'h', async () => ({ status: 202, headers: {}, body: 'ok' }));
    expect(retry).toEqual({ kind: 'FRESH', response: { status: 202, headers: {}, body: 'ok' } });
  });

  it('lets exactly one of many concurrent claims of a jti through, across instances', async () => {
    const guards = [new RedisReplayStore(instanceA, 'ingest-jti'), new RedisReplayStore(instanceB, 'ingest-jti')];
    const jti = randomUUID();
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (guards[i % 2] as RedisReplayStore).claimOnce(jti, 60)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await (guards[0] as RedisReplayStore).claimOnce(jti, 60)).toBe(false);
  });
});
