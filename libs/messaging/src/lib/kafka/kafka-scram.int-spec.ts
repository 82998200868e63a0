// Against the broker's SASL/SCRAM-SHA-512 listener (the test broker of `npm test` has only that: KAFKA_SCRAM_BROKERS
// and the admin user; without them this test starts a private broker). Configured the way a service is (KAFKA_SASL_*
// variables), the right credentials produce and consume; wrong ones fail at connect within seconds, with a
// message that names SASL authentication, and the password appears in no error and no log line.
import { z } from 'zod';
import { parseEnv } from '@payrail/config';
import type { PaymentSettled } from '@payrail/contracts';
import { BatchConsumer, ConsumedEvent } from './batch-consumer';
import { EventProducer } from './event-producer';
import { createKafka, KafkaLogSink } from './kafka-client';
import { kafkaConnectionFromEnv, kafkaEnvFragment } from './kafka.config';
import { createTopics, deleteTopics, settledPayment, settledTopic, silentLogger, startPrivateBroker, uniqueSuffix, waitUntil } from '../../test/kafka-test-kit';

interface ScramListener {
  brokers: string;
  username: string;
  password: string;
  stop: () => Promise<void>;
}

/** The shared broker's SCRAM listener, or a private broker started for this test. */
async function scramListener(): Promise<ScramListener> {
  const { KAFKA_SCRAM_BROKERS: brokers, KAFKA_SCRAM_USERNAME: username, KAFKA_SCRAM_PASSWORD: password } = process.env;
  if (brokers && username && password) return { brokers, username, password, stop: async () => undefined };
  const broker = await startPrivateBroker();
  return { brokers: broker.brokers, ...broker.admin, stop: () => broker.stop() };
}

/** Reads the connection the way a service does: from KAFKA_* variables through the shared env fragment. */
function kafkaFromEnv(env: Record<string, string>, logs: string[]) {
  const parsed = parseEnv(z.object(kafkaEnvFragment), env);
  const config = kafkaConnectionFromEnv(parsed, env, 'payrail-int-scram');
  const sink: KafkaLogSink = {
    warn: (obj, msg) => logs.push(`${msg} ${JSON.stringify(obj)}`),
    error: (obj, msg) => logs.push(`${msg} ${JSON.stringify(obj)}`),
  };
  return createKafka(config, sink);
}

describe('Kafka with SASL/SCRAM-SHA-512', () => {
  const suffix = uniqueSuffix();
  const topic = settledTopic(`test.scram.settled.${suffix}`);
  const dlq = `test.scram.dlq.${suffix}`;
  let listener: ScramListener;
  const env = (password: string, username = listener.username) => ({
    KAFKA_BROKERS: listener.brokers,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
  });

  beforeAll(async () => {
    listener = await scramListener();
  }, 150_000);

  afterAll(async () => {
    await deleteTopics(kafkaFromEnv(env(listener.password), []), [topic.name, dlq]).catch(() => undefined);
    await listener.stop();
  });

  it('produces and consumes with the right credentials', async () => {
    const kafka = kafkaFromEnv(env(listener.password), []);
    await createTopics(kafka, [{ name: topic.name, partitions: 1 }, { name: dlq, partitions: 1 }]);
    const producer = new EventProducer(kafka, { source: 'payrail/test' });
    await producer.connect();
    const payment = settledPayment(0, [`merchant-${suffix}`]);
    await producer.publish(topic, payment, { key: payment.merchant_id, correlationId: payment.payment_id });
    const seen: string[] = [];
    const consumer = new BatchConsumer(kafka, {
      groupId: `test-scram-${suffix}`,
      routes: [{ topic, handler: async (e: ConsumedEvent) => void seen.push((e.data as PaymentSettled).payment_id) }],
      deadLetterTopic: dlq,
      producer,
      logger: silentLogger,
    });
    try {
      await consumer.start();
      await waitUntil(() => seen.length === 1, 30_000, 'the message over SCRAM');
      expect(seen).toEqual([payment.payment_id]);
    } finally {
      await consumer.stop();
      await producer.disconnect();
    }
  });

  it.each([
    ['a wrong password', () => env(`not-${listener.password}`)],
    ['an unknown user', () => env(listener.password, `nobody-${suffix}`)],
  ])('fails fast on %s, naming SASL authentication, and never shows the password', async (_case, badEnv) => {
    const settings = badEnv();
    const logs: string[] = [];
    const kafka = kafkaFromEnv(settings, logs);
    const producer = new EventProducer(kafka, { source: 'payrail/test' });
    const consumer = new BatchConsumer(kafka, { groupId: `test-scram-bad-${suffix}`, routes: [{ topic, handler: async () => undefined }], deadLetterTopic: dlq, producer, logger: silentLogger });
    for (const connect of [() => producer.connect(), () => consumer.start()]) {
      const started = Date.now();
      const error = await connect().then(() => undefined, (err: unknown) => err as Error);
      const tookMs = Date.now() - started;
      expect(error?.name).toBe('KafkaJSSASLAuthenticationError');
      expect(error?.message).toMatch(/SASL SCRAM SHA512 authentication failed: .*invalid credentials/);
      expect(tookMs).toBeLessThan(10_000); // not minutes of retries: a refused credential is not retried
      expect(error?.message).not.toContain(settings.KAFKA_SASL_PASSWORD);
    }
    await consumer.stop().catch(() => undefined);
    expect(logs.some((l) => /authentication failed/i.test(l))).toBe(true);
    expect(logs.filter((l) => l.includes(settings.KAFKA_SASL_PASSWORD))).toEqual([]);
  });
});
