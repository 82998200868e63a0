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

  it('never dead-letters a readable card number from a topic with card numbers in clear: sealed, or withheld', async () => {
    const inbound: TopicContract = { ...TOPICS.paymentsInbound, name: `test.inbound.${suffix}` };
    const sealedDlq = `test.dlq.sealed.${suffix}`;
    await Promise.all([createTopic(inbound.name, 1), createTopic(sealedDlq, 1)]);
    const card = '4111111111111111';
    const seal = async (value: Buffer): Promise<Buffer> => Buffer.from(`sealed:${value.toString('base64url').split('').reverse().join('')}`);
    const run = async (groupId: string, protectDeadLetterValue?: (value: Buffer) => Promise<Buffer>): Promise<void> => {
      const c = new BatchConsumer(kafka, { groupId, routes: [{ topic: inbound, handler: async () => { throw new PermanentError(`cannot take card ${card}`); } }], deadLetterTopic: sealedDlq, producer, logger, protectDeadLetterValue });
      await c.start();
      const id = randomUUID();
      await producer.publish(inbound, { jws: `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify({ number: card })).toString('base64url')}.c2ln`, idempotency_key: groupId }, { key: groupId, correlationId: id });
      const deadline = Date.now() + 30_000;
      while (!(await deadLetters()).some((l) => l['key'] === groupId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      await c.stop();
    };
    const deadLetters = async (): Promise<Record<string, string>[]> => {
      const admin = kafka.admin();
      await admin.connect();
      const [offsets] = await admin.fetchTopicOffsets(sealedDlq);
      await admin.disconnect();
      const end = Number(offsets?.high ?? 0);
      if (end === 0) return [];
      const reader = kafka.consumer({ groupId: `dlq-reader-${randomUUID()}` });
      await reader.connect();
      await reader.subscribe({ topic: sealedDlq, fromBeginning: true });
      const letters: Record<string, string>[] = [];
      await new Promise<void>((resolve) => {
        void reader.run({
          eachMessage: async ({ message }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
            letters.push({ ...headers, key: String(message.key), value: message.value === null ? '' : message.value.toString('utf8') });
            if (Number(message.offset) + 1 >= end) resolve();
          },
        });
      });
      await reader.disconnect();
      return letters;
    };
    await run(`sealed-${suffix}`, seal);
    await run(`withheld-${suffix}`);
    const letters = await deadLetters();
    const sealed = letters.find((l) => l['key'] === `sealed-${suffix}`);
    const withheld = letters.find((l) => l['key'] === `withheld-${suffix}`);
    expect(sealed?.[DLQ_HEADERS.valueProtection]).toBe('jwe');
    expect(sealed?.['value']).toMatch(/^sealed:/);
    expect(withheld?.[DLQ_HEADERS.valueProtection]).toBe('withheld');
    expect(withheld?.['value']).toBe('');
    for (const letter of [sealed, withheld]) {
      expect(letter?.[DLQ_HEADERS.originalTopic]).toBe(inbound.name);
      expect(letter?.[DLQ_HEADERS.errorMessage]).toBe('cannot take card [card number removed]');
      const everything = JSON.stringify(letter);
      expect(everything).not.toContain(card);
      expect(everything).not.toContain(Buffer.from(JSON.stringify({ number: card })).toString('base64url'));
    }
  });
});
