// Against the real broker started by `npm test` (KAFKA_BROKERS): good messages are handled, a poison message is
// dead-lettered after bounded attempts with the reason in headers, and the partition keeps moving.
import { randomUUID } from 'node:crypto';
import { DLQ_HEADERS, TOPICS, TopicContract } from '@payrail/contracts';
import { BatchConsumer, ConsumedEvent } from './batch-consumer';
import { EventProducer } from './event-producer';
import { createKafka } from './kafka-client';
import { kafkaConnectionFromProcessEnv } from './kafka.config';
import { PermanentError } from './errors';

const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'payrail-int-test'));
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function createTopic(name: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }] });
  await admin.disconnect();
}

describe('BatchConsumer against a real broker', () => {
  const suffix = randomUUID().slice(0, 8);
  const topic: TopicContract = { ...TOPICS.paymentsSigned, name: `test.signed.${suffix}` };
  const dlq = `test.dlq.${suffix}`;
  const producer = new EventProducer(kafka, { source: 'payrail/test', lingerMs: 5 });
  let consumer: BatchConsumer | undefined;

  beforeAll(async () => {
    await Promise.all([createTopic(topic.name, 3), createTopic(dlq, 1)]);
    await producer.connect();
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer.disconnect();
  });

  it('handles 2,000 messages, dead-letters the poison one after 3 attempts, and never blocks its partition', async () => {
    const total = 2_000;
    const poisonIndex = 777;
    const handled = new Set<string>();
    const attempts = new Map<string, number>();
    let resolveAll: () => void = () => undefined;
    const allDone = new Promise<void>((resolve) => (resolveAll = resolve));
    const handler = async (event: ConsumedEvent) => {
      const data = event.data as { payment_id: string; kid: string };
      attempts.set(data.payment_id, (attempts.get(data.payment_id) ?? 0) + 1);
      if (data.kid === 'poison') throw new Error('transient-looking failure that never heals');
      handled.add(data.payment_id);
      if (handled.size === total - 1) resolveAll();
    };
    consumer = new BatchConsumer(kafka, { groupId: `test-${suffix}`, routes: [{ topic, handler }], deadLetterTopic: dlq, producer, logger, backoffMs: [50, 100] });
    await consumer.start();

    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: total }, (_, i) => {
        const id = randomUUID();
        ids.push(id);
        return producer.publish(topic, { payment_id: id, kid: i === poisonIndex ? 'poison' : 'k', instruction_jws: 'a.b.c' }, { key: `payer-${i % 50}`, correlationId: id });
      }),
    );
    const started = Date.now();
    await allDone;
    expect(handled.size).toBe(total - 1);
    expect(Date.now() - started).toBeLessThan(60_000);
    const poisonId = ids[poisonIndex] ?? '';
    expect(attempts.get(poisonId)).toBe(3);

    // the dead letter carries the reason and where it came from
    const reader = kafka.consumer({ groupId: `dlq-reader-${suffix}` });
    await reader.connect();
    await reader.subscribe({ topic: dlq, fromBeginning: true });
    const letter = await new Promise<Record<string, string>>((resolve) => {
      void reader.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          resolve({ ...headers, value: String(message.value) });
        },
      });
    });
    await reader.disconnect();
    expect(letter[DLQ_HEADERS.originalTopic]).toBe(topic.name);
    expect(letter[DLQ_HEADERS.attempts]).toBe('3');
    expect(letter[DLQ_HEADERS.errorMessage]).toContain('never heals');
    expect(letter['value']).toContain(poisonId);
  });

  it('dead-letters a permanent error at once and a schema-invalid message without calling the handler', async () => {
    const t2: TopicContract = { ...TOPICS.paymentsSigned, name: `test.signed2.${suffix}` };
    await createTopic(t2.name, 1);
    const seen: string[] = [];
    const c = new BatchConsumer(kafka, {
      groupId: `test2-${suffix}`,
      routes: [{ topic: t2, handler: async (e) => { seen.push((e.data as { kid: string }).kid); if ((e.data as { kid: string }).kid === 'perm') throw new PermanentError('merchant unknown'); } }],
      deadLetterTopic: dlq,
      producer,
      logger,
    });
    await c.start();
    const id = randomUUID();
    await producer.publish(t2, { payment_id: id, kid: 'perm', instruction_jws: 'a.b.c' }, { key: 'x', correlationId: id });
    await producer.publishRaw(t2.name, { key: 'y', value: '{"payment_id":"not-a-uuid"}', headers: producer.encode(t2, { payment_id: id, kid: 'ok', instruction_jws: 'a.b.c' }, { key: 'y', correlationId: id }).headers });
    const okId = randomUUID();
    await producer.publish(t2, { payment_id: okId, kid: 'last', instruction_jws: 'a.b.c' }, { key: 'z', correlationId: okId });
    const deadline = Date.now() + 30_000;
    while (!seen.includes('last') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await c.stop();
    expect(seen.filter((k) => k === 'perm')).toHaveLength(1); // no retries for a permanent error
    expect(seen).not.toContain('ok'); // the schema-invalid message never reached the handler
    expect(seen).toContain('last');
  });
});
