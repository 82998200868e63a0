// Batch routes against the real broker started by `npm test` (KAFKA_BROKERS): the batch handler gets every decoded
// event of a fetched partition batch in offset order, only the failed events come back (alone) for a retry, permanent
// and exhausted ones are dead-lettered with the reason, undecodable ones never reach the handler, and the offsets
// are committed once the batch is done.
import { randomUUID } from 'node:crypto';
import { DLQ_HEADERS, TOPICS, TopicContract } from '@payrail/contracts';
import { BatchConsumer, ConsumedEvent, EventResult } from './batch-consumer';
import { EventProducer } from './event-producer';
import { DependencyUnavailableError, PermanentError } from './errors';
import { createTopics, readTopic, silentLogger as logger, testKafka, uniqueSuffix, waitUntil } from '../../test/kafka-test-kit';

const kafka = testKafka();
const suffix = uniqueSuffix();
const producer = new EventProducer(kafka, { source: 'payrail/test', lingerMs: 5 });
const consumers: BatchConsumer[] = [];

const createTopic = (name: string, partitions: number): Promise<void> => createTopics(kafka, [{ name, partitions }]);

/** Polls the probe until it gives a value (the test kit's waitUntil, keeping what the probe found). */
async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  let found: T | undefined;
  await waitUntil(async () => (found = await probe()) !== undefined, timeoutMs, what);
  return found as T;
}

/** Every message on a topic now (none when it is empty), with its key and headers. */
async function readAll(topic: string): Promise<{ key: string; headers: Record<string, string> }[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  return total === 0 ? [] : (await readTopic(kafka, topic, total)).map((m) => ({ key: m.key ?? '', headers: m.headers }));
}

const payment = (kid: string) => ({ payment_id: randomUUID(), kid, instruction_jws: 'a.b.c' });

beforeAll(async () => {
  await producer.connect();
});

afterAll(async () => {
  for (const c of consumers) await c.stop();
  await producer.disconnect();
});

