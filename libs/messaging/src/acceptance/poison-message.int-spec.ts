// Acceptance: one poison message among 10,000 good ones is dead-lettered after at most 3 attempts, the other 9,999
// are processed, and its partition is blocked for no more than 5 s. "Blocked" is measured two ways, both from the
// handler's own timings: from the poison's first attempt until its dead letter was acknowledged (the partition's
// committed offset cannot pass it before), and the longest stretch in which the poison's partition handled nothing
// while it still had messages waiting. The bound is the acceptance criterion, not a speed benchmark: the
// default backoff (100 ms, 400 ms) keeps it near half a second.
import { DLQ_HEADERS, PaymentSettled } from '@payrail/contracts';
import { BatchConsumer, ConsumedEvent } from '../lib/kafka/batch-consumer';
import { MessagingMetrics, noopMetrics } from '../lib/metrics';
import { TestBed, readTopic, settledPayment, silentLogger, uncommitted, waitUntil } from '../test/kafka-test-kit';

const TOTAL = 10_000;
const BLOCKED_BOUND_MS = 5_000;

describe('acceptance: a poison message among 10,000 good ones', () => {
  const bed = new TestBed('poison', { partitions: 3 });
  const { topic, dlq, groupId, kafka, producer } = bed;
  beforeAll(bed.setUp);
  afterAll(bed.tearDown);

  it('dead-letters the poison after 3 attempts, processes the other 9,999, and blocks its partition well under 5 s', async () => {
    const merchants = bed.merchants(60);
    const payments = Array.from({ length: TOTAL }, (_, n) => settledPayment(n, merchants));
    const poison = payments[TOTAL / 2];
    if (!poison) throw new Error('no poison');
    await Promise.all(payments.map((p) => bed.publish(p)));

    const handled = new Set<string>();
    const handledAt = new Map<number, number[]>(); // partition -> completion times of good messages
    const poisonAttempts: number[] = [];
    let poisonPartition = -1;
    let deadLetteredAt = 0;
    const metrics: MessagingMetrics = { ...noopMetrics, deadLettered: () => (deadLetteredAt = Date.now()) };
    const handler = async (event: ConsumedEvent) => {
      const payment = event.data as PaymentSettled;
      if (payment.payment_id === poison.payment_id) {
        poisonAttempts.push(Date.now());
        poisonPartition = event.partition;
        throw new Error(`ledger rejected payment ${payment.payment_id}: never heals`);
      }
      handled.add(payment.payment_id);
      const times = handledAt.get(event.partition) ?? [];
      times.push(Date.now());
      handledAt.set(event.partition, times);
    };
    const consumer = new BatchConsumer(kafka, { groupId, routes: [{ topic, handler }], deadLetterTopic: dlq, producer, logger: silentLogger, metrics });
    bed.onTearDown(() => consumer.stop());
    const started = Date.now();
    await consumer.start();
    await waitUntil(() => handled.size === TOTAL - 1 && deadLetteredAt > 0, 120_000, 'the 9,999 good payments and the dead letter');
    const elapsedMs = Date.now() - started;
    await waitUntil(async () => (await uncommitted(kafka, groupId, topic.name)) === 0, 30_000, 'every offset committed, the poison\'s included');

    expect(poisonAttempts).toHaveLength(3);
    const firstAttempt = poisonAttempts[0] ?? 0;
    const poisonToDeadLetterMs = deadLetteredAt - firstAttempt;
    // the longest time the poison's partition handled nothing while it still had payments to handle
    const times = handledAt.get(poisonPartition) ?? [];
    const lastHandled = Math.max(...times);
    let longestStallMs = 0;
    for (let i = 1; i < times.length; i++) longestStallMs = Math.max(longestStallMs, (times[i] ?? 0) - (times[i - 1] ?? 0));
    expect(poisonToDeadLetterMs).toBeLessThan(BLOCKED_BOUND_MS);
    expect(longestStallMs).toBeLessThan(BLOCKED_BOUND_MS);
    expect(lastHandled).toBeGreaterThan(firstAttempt); // the partition moved on after the poison

    const [letter] = await readTopic(kafka, dlq, 1);
    expect(letter?.headers[DLQ_HEADERS.originalTopic]).toBe(topic.name);
    expect(letter?.headers[DLQ_HEADERS.originalPartition]).toBe(String(poisonPartition));
    expect(letter?.headers[DLQ_HEADERS.attempts]).toBe('3');
    expect(letter?.headers[DLQ_HEADERS.errorClass]).toBe('Error');
    expect(letter?.headers[DLQ_HEADERS.errorMessage]).toContain('never heals');
    expect(letter?.headers[DLQ_HEADERS.consumerGroup]).toBe(groupId);
    expect(JSON.parse(letter?.value ?? '{}')).toEqual(poison);
    console.log(
      `poison acceptance: ${TOTAL} messages in ${elapsedMs} ms; poison attempts at +0/+${(poisonAttempts[1] ?? 0) - firstAttempt}/+${(poisonAttempts[2] ?? 0) - firstAttempt} ms; ` +
        `first attempt -> dead letter acked ${poisonToDeadLetterMs} ms; longest stall on partition ${poisonPartition}: ${longestStallMs} ms (bound ${BLOCKED_BOUND_MS} ms)`,
    );
  });
});
