// A consumer process for the acceptance tests (run by them as a child process with @swc-node/register): it consumes
// settled payments with BatchConsumer and applies each one's effect in Redis through the idempotent-consumer helper
// (per merchant: net sum, count, and which worker applied which payment). It reports what happens as JSON lines on
// stdout, stops gracefully on SIGTERM, and can be told to stall inside a batch so a test can SIGKILL it there.
//
//   KAFKA_BROKERS, REDIS_URL          the real infrastructure
//   WORKER_NAME                        reported in every line and recorded with each applied payment
//   WORKER_TOPIC, WORKER_GROUP, WORKER_DLQ, WORKER_REDIS_PREFIX
//   WORKER_STALL_AFTER                 a payment id: after applying it, report `stalled` and never finish the batch
//   WORKER_HANDLER_DELAY_MS            time each message takes (default 0)
import type { PaymentSettled } from '@payrail/contracts';
import { BatchConsumer, ConsumedEvent, HandlerOutcome } from '../lib/kafka/batch-consumer';
import { EventProducer } from '../lib/kafka/event-producer';
import { IdempotentConsumer } from '../lib/redis/idempotent-consumer';
import { createRedis } from '../lib/redis/redis-client';
import { redisUrl, settledTopic, testKafka, workerKeys } from './kafka-test-kit';

const SETTLE = `
-- KEYS[1] net sum, KEYS[2] count, KEYS[3] payment -> worker; ARGV[1] net (minor units), ARGV[2] payment id, ARGV[3] worker
if not string.match(ARGV[1], '^[0-9]+$') then return redis.error_reply('ERR net must be whole minor units') end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return 1
`;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const name = env('WORKER_NAME');
  const report = (event: string, detail: Record<string, unknown> = {}) => process.stdout.write(`${JSON.stringify({ worker: name, event, at: Date.now(), ...detail })}\n`);
  const stallAfter = process.env['WORKER_STALL_AFTER'];
  const delayMs = Number(process.env['WORKER_HANDLER_DELAY_MS'] ?? '0');

  const kafka = testKafka(`payrail-worker-${name}`);
  const redis = createRedis({ url: redisUrl(), keyPrefix: env('WORKER_REDIS_PREFIX') }, `payrail-worker-${name}`);
  await redis.connect();
  const settle = new IdempotentConsumer(redis, { consumer: 'acceptance-settlement' }).defineEffect({ numberOfKeys: 3, lua: SETTLE });
  const producer = new EventProducer(kafka, { source: `payrail/worker-${name}` });
  await producer.connect();

  const handler = async (event: ConsumedEvent): Promise<HandlerOutcome> => {
    const payment = event.data as PaymentSettled;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const keys = workerKeys(payment.merchant_id);
    const applied = await settle.applyOnce({
      eventId: event.envelope.id,
      scope: payment.merchant_id,
      keys: [keys.sum, keys.count, keys.appliedBy],
      args: [payment.net.minor, payment.payment_id, name],
    });
    if (payment.payment_id === stallAfter) {
      report('stalled', { payment_id: payment.payment_id, offset: event.offset, partition: event.partition });
      await new Promise(() => undefined); // the batch never finishes: its offsets are never committed
    }
    if (applied.outcome === 'DUPLICATE') {
      report('duplicate', { payment_id: payment.payment_id });
      return 'duplicate';
    }
    return 'ok';
  };

  const consumer = new BatchConsumer(kafka, {
    groupId: env('WORKER_GROUP'),
    routes: [{ topic: settledTopic(env('WORKER_TOPIC')), handler }],
    deadLetterTopic: env('WORKER_DLQ'),
    producer,
    logger: {
      info: (obj, msg) => {
        const assignment = (obj as { assignment?: Record<string, number[]> }).assignment;
        if (assignment) report('joined', { partitions: Object.values(assignment).flat().length });
        else report('info', { msg });
      },
      warn: (obj, msg) => report('warn', { msg, ...obj }),
      error: (obj, msg) => report('error', { msg, ...obj }),
    },
    sessionTimeoutMs: 6_000, // the broker's minimum: a SIGKILLed member is noticed soon
  });

  process.once('SIGTERM', () => {
    const started = Date.now();
    report('stopping');
    void (async () => {
      await consumer.stop(); // stop fetching, finish the in-flight messages, commit them, leave the group
      await producer.disconnect();
      await redis.quit();
      report('stopped', { ms: Date.now() - started });
      process.exit(0);
    })();
  });

  await consumer.start();
  report('started');
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ event: 'failed', error: err instanceof Error ? err.message : String(err) })}\n`);
  process.exit(1);
});