describe('BatchConsumer batch routes against a real broker', () => {
  it('hands over each fetched partition batch at once, in offset order, handles every event once and commits', async () => {
    const topic: TopicContract = { ...TOPICS.paymentsSigned, name: `test.batch.${suffix}` };
    await createTopic(topic.name, 3);
    const total = 900;
    const sent = Array.from({ length: total }, (_, i) => ({ ...payment('k'), key: `payer-${i % 40}` }));
    // published before the consumer starts: its first fetches find full partitions
    await Promise.all(sent.map((p) => producer.publish(topic, { payment_id: p.payment_id, kid: p.kid, instruction_jws: p.instruction_jws }, { key: p.key, correlationId: p.payment_id })));
    const calls: { partition: number; offsets: bigint[] }[] = [];
    const handled: string[] = [];
    const groupId = `batch-${suffix}`;
    const consumer = new BatchConsumer(kafka, {
      groupId,
      routes: [
        {
          topic,
          batchHandler: async (events: readonly ConsumedEvent[]): Promise<EventResult[]> => {
            calls.push({ partition: events[0]?.partition ?? -1, offsets: events.map((e) => BigInt(e.offset)) });
            for (const e of events) {
              expect(e.partition).toBe(events[0]?.partition);
              expect(e.attempt).toBe(1);
              handled.push((e.data as { payment_id: string }).payment_id);
            }
            return events.map(() => 'ok');
          },
        },
      ],
      deadLetterTopic: `test.batch.dlq.${suffix}`,
      producer,
      logger,
    });
    consumers.push(consumer);
    await consumer.start();
    await until('every event handled', () => (handled.length >= total ? true : undefined));
    expect(new Set(handled)).toEqual(new Set(sent.map((p) => p.payment_id)));
    expect(handled).toHaveLength(total); // none twice
    for (const call of calls) expect(call.offsets).toEqual([...call.offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    // batches, not messages: 900 events over 3 partitions arrive in far fewer calls
    expect(calls.length).toBeLessThan(total / 10);
    expect(Math.max(...calls.map((c) => c.offsets.length))).toBeGreaterThan(1);

    // committed up to each partition's end
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic.name);
    const committed = await until('offsets committed to the end', async () => {
      const [group] = await admin.fetchOffsets({ groupId, topics: [topic.name] });
      const done = group?.partitions.every((p) => p.offset === ends.find((e) => e.partition === p.partition)?.high);
      return done ? group : undefined;
    });
    await admin.disconnect();
    expect(committed.partitions).toHaveLength(3);
  });

  it('retries only the failed events, dead-letters a permanent error at once and an exhausted one after its attempts; an undecodable message never reaches the handler', async () => {
    const topic: TopicContract = { ...TOPICS.paymentsSigned, name: `test.batch-fail.${suffix}` };
    const dlq = `test.batch-fail.dlq.${suffix}`;
    await Promise.all([createTopic(topic.name, 1), createTopic(dlq, 1)]);
    const kinds = ['good', 'flaky', 'good', 'poison', 'permanent', 'good', 'last'];
    const byId = new Map<string, string>();
    for (const [i, kind] of kinds.entries()) {
      const p = payment(kind);
      byId.set(p.payment_id, kind);
      await producer.publish(topic, p, { key: `${kind}-${i}`, correlationId: p.payment_id });
      if (i === 2) {
        // schema-invalid bytes under valid headers, between two good ones
        await producer.publishRaw(topic.name, { key: 'invalid', value: '{"payment_id":"not-a-uuid"}', headers: producer.encode(topic, payment('x'), { key: 'invalid', correlationId: randomUUID() }).headers });
      }
    }
    const seen: { kind: string; attempt: number }[] = [];
    const handled = new Set<string>();
    const consumer = new BatchConsumer(kafka, {
      groupId: `batch-fail-${suffix}`,
      routes: [
        {
          topic,
          batchHandler: async (events: readonly ConsumedEvent[]): Promise<EventResult[]> =>
            events.map((e): EventResult => {
              const kind = byId.get((e.data as { payment_id: string }).payment_id) ?? 'unknown';
              seen.push({ kind, attempt: e.attempt });
              if (kind === 'poison') return { error: new Error('never heals') };
              if (kind === 'permanent') return { error: new PermanentError('merchant unknown') };
              if (kind === 'flaky' && e.attempt === 1) return { error: new Error('flaky once') };
              handled.add(kind);
              return kind === 'good' ? 'duplicate' : 'ok';
            }),
        },
      ],
      deadLetterTopic: dlq,
      producer,
      logger,
      backoffMs: [20, 40],
    });
    consumers.push(consumer);
    await consumer.start();
    const letters = await until('the two dead letters of the handler and the invalid one', async () => {
      const all = await readAll(dlq);
      return all.length >= 3 ? all : undefined;
    });
    await until('the last event handled', () => (handled.has('last') ? true : undefined));

    const attemptsOf = (kind: string) => seen.filter((s) => s.kind === kind).map((s) => s.attempt);
    expect(attemptsOf('unknown')).toEqual([]); // the undecodable message never reached the handler
    // what succeeded came once; only the failed events came back
    expect(attemptsOf('good')).toEqual([1, 1, 1]);
    expect(attemptsOf('last')).toEqual([1]);
    expect(attemptsOf('flaky')).toEqual([1, 2]);
    expect(attemptsOf('poison')).toEqual([1, 2, 3]);
    expect(attemptsOf('permanent')).toEqual([1]);
    const headersOf = (key: string) => letters.find((l) => l.key.startsWith(key))?.headers;
    expect(headersOf('poison')?.[DLQ_HEADERS.attempts]).toBe('3');
    expect(headersOf('poison')?.[DLQ_HEADERS.errorMessage]).toBe('never heals');
    expect(headersOf('permanent')?.[DLQ_HEADERS.attempts]).toBe('1');
    expect(headersOf('permanent')?.[DLQ_HEADERS.errorMessage]).toBe('merchant unknown');
    expect(headersOf('invalid')?.[DLQ_HEADERS.errorClass]).toBe('SchemaInvalidError');
    expect(letters).toHaveLength(3);
  });

  it('fails every event of a call whose handler throws, and hands them all over again', async () => {
    const topic: TopicContract = { ...TOPICS.paymentsSigned, name: `test.batch-throw.${suffix}` };
    await createTopic(topic.name, 1);
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const p = payment('k');
      ids.add(p.payment_id);
      await producer.publish(topic, p, { key: `k-${i}`, correlationId: p.payment_id });
    }
    const thrownIds: string[] = [];
    const handled = new Map<string, number>(); // payment id -> the attempt that handled it
    const consumer = new BatchConsumer(kafka, {
      groupId: `batch-throw-${suffix}`,
      routes: [
        {
          topic,
          batchHandler: async (events: readonly ConsumedEvent[]): Promise<EventResult[]> => {
            const idsOf = events.map((e) => (e.data as { payment_id: string }).payment_id);
            if (thrownIds.length === 0) {
              thrownIds.push(...idsOf);
              throw new Error('redis unavailable');
            }
            for (const [i, id] of idsOf.entries()) handled.set(id, events[i]?.attempt ?? 0);
            return events.map(() => 'ok');
          },
        },
      ],
      deadLetterTopic: `test.batch-throw.dlq.${suffix}`,
      producer,
      logger,
      backoffMs: [20],
    });
    consumers.push(consumer);
    await consumer.start();
    await until('all five handled', () => ([...ids].every((id) => handled.has(id)) ? true : undefined));
    // every event of the call that threw came back, on attempt 2
    expect(thrownIds.length).toBeGreaterThan(0);
    for (const id of thrownIds) expect(handled.get(id)).toBe(2);
  });

  it('commits on its interval, not per batch, and what finished when it stops', async () => {
    const topic: TopicContract = { ...TOPICS.paymentsSigned, name: `test.batch-commit.${suffix}` };
    await createTopic(topic.name, 2);
    for (let i = 0; i < 50; i++) {
      const p = payment('k');
      await producer.publish(topic, p, { key: `k-${i}`, correlationId: p.payment_id });
    }
    const groupId = `batch-commit-${suffix}`;
    let handled = 0;
    const consumer = new BatchConsumer(kafka, {
      groupId,
      routes: [{ topic, batchHandler: async (events: readonly ConsumedEvent[]): Promise<EventResult[]> => ((handled += events.length), events.map(() => 'ok')) }],
      deadLetterTopic: `test.batch-commit.dlq.${suffix}`,
      producer,
      logger,
      commitIntervalMs: 600_000,
    });
    await consumer.start();
    await until('all 50 handled', () => (handled >= 50 ? true : undefined));
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () => Object.fromEntries(((await admin.fetchOffsets({ groupId, topics: [topic.name] }))[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
    // finished, but the interval (10 min) has not come round: nothing committed yet
    expect(Object.values(await committed()).every((offset) => offset === '-1')).toBe(true);
    await consumer.stop();
    const ends = Object.fromEntries((await admin.fetchTopicOffsets(topic.name)).map((o) => [o.partition, o.high]));
    expect(await committed()).toEqual(ends);
    await admin.disconnect();
  });

  it('retries an event whose dependency is unavailable past maxAttempts, per message and in batches, and never dead-letters it', async () => {
    const perMessage: TopicContract = { ...TOPICS.paymentsSigned, name: `test.outage-1.${suffix}` };
    const batched: TopicContract = { ...TOPICS.paymentsSigned, name: `test.outage-n.${suffix}` };
    const dlq = `test.outage.dlq.${suffix}`;
    await Promise.all([createTopic(perMessage.name, 1), createTopic(batched.name, 1), createTopic(dlq, 1)]);
    const outageCalls = 4; // more than maxAttempts (3)
    const calls = { perMessage: 0, batched: 0 };
    const handled: string[] = [];
    const unavailable = () => new DependencyUnavailableError('JWKS https://signing/jwks', 'its last fetch failed');
    const consumer = new BatchConsumer(kafka, {
      groupId: `outage-${suffix}`,
      routes: [
        {
          topic: perMessage,
          handler: async () => {
            if (++calls.perMessage <= outageCalls) throw unavailable();
            handled.push('per-message');
          },
        },
        {
          topic: batched,
          batchHandler: async (events: readonly ConsumedEvent[]): Promise<EventResult[]> => {
            if (++calls.batched <= outageCalls) return events.map(() => ({ error: unavailable() }));
            handled.push(...events.map(() => 'batched'));
            return events.map(() => 'ok');
          },
        },
      ],
      deadLetterTopic: dlq,
      producer,
      logger,
    });
    consumers.push(consumer);
    await consumer.start();
    await producer.publish(perMessage, payment('k'), { key: 'a', correlationId: randomUUID() });
    await producer.publish(batched, payment('k'), { key: 'b', correlationId: randomUUID() });
    await until('both handled after the outage', () => (handled.length >= 2 ? true : undefined));
    expect(handled.sort()).toEqual(['batched', 'per-message']);
    expect(calls).toEqual({ perMessage: outageCalls + 1, batched: outageCalls + 1 });
    expect(await readAll(dlq)).toEqual([]);
  });

  it('leaves an event uncommitted, not dead-lettered, when it stops during an outage', async () => {
    const topic: TopicContract = { ...TOPICS.paymentsSigned, name: `test.outage-stop.${suffix}` };
    const dlq = `test.outage-stop.dlq.${suffix}`;
    await Promise.all([createTopic(topic.name, 1), createTopic(dlq, 1)]);
    let calls = 0;
    const groupId = `outage-stop-${suffix}`;
    const consumer = new BatchConsumer(kafka, {
      groupId,
      routes: [{ topic, batchHandler: async (events: readonly ConsumedEvent[]): Promise<EventResult[]> => ((calls++, events.map(() => ({ error: new DependencyUnavailableError('redis', 'connection closed') })))) }],
      deadLetterTopic: dlq,
      producer,
      logger,
    });
    await consumer.start();
    await producer.publish(topic, payment('k'), { key: 'a', correlationId: randomUUID() });
    await until('retried past maxAttempts', () => (calls > 3 ? true : undefined));
    await consumer.stop();
    const admin = kafka.admin();
    await admin.connect();
    const [group] = await admin.fetchOffsets({ groupId, topics: [topic.name] });
    await admin.disconnect();
    expect(group?.partitions.map((p) => p.offset)).toEqual(['-1']);
    expect(await readAll(dlq)).toEqual([]);
  });

  it('refuses a route with both or neither handler', () => {
    const topic = { ...TOPICS.paymentsSigned, name: `test.none.${suffix}` };
    const options = { groupId: 'x', deadLetterTopic: 'y', producer, logger };
    expect(() => new BatchConsumer(kafka, { ...options, routes: [{ topic } as never] })).toThrow('give either a handler or a batchHandler');
    expect(() => new BatchConsumer(kafka, { ...options, routes: [{ topic, handler: async () => undefined, batchHandler: async () => [] } as never] })).toThrow('give either a handler or a batchHandler');
  });
});
