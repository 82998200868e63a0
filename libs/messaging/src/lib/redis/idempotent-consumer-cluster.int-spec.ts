// Batched idempotent effects against a Redis in cluster mode reached through one address with a plain client (a
// cluster-mode endpoint behind a proxy, or a one-node cluster as here): Redis refuses a script whose keys span slots
// with CROSSSLOT, before running any of it. The helper must then send each call alone, and keep doing so.
import { randomUUID } from 'node:crypto';
import { createRedis, Redis } from './redis-client';
import { IdempotentConsumer } from './idempotent-consumer';
import { PrivateRedis, startPrivateRedis } from '../../test/private-redis';
import { waitUntil } from '../../test/kafka-test-kit';

const SETTLE = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

describe('IdempotentConsumer on a cluster-mode Redis through a plain client', () => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startPrivateRedis('cluster', (port) => ['--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']);
    redis = createRedis({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'payrail-int:' }, 'payrail-int-cluster');
    await redis.connect();
    await redis.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitUntil(async () => String(await redis.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), 15_000, 'the one-node cluster to be ok');
  });

  afterAll(async () => {
    await redis?.quit();
    server?.stop();
  });

  it('refuses a script over two merchants\' slots (what a mixed batch would meet)', async () => {
    await expect(redis.eval('return 1', 2, 'a:{m-1}', 'b:{m-2}')).rejects.toThrow(/^CROSSSLOT/);
  });

  it('applies calls for many merchants made in one turn, each once, by sending them alone', async () => {
    const effect = new IdempotentConsumer(redis, { consumer: 'ledger' }).defineEffect<number>({ numberOfKeys: 1, lua: SETTLE });
    const merchants = Array.from({ length: 20 }, () => `m-${randomUUID()}`);
    const call = (m: string, eventId: string) => effect.applyOnce({ eventId, scope: m, keys: [`sum:{${m}}`], args: ['5'] });
    const first = await Promise.all(merchants.map((m) => call(m, 'evt-1')));
    expect(first.map((o) => o.outcome)).toEqual(Array(20).fill('APPLIED'));
    // later turns go alone from the start; redeliveries are still no-ops
    const again = await Promise.all(merchants.map((m) => call(m, 'evt-1')));
    expect(again.map((o) => o.outcome)).toEqual(Array(20).fill('DUPLICATE'));
    const second = await Promise.all(merchants.map((m) => call(m, 'evt-2')));
    expect(second.map((o) => o.outcome)).toEqual(Array(20).fill('APPLIED'));
    for (const m of merchants) expect(await redis.get(`sum:{${m}}`)).toBe('10');
  });
});
