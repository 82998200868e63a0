// A broker that has never served a consumer group answers COORDINATOR_LOAD_IN_PROGRESS until it has created and
// loaded `__consumer_offsets`; consumers that join meanwhile crash and restart, and idempotent producers retry
// InitProducerId. `payrail topics ensure` waits with awaitCoordinators so that nothing started after it sees that:
// on a freshly formatted private broker, after it, a consumer joins its group without a single crash and an
// idempotent producer connects without an error.
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@payrail/contracts';
import { awaitCoordinators, createKafka, ensureTopics, KafkaLogSink } from './kafka-client';
import { PrivateBroker, startPrivateBroker, waitUntil } from '../../test/kafka-test-kit';

describe('awaitCoordinators on a freshly started broker', () => {
  let broker: PrivateBroker | undefined;

  beforeAll(async () => {
    broker = await startPrivateBroker();
  }, 150_000);

  afterAll(async () => {
    await broker?.stop();
  });

  it('returns once groups and producer ids are coordinated: a consumer then joins with no crash, a producer connects with no error', async () => {
    if (!broker) throw new Error('no broker');
    const errors: string[] = [];
    const sink: KafkaLogSink = { warn: () => undefined, error: (obj, msg) => errors.push(`${msg} ${JSON.stringify(obj)}`) };
    const kafka = createKafka({ clientId: 'payrail-int-coordinators', brokers: [broker.brokers], ssl: false, sasl: { mechanism: 'scram-sha-512', ...broker.admin } }, sink);
    await ensureTopics(kafka);
    const waitedMs = await awaitCoordinators(kafka, 60_000);
    expect(waitedMs).toBeLessThan(60_000);
    // what the wait itself met (a fresh broker answers "not available" and "loading" at first) is not counted
    const metWhileWaiting = errors.splice(0).filter((e) => /coordinator/i.test(e)).length;
    console.log(`fresh broker: coordinators ready after ${waitedMs} ms (${metWhileWaiting} coordinator errors answered while waiting)`);

    const consumer = kafka.consumer({ groupId: `coordinators-${randomUUID()}` });
    let crashes = 0;
    let joined = false;
    consumer.on(consumer.events.CRASH, () => { crashes++; });
    consumer.on(consumer.events.GROUP_JOIN, () => { joined = true; });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topic: TOPICS.paymentsAccepted.name, fromBeginning: true });
      await consumer.run({ eachMessage: async () => undefined });
      await waitUntil(() => joined, 30_000, 'the consumer to join its group');
      expect(crashes).toBe(0);
      expect(errors.filter((e) => /coordinator/i.test(e))).toEqual([]);
    } finally {
      await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    }
  });

  it('gives up after its timeout with a message naming what it waited for', async () => {
    const kafka = createKafka({ clientId: 'payrail-int-coordinators', brokers: ['127.0.0.1:1'], ssl: false }, { warn: () => undefined, error: () => undefined });
    await expect(awaitCoordinators(kafka, 2_000)).rejects.toThrow('Kafka did not coordinate consumer groups and producer ids within 2 s');
  });
});
