// Against the real broker and Redis (KAFKA_BROKERS, REDIS_URL): a message a real BatchConsumer dead-lettered is
// listed, inspected with its dead-letter headers decoded, and replayed to its original topic, where the fixed
// handler processes it; replaying again, concurrently, or after an interrupted replay never makes a second copy.
import { randomUUID } from 'node:crypto';
import { DLQ_HEADERS, REPLAY_HEADERS, TOPICS, TopicContract } from '@payrail/contracts';
import type { KafkaMessage } from 'kafkajs';
import { BatchConsumer, ConsumedEvent } from '../kafka/batch-consumer';
import { EventProducer } from '../kafka/event-producer';
import { createKafka } from '../kafka/kafka-client';
import { kafkaConnectionFromProcessEnv } from '../kafka/kafka.config';
import { createRedis } from '../redis/redis-client';
import { DeadLetter, formatRef, replayMessage } from './dead-letter';
import { DeadLetterOperations } from './dead-letter-operations';
import { partitionRanges, readPartitionRanges } from './partition-reader';
import { ReplayLedger } from './replay-ledger';

const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'payrail-int-test-dlq'));
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dead-letter operations against a real broker and Redis', () => {
  const suffix = randomUUID().slice(0, 8);
  const topic: TopicContract = { ...TOPICS.paymentsSigned, name: `test.dlqops.signed.${suffix}` };
  const dlq = `test.dlqops.dlq.${suffix}`;
  const groupId = `test-dlqops-${suffix}`;
  const producer = new EventProducer(kafka, { source: 'payrail/test', lingerMs: 5 });
  const prefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}dlq-${suffix}:`;
  const redisA = createRedis({ url: redisUrl, keyPrefix: prefix }, 'dlq-test-a');
  const redisB = createRedis({ url: redisUrl, keyPrefix: prefix }, 'dlq-test-b');
  const ops = new DeadLetterOperations(kafka, { redis: redisA });
  let consumer: BatchConsumer | undefined;

  // the "bug": payments in `broken` fail (transiently, so every attempt is used) until it is fixed
  const broken = new Set<string>();
  const handled = new Map<string, ConsumedEvent[]>();
  const where = new Map<string, { partition: number; offset: string }>();
  const eventIds = new Map<string, string>();

  async function publishPayments(count: number, poisoned: boolean): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    for (const id of ids) if (poisoned) broken.add(id);
    await Promise.all(
      ids.map((id, i) => {
        const eventId = randomUUID();
        eventIds.set(id, eventId);
        return producer.publish(topic, { payment_id: id, kid: poisoned ? 'poison' : 'k', instruction_jws: 'a.b.c' }, { key: `payer-${i % 7}`, correlationId: id, eventId });
      }),
    );
    return ids;
  }

  async function deadLettersOf(ids: string[]): Promise<DeadLetter[]> {
    const wanted = new Set(ids);
    return waitFor(`${ids.length} dead letters`, async () => {
      const letters = (await ops.list({ topics: [dlq] })).filter((l) => wanted.has(paymentIdOf(l)));
      return letters.length === ids.length ? letters : undefined;
    });
  }

  /** Every copy of a dead letter on the original topic, by its payrail_replay_of header. */
  async function copiesOf(letter: DeadLetter): Promise<KafkaMessage[]> {
    const copies: KafkaMessage[] = [];
    await readPartitionRanges(kafka, await partitionRanges(kafka, topic.name), (_t, _p, message) => {
      if (String(message.headers?.[REPLAY_HEADERS.replayOf] ?? '') === formatRef(letter.ref)) copies.push(message);
      return 'continue';
    });
    return copies;
  }

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topic.name, numPartitions: 3, replicationFactor: 1 }, { topic: dlq, numPartitions: 3, replicationFactor: 1 }] });
    await admin.disconnect();
    await Promise.all([producer.connect(), redisA.connect(), redisB.connect()]);
    const handler = async (event: ConsumedEvent) => {
      const { payment_id } = event.data as { payment_id: string };
      if (!where.has(payment_id)) where.set(payment_id, { partition: event.partition, offset: event.offset });
      if (broken.has(payment_id)) throw new Error(`ledger unavailable for payment ${payment_id}`);
      handled.set(payment_id, [...(handled.get(payment_id) ?? []), event]);
    };
    consumer = new BatchConsumer(kafka, { groupId, routes: [{ topic, handler }], deadLetterTopic: dlq, producer, logger, backoffMs: [20, 40] });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer.disconnect();
    const keys = await redisA.keys(`${prefix}*`);
    if (keys.length > 0) await redisA.del(...keys.map((k) => k.slice(prefix.length)));
    await Promise.all([redisA.quit(), redisB.quit()]);
  });

  it('lists and inspects a dead letter with its headers decoded, and replays it once to the fixed handler', async () => {
    const good = await publishPayments(30, false);
    const [poisonId = ''] = await publishPayments(1, true);
    const [letter] = await deadLettersOf([poisonId]);
    if (!letter) throw new Error('no dead letter');
    await waitFor('the good payments', () => (good.every((id) => handled.has(id)) ? true : undefined));

    // listed, with where it came from and why it failed
    const origin = where.get(poisonId);
    expect(letter.ref.topic).toBe(dlq);
    expect(letter.original).toEqual({ topic: topic.name, partition: origin?.partition, offset: origin?.offset });
    expect(letter.errorClass).toBe('Error');
    expect(letter.errorMessage).toBe(`ledger unavailable for payment ${poisonId}`);
    expect(letter.attempts).toBe(3);
    expect(letter.consumerGroup).toBe(groupId);
    expect(letter.event.id).toBe(eventIds.get(poisonId));
    expect(letter.problems).toEqual([]);
    const first = Date.parse(letter.firstFailureAt ?? '');
    const last = Date.parse(letter.lastFailureAt ?? '');
    expect(last).toBeGreaterThanOrEqual(first + 60); // two backoffs (20 + 40 ms) between the three attempts
    expect(Math.abs(Date.parse(letter.deadLetteredAt) - last)).toBeLessThan(5_000); // the dead-letter record's timestamp

    // filters
    expect((await ops.list({ topics: [dlq], filter: { reason: 'ledger unavailable' } })).map(formatRefOf)).toContain(formatRef(letter.ref));
    expect((await ops.list({ topics: [dlq], filter: { reason: 'error', originalTopic: topic.name } })).map(formatRefOf)).toContain(formatRef(letter.ref));
    expect(await ops.list({ topics: [dlq], filter: { reason: 'SchemaInvalidError' } })).toEqual([]);
    expect(await ops.list({ topics: [dlq], filter: { originalTopic: 'payrail.payments.accepted.v1' } })).toEqual([]);
    expect(await ops.list({ topics: [dlq], filter: { partition: letter.ref.partition, fromOffset: letter.ref.offset, toOffset: letter.ref.offset } })).toHaveLength(1);

    // inspected: the same record, with the value, and no replay yet
    const inspected = await ops.inspect(letter.ref);
    expect(inspected?.letter.original).toEqual(letter.original);
    expect(JSON.parse(inspected?.letter.value?.toString() ?? '{}')).toEqual({ payment_id: poisonId, kid: 'poison', instruction_jws: 'a.b.c' });
    expect(inspected?.letter.headers[DLQ_HEADERS.errorMessage]).toContain(poisonId);
    expect(inspected?.replay).toBeUndefined();
    expect(await ops.inspect({ ...letter.ref, offset: '999999' })).toBeUndefined();

    // a dry run changes nothing
    const dry = await ops.replay([letter], { dryRun: true });
    expect(dry.outcomes).toEqual([expect.objectContaining({ status: 'would-replay', target: expect.objectContaining({ topic: topic.name }) })]);
    expect(await ops.inspect(letter.ref).then((i) => i?.replay)).toBeUndefined();

    // the bug is fixed; the replay reaches the handler with the original event id and no dead-letter headers
    broken.delete(poisonId);
    const replayed = await ops.replay([letter]);
    expect(replayed.counts.replayed).toBe(1);
    const target = replayed.outcomes[0]?.target;
    expect(target?.topic).toBe(topic.name);
    const [event] = await waitFor('the replayed payment', () => handled.get(poisonId));
    expect(event?.envelope.id).toBe(eventIds.get(poisonId));
    expect({ partition: event?.partition, offset: event?.offset }).toEqual({ partition: target?.partition, offset: target?.offset });
    expect(String(event?.headers[REPLAY_HEADERS.replayOf])).toBe(formatRef(letter.ref));
    for (const header of Object.values(DLQ_HEADERS)) expect(event?.headers[header]).toBeUndefined();

    // replaying the same dead letter again publishes nothing
    const again = await ops.replay(await ops.list({ topics: [dlq], filter: { reason: poisonId } }));
    expect(again.outcomes).toEqual([expect.objectContaining({ status: 'already-replayed', target })]);
    expect((await ops.inspect(letter.ref))?.replay).toEqual(expect.objectContaining({ state: 'done', replayedOffset: target?.offset }));
    expect(await copiesOf(letter)).toHaveLength(1);
    expect(handled.get(poisonId)).toHaveLength(1);
  });

  it('publishes one copy per dead letter when two operators replay the same ones at once', async () => {
    const ids = await publishPayments(4, true);
    const letters = await deadLettersOf(ids);
    for (const id of ids) broken.delete(id);
    const other = new DeadLetterOperations(kafka, { redis: redisB });
    const [a, b] = await Promise.all([ops.replay(letters), other.replay(letters)]);
    expect(a.counts.replayed + b.counts.replayed).toBe(4);
    for (const letter of letters) {
      const statuses = [a, b].map((r) => r.outcomes.find((o) => formatRef(o.ref) === formatRef(letter.ref))?.status).sort();
      expect(statuses).toEqual(expect.arrayContaining(['replayed']));
      expect(statuses.filter((s) => s === 'replayed')).toHaveLength(1);
    }
    await waitFor('the replayed payments', () => (ids.every((id) => handled.has(id)) ? true : undefined));
    for (const letter of letters) expect(await copiesOf(letter)).toHaveLength(1);
  });

  it('finishes a replay interrupted after publishing without a second copy, and redoes one interrupted before', async () => {
    const [publishedId = '', lostId = ''] = await publishPayments(2, true);
    const letters = await deadLettersOf([publishedId, lostId]);
    const published = letters.find((l) => paymentIdOf(l) === publishedId);
    const lost = letters.find((l) => paymentIdOf(l) === lostId);
    if (!published || !lost) throw new Error('dead letters missing');
    broken.delete(publishedId);
    broken.delete(lostId);

    // a run that claimed both 11 minutes ago, published one copy and died before recording anything
    const ledger = new ReplayLedger(redisA);
    const plans = await ops.replay(letters, { dryRun: true });
    const targetOf = (l: DeadLetter) => plans.outcomes.find((o) => formatRef(o.ref) === formatRef(l.ref))?.target ?? { topic: topic.name, partition: 0 };
    const longAgo = Date.now() - 11 * 60_000;
    await ledger.claim(published.ref, 'dead-run', longAgo, targetOf(published));
    await ledger.claim(lost.ref, 'dead-run', longAgo, targetOf(lost));
    const crashed = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await crashed.connect();
    await crashed.send({ topic: topic.name, acks: -1, messages: [{ ...replayMessage(published, new Date()), partition: targetOf(published).partition }] });
    await crashed.disconnect();

    // a fresh claim by a run still in progress is left alone
    const [busy] = await deadLettersOf([(await publishPayments(1, true))[0] ?? '']);
    if (!busy) throw new Error('dead letter missing');
    await ledger.claim(busy.ref, 'live-run', Date.now(), { topic: topic.name, partition: 0 });

    const result = await ops.replay([published, lost, busy]);
    const status = (l: DeadLetter) => result.outcomes.find((o) => formatRef(o.ref) === formatRef(l.ref));
    expect(status(published)).toEqual(expect.objectContaining({ status: 'already-replayed', detail: expect.stringContaining('interrupted replay') }));
    expect(status(lost)?.status).toBe('replayed');
    expect(status(busy)?.status).toBe('in-progress');
    await waitFor('both payments', () => (handled.has(publishedId) && handled.has(lostId) ? true : undefined));
    expect(await copiesOf(published)).toHaveLength(1);
    expect(await copiesOf(lost)).toHaveLength(1);
    expect(await copiesOf(busy)).toHaveLength(0);
  });

  it('refuses a dead letter without its original topic, keeping it where it is', async () => {
    await producer.publishRaw(dlq, { key: 'hand-made', value: '{"note":"put here by hand"}', headers: { [DLQ_HEADERS.errorClass]: 'Manual' } });
    const [letter] = await waitFor('the hand-made dead letter', async () => {
      const found = await ops.list({ topics: [dlq], filter: { reason: 'manual' } });
      return found.length > 0 ? found : undefined;
    });
    if (!letter) throw new Error('no dead letter');
    expect(letter.problems).toContain(`missing header ${DLQ_HEADERS.originalTopic}: cannot be replayed`);
    const result = await ops.replay([letter]);
    expect(result.outcomes).toEqual([expect.objectContaining({ status: 'not-replayable' })]);
    expect(await ops.select([letter.ref])).toHaveLength(1);
  });
});

function paymentIdOf(letter: DeadLetter): string {
  try {
    return (JSON.parse(letter.value?.toString() ?? '{}') as { payment_id?: string }).payment_id ?? '';
  } catch {
    return '';
  }
}

function formatRefOf(letter: DeadLetter): string {
  return formatRef(letter.ref);
}
