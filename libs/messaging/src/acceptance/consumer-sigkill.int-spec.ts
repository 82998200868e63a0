// Acceptance: a consumer process killed with SIGKILL in the middle of a batch, then restarted, loses nothing and
// applies no effect twice. The worker (test/settlement-worker.ts) applies each settled payment to a per-merchant
// ledger in Redis through the idempotent-consumer helper; it is told to stall inside a batch right after applying
// one payment, and killed there, so that batch's effects are in Redis but its offsets were never committed.
import { TestBed, appliedCount, checkWorkerLedger, settledPayment, uncommitted, waitUntil } from '../test/kafka-test-kit';

describe('acceptance: a consumer killed with SIGKILL mid-batch', () => {
  const bed = new TestBed('sigkill', { partitions: 3, redis: true });
  beforeAll(bed.setUp);
  afterAll(bed.tearDown);

  it('after a restart every payment is applied exactly once: nothing lost, the redelivered batch changes nothing', async () => {
    const merchants = bed.merchants(20);
    const { redis, kafka, groupId } = bed;
    const topic = bed.topic.name;
    const payments = Array.from({ length: 6_000 }, (_, n) => settledPayment(n, merchants));
    const stallAt = payments[3_000];
    if (!stallAt) throw new Error('no payment to stall at');
    await Promise.all(payments.map((p) => bed.publish(p)));

    const first = bed.startWorker({ WORKER_NAME: 'first', WORKER_STALL_AFTER: stallAt.payment_id });
    await first.waitFor('stalled', 60_000);
    first.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    const appliedAtKill = await appliedCount(redis, merchants);
    const uncommittedAtKill = await uncommitted(kafka, groupId, topic);
    // the kill really was mid-batch: effects were applied that the group never committed
    expect(appliedAtKill).toBeGreaterThan(0);
    expect(uncommittedAtKill).toBeGreaterThan(payments.length - appliedAtKill);

    const restarted = bed.startWorker({ WORKER_NAME: 'restarted' });
    const restartedAt = Date.now();
    await waitUntil(async () => (await appliedCount(redis, merchants)) >= payments.length, 90_000, 'every payment applied');
    await waitUntil(async () => (await uncommitted(kafka, groupId, topic)) === 0, 30_000, 'the restarted worker to commit everything');
    const catchUpMs = Date.now() - restartedAt;
    restarted.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);

    const { ledger, mismatches } = await checkWorkerLedger(redis, payments);
    expect(mismatches).toEqual([]);
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
