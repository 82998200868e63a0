// Against the real broker (KAFKA_BROKERS): an observer reads its live topics from their end and its historic
// topics from their beginning, decodes catalogue messages, reports undecodable ones without dead-lettering them,
// and commits nothing; the lag reader measures a group's lag from committed offsets and watermarks.
import { randomUUID } from 'node:crypto';
import { TOPICS, TopicContract } from '@payrail/contracts';
import { ConsumerLagReader } from './consumer-lag';
import { EventProducer } from './event-producer';
import { createKafka } from './kafka-client';
import { kafkaConnectionFromProcessEnv } from './kafka.config';
import { ObservedMessage, TopicObserver } from './topic-observer';

const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'payrail-int-test-observer'));
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('TopicObserver and ConsumerLagReader against a real broker', () => {
  const suffix = randomUUID().slice(0, 8);
  const live: TopicContract = { ...TOPICS.paymentsSigned, name: `test.observe.signed.${suffix}` };
  const historic = `test.observe.dlq.${suffix}`;
  const groupId = `test-observer-${suffix}`;
  const producer = new EventProducer(kafka, { source: 'payrail/test', lingerMs: 5 });
  const admin = kafka.admin();
  const lagReader = new ConsumerLagReader(kafka);
  const seen: ObservedMessage[] = [];
  let observer: TopicObserver | undefined;

  const signed = (kid: string) => ({ payment_id: randomUUID(), kid, instruction_jws: 'a.b.c' });

  beforeAll(async () => {
    await Promise.all([admin.connect(), producer.connect(), lagReader.connect()]);
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: live.name, numPartitions: 3, replicationFactor: 1 }, { topic: historic, numPartitions: 2, replicationFactor: 1 }] });
  });

  afterAll(async () => {
    await observer?.stop();
    await Promise.all([producer.disconnect(), lagReader.disconnect()]);
    await admin.disconnect();
  });

  it('reads live topics from their end and historic ones from their beginning, decoding what it can, committing nothing', async () => {
    const before = Array.from({ length: 4 }, () => signed('before-start'));
    for (const data of before) await producer.publish(live, data, { key: data.payment_id, correlationId: data.payment_id });
    for (let i = 0; i < 5; i++) await producer.publishRaw(historic, { key: `dl-${i}`, value: `not json ${i}`, headers: { payrail_dlq_error_class: 'SchemaInvalidError' } });

    observer = new TopicObserver(kafka, {
      groupId,
      liveTopics: [live.name],
      fromBeginningTopics: [historic],
      onMessage: (m) => seen.push(m),
      logger,
      contractOf: (topic) => (topic === live.name ? live : undefined),
    });
    await observer.start();
    await waitFor('partition assignment', () => (observer?.assignedPartitions === 5 ? true : undefined));
    await waitFor('the historic messages', () => (seen.filter((m) => m.topic === historic).length === 5 ? true : undefined));

    const after = Array.from({ length: 20 }, () => signed('after-start'));
    for (const data of after) await producer.publish(live, data, { key: data.payment_id, correlationId: data.payment_id });
    await producer.publishRaw(live.name, { key: 'garbage', value: '{"payment_id":"x"}' });
    await waitFor('the live messages', () => (seen.filter((m) => m.topic === live.name).length >= 21 ? true : undefined));

    const liveSeen = seen.filter((m) => m.topic === live.name);
    const decoded = liveSeen.flatMap((m) => (m.event ? [m.event.data as { payment_id: string; kid: string }] : []));
    expect(decoded.map((d) => d.payment_id).sort()).toEqual(after.map((d) => d.payment_id).sort());
    expect(decoded.every((d) => d.kid === 'after-start')).toBe(true);
    const garbage = liveSeen.find((m) => m.key === 'garbage');
    expect(garbage?.event).toBeUndefined();
    expect(garbage?.undecodable).toMatch(/ce_/);

    const dlq = seen.filter((m) => m.topic === historic);
    expect(dlq.map((m) => m.key).sort()).toEqual(['dl-0', 'dl-1', 'dl-2', 'dl-3', 'dl-4']);
    expect(dlq.every((m) => m.event === undefined && m.undecodable === undefined && m.headers['payrail_dlq_error_class'] === 'SchemaInvalidError')).toBe(true);
    expect(dlq.every((m) => m.timestamp > Date.now() - 120_000)).toBe(true);

    await observer.stop();
    expect(observer.state).toBe('stopped');
    const committed = await admin.fetchOffsets({ groupId, topics: [live.name, historic] });
    expect(committed.flatMap((t) => t.partitions.map((p) => p.offset))).toEqual(['-1', '-1', '-1', '-1', '-1']);
  });

  it('measures a group lag per partition from its commits and the log end, counting uncommitted partitions from the start', async () => {
    const lagGroup = `test-lag-${suffix}`;
    const extents = await lagReader.extents([live.name, historic]);
    const liveTotal = BigInt(extents.find((e) => e.topic === live.name)?.written ?? '0');
    expect(liveTotal).toBe(25n);
    expect(extents.find((e) => e.topic === historic)).toEqual({ topic: historic, retained: '5', written: '5' });

    const ends = await admin.fetchTopicOffsets(live.name);
    const p0 = ends.find((o) => o.partition === 0);
    if (!p0) throw new Error('no partition 0');
    await admin.setOffsets({ groupId: lagGroup, topic: live.name, partitions: [{ partition: 0, offset: p0.high }] });

    const lag = await lagReader.groupLag(lagGroup, [live.name]);
    expect(lag.groupId).toBe(lagGroup);
    const [topicLag] = lag.topics;
    expect(topicLag?.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(topicLag?.partitions[0]).toEqual({ partition: 0, committed: p0.high, end: p0.high, lag: '0' });
    const others = ends.filter((o) => o.partition !== 0).reduce((n, o) => n + BigInt(o.high), 0n);
    expect(lag.lag).toBe(others.toString());
    expect(topicLag?.partitions.slice(1).every((p) => p.committed === null)).toBe(true);
  });
});
