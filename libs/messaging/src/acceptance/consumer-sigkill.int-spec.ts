// Acceptance: a consumer process killed with SIGKILL in the middle of a batch, then restarted, loses nothing and
// applies no effect twice. The worker (test/settlement-worker.ts) applies each settled payment to a per-merchant
// ledger in Redis through the idempotent-consumer helper; it is told to stall inside a batch right after applying
// one payment, and killed there, so that batch's effects are in Redis but its offsets were never committed.
import { EventProducer } from '../lib/kafka/event-producer';
import { createRedis, Redis } from '../lib/redis/redis-client';
import {
  appliedCount,
  createTopics,
  deleteKeys,
  deleteTopics,
  expectedLedger,
  readWorkerLedger,
  redisUrl,
  settledPayment,
  settledTopic,
  testKafka,
  uncommitted,
  uniqueSuffix,
  waitUntil,
} from '../test/kafka-test-kit';
import { WorkerProcess } from '../test/worker-process';

describe('acceptance: a consumer killed with SIGKILL mid-batch', () => {
  const suffix = uniqueSuffix();
  const topic = `test.sigkill.settled.${suffix}`;
  const dlq = `test.sigkill.dlq.${suffix}`;
  const groupId = `test-sigkill-${suffix}`;
  const prefix = `payrail-int:${suffix}:`;
  const kafka = testKafka();
  const producer = new EventProducer(kafka, { source: 'payrail/test', lingerMs: 5 });
  const workers: WorkerProcess[] = [];
  let redis: Redis;

  beforeAll(async () => {
    await createTopics(kafka, [{ name: topic, partitions: 3 }, { name: dlq, partitions: 1 }]);
    await producer.connect();
    redis = createRedis({ url: redisUrl(), keyPrefix: prefix }, 'payrail-int-sigkill');
    await redis.connect();
  });

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await producer.disconnect();
    await deleteKeys(redis, prefix);
    await redis.quit();
    await deleteTopics(kafka, [topic, dlq]);
  });

  it('after a restart every payment is applied exactly once: nothing lost, the redelivered batch changes nothing', async () => {
    const merchants = Array.from({ length: 20 }, (_, i) => `merchant-${suffix}-${i}`);
    const payments = Array.from({ length: 6_000 }, (_, n) => settledPayment(n, merchants));
    const stallAt = payments[3_000];
    if (!stallAt) throw new Error('no payment to stall at');
    const contract = settledTopic(topic);
    await Promise.all(payments.map((p) => producer.publish(contract, p, { key: p.merchant_id, correlationId: p.payment_id })));
    const workerEnv = { WORKER_TOPIC: topic, WORKER_GROUP: groupId, WORKER_DLQ: dlq, WORKER_REDIS_PREFIX: prefix };

    const first = new WorkerProcess({ ...workerEnv, WORKER_NAME: 'first', WORKER_STALL_AFTER: stallAt.payment_id });
    workers.push(first);
    await first.waitFor('stalled', 60_000);
    first.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    const appliedAtKill = await appliedCount(redis, merchants);
    const uncommittedAtKill = await uncommitted(kafka, groupId, topic);
    // the kill really was mid-batch: effects were applied that the group never committed
    expect(appliedAtKill).toBeGreaterThan(0);
    expect(uncommittedAtKill).toBeGreaterThan(payments.length - appliedAtKill);

    const restarted = new WorkerProcess({ ...workerEnv, WORKER_NAME: 'restarted' });
    workers.push(restarted);
    const restartedAt = Date.now();
    await waitUntil(async () => (await appliedCount(redis, merchants)) >= payments.length, 90_000, 'every payment applied');
    await waitUntil(async () => (await uncommitted(kafka, groupId, topic)) === 0, 30_000, 'the restarted worker to commit everything');
    const catchUpMs = Date.now() - restartedAt;
    restarted.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);

    const ledger = await readWorkerLedger(redis, merchants);
    for (const [merchant, want] of expectedLedger(payments)) {
      const got = ledger.get(merchant);
      expect({ merchant, sum: got?.sum, count: got?.count, payments: Object.keys(got?.appliedBy ?? {}).length }).toEqual({ merchant, sum: want.sum, count: want.count, payments: want.count });
    }
    // the stalled payment was applied by the killed worker and redelivered to the restarted one, which changed nothing
    const stalledMerchant = ledger.get(stallAt.merchant_id);
    expect(stalledMerchant?.appliedBy[stallAt.payment_id]).toBe('first');
    const duplicates = restarted.count('duplicate');
    expect(duplicates).toBeGreaterThanOrEqual(1);
    expect(restarted.lines.filter((l) => l.msg === 'message dead-lettered')).toEqual([]);
    console.log(
      `sigkill acceptance: ${payments.length} payments; killed after ${appliedAtKill} applied with ${uncommittedAtKill} uncommitted; ` +
        `restarted worker absorbed ${duplicates} redeliveries and caught up in ${catchUpMs} ms`,
    );
  });
});
