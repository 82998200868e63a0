// Shared by the messaging integration and acceptance tests: the real broker and Redis from the environment
// (KAFKA_BROKERS, REDIS_URL, as `npm test` passes them), throw-away topics, reading a topic back, and the
// settlement-like events the acceptance tests push through.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KafkaMessage } from 'kafkajs';
import { PaymentSettled, TOPICS, TopicContract } from '@payrail/contracts';
import type { ConsumerLogger } from '../lib/kafka/batch-consumer';
import { EventProducer } from '../lib/kafka/event-producer';
import { Kafka, createKafka } from '../lib/kafka/kafka-client';
import { kafkaConnectionFromProcessEnv } from '../lib/kafka/kafka.config';
import { createRedis, Redis } from '../lib/redis/redis-client';
import { WorkerProcess } from './worker-process';

export const kafkaBrokers = (): string[] => (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
export const redisUrl = (): string => process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export const silentLogger: ConsumerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** kafkajs' own transient complaints (a coordinator still loading, a rebalance) would drown the test output. */
export function testKafka(clientId = 'payrail-int-test'): Kafka {
  // as the test run's principal (`npm test` passes the admin: KAFKA_SASL_*)
  return createKafka(kafkaConnectionFromProcessEnv(process.env, clientId), silentLogger);
}

/** A unique suffix for this test's topics, groups and keys: tests share one broker and one Redis. */
export const uniqueSuffix = (): string => randomUUID().slice(0, 8);

/** A copy of the settled-payment contract on a throw-away topic (same schema, type and version). */
export function settledTopic(name: string): TopicContract {
  return { ...TOPICS.paymentsSettled, name };
}

export async function createTopics(kafka: Kafka, topics: { name: string; partitions: number }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: names });
  } finally {
    await admin.disconnect();
  }
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
}

/** Reads `count` messages of a topic from the beginning (a fresh group); fails after `timeoutMs`. */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<ReadMessage[]> {
  const reader = kafka.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const read: ReadMessage[] = [];
  await reader.connect();
  try {
    await reader.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${read.length} of ${count} messages from ${topic} in ${timeoutMs} ms`)), timeoutMs);
      void reader.run({
        eachMessage: async ({ partition, message }) => {
          read.push(toRead(partition, message));
          if (read.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await reader.disconnect();
  }
  return read;
}

function toRead(partition: number, message: KafkaMessage): ReadMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  return { partition, offset: message.offset, key: message.key?.toString('utf8'), value: message.value?.toString('utf8'), headers };
}

/** Messages of `topic` the group has not committed yet (sum over partitions of high watermark - committed offset). */
export async function uncommitted(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    let behind = 0;
    for (const end of ends) {
      const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      behind += Number(end.high) - Math.max(Number(done), 0);
    }
    return behind;
  } finally {
    await admin.disconnect();
  }
}

export interface PrivateBroker {
  brokers: string;
  /** Its admin principal (a super user), to connect with. */
  admin: { username: string; password: string };
  stop(): Promise<void>;
}

/** A freshly formatted single-node broker of this test's own (deploy/local/kafka.mjs), stopped by `stop()`. */
export async function startPrivateBroker(): Promise<PrivateBroker> {
  const runDir = mkdtempSync(join(tmpdir(), 'payrail-broker-'));
  const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, '..', '..', '..', '..', 'deploy', 'local', 'start-broker.mjs')], {
    env: { ...process.env, BROKER_RUN_DIR: runDir },
    timeout: 120_000,
  });
  const started = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { pid: number; brokers: string; credentialsDir: string };
  const username = 'payrail-admin';
  return {
    brokers: started.brokers,
    admin: { username, password: readFileSync(join(started.credentialsDir, `${username}.password`), 'utf8') },
    stop: async () => {
      process.kill(started.pid, 'SIGTERM');
      await waitUntil(() => { try { process.kill(started.pid, 0); return false; } catch { return true; } }, 30_000, 'the private broker to stop');
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The n-th settled payment of a run: merchants in turn, amounts that differ so a double count shows in the sum. */
export function settledPayment(n: number, merchants: string[]): PaymentSettled {
  const merchant = merchants[n % merchants.length] ?? 'merchant-0';
  const amount = 1_000 + n;
  const fee = 10 + (n % 7);
  return {
    payment_id: randomUUID(),
    merchant_id: merchant,
    amount: { minor: String(amount), currency: 'EUR' },
    fee: { minor: String(fee), currency: 'EUR' },
    net: { minor: String(amount - fee), currency: 'EUR' },
    posted_at: new Date().toISOString(),
    batch_id: `${merchant}.EUR.20260101T000000Z`,
  };
}

/** The keys the acceptance worker's effect writes for a merchant (settlement-worker.ts). */
export const workerKeys = (merchant: string) => ({
  sum: `settled:{${merchant}}:net`,
  count: `settled:{${merchant}}:count`,
  appliedBy: `settled:{${merchant}}:applied-by`,
});

export interface MerchantLedger {
  sum: bigint;
  count: number;
  /** payment id -> the worker that applied it */
  appliedBy: Record<string, string>;
}

/** What the acceptance worker wrote for each merchant. */
export async function readWorkerLedger(redis: Redis, merchants: string[]): Promise<Map<string, MerchantLedger>> {
  const ledger = new Map<string, MerchantLedger>();
  for (const merchant of merchants) {
    const keys = workerKeys(merchant);
    const [sum, count] = await redis.mget(keys.sum, keys.count);
    ledger.set(merchant, { sum: BigInt(sum ?? '0'), count: Number(count ?? '0'), appliedBy: await redis.hgetall(keys.appliedBy) });
  }
  return ledger;
}

/**
 * Reads the acceptance worker's ledger and compares it with every payment applied exactly once: per merchant the
 * net sum, the count, and how many distinct payments were recorded (a count above that is a double application).
 */
export async function checkWorkerLedger(redis: Redis, payments: PaymentSettled[]) {
  const expected = new Map<string, { sum: bigint; count: number }>();
  for (const p of payments) {
    const e = expected.get(p.merchant_id) ?? { sum: 0n, count: 0 };
    expected.set(p.merchant_id, { sum: e.sum + BigInt(p.net.minor), count: e.count + 1 });
  }
  const ledger = await readWorkerLedger(redis, [...expected.keys()]);
  const mismatches = [];
  for (const [merchant, want] of expected) {
    const got = ledger.get(merchant);
    const seen = { sum: got?.sum, count: got?.count, payments: Object.keys(got?.appliedBy ?? {}).length };
    if (seen.sum !== want.sum || seen.count !== want.count || seen.payments !== want.count) mismatches.push({ merchant, want, seen });
  }
  return { ledger, mismatches };
}

/** Total count applied over all merchants (what a test polls while a worker catches up). */
export async function appliedCount(redis: Redis, merchants: string[]): Promise<number> {
  const counts = await redis.mget(...merchants.map((m) => workerKeys(m).count));
  return counts.reduce((n, c) => n + Number(c ?? '0'), 0);
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`); // KEYS patterns are not prefixed by ioredis
  if (keys.length > 0) await redis.unlink(...keys.map((k) => k.slice(prefix.length)));
}

/**
 * One test file's throw-away world: a topic with the settled-payment contract, its dead-letter topic, a consumer
 * group, a Redis key prefix, a connected producer (and Redis client); `tearDown` stops what was registered with
 * `onTearDown` (consumers, worker processes), then removes the topics and keys.
 */
export class TestBed {
  readonly suffix = uniqueSuffix();
  readonly topic: TopicContract;
  readonly dlq: string;
  readonly groupId: string;
  readonly redisPrefix: string;
  readonly kafka = testKafka();
  readonly producer: EventProducer;
  private redisClient: Redis | undefined;
  private readonly cleanups: (() => Promise<unknown>)[] = [];

  constructor(
    name: string,
    private readonly options: { partitions: number; redis?: boolean },
  ) {
    this.topic = settledTopic(`test.${name}.settled.${this.suffix}`);
    this.dlq = `test.${name}.dlq.${this.suffix}`;
    this.groupId = `test-${name}-${this.suffix}`;
    this.redisPrefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}int-${this.suffix}:`;
    this.producer = new EventProducer(this.kafka, { source: 'payrail/test', lingerMs: 5 });
  }

  get redis(): Redis {
    if (!this.redisClient) throw new Error('this test bed has no Redis (options.redis)');
    return this.redisClient;
  }

  /** Distinct merchants for this run (keys of the topic). */
  merchants(count: number): string[] {
    return Array.from({ length: count }, (_, i) => `merchant-${this.suffix}-${i}`);
  }

  /** Starts the acceptance worker (settlement-worker.ts) on this bed's topic; tearDown kills it if still running. */
  startWorker(env: Record<string, string>): WorkerProcess {
    const worker = new WorkerProcess({ WORKER_TOPIC: this.topic.name, WORKER_GROUP: this.groupId, WORKER_DLQ: this.dlq, WORKER_REDIS_PREFIX: this.redisPrefix, ...env });
    this.onTearDown(async () => {
      worker.kill('SIGKILL');
      await worker.exited;
    });
    return worker;
  }

  publish(payment: PaymentSettled): Promise<void> {
    return this.producer.publish(this.topic, payment, { key: payment.merchant_id, correlationId: payment.payment_id });
  }

  onTearDown(stop: () => Promise<unknown>): void {
    this.cleanups.push(stop);
  }

  readonly setUp = async (): Promise<void> => {
    await createTopics(this.kafka, [{ name: this.topic.name, partitions: this.options.partitions }, { name: this.dlq, partitions: 1 }]);
    await this.producer.connect();
    if (this.options.redis) {
      this.redisClient = createRedis({ url: redisUrl(), keyPrefix: this.redisPrefix }, `payrail-int-${this.suffix}`);
      await this.redisClient.connect();
    }
  };

  readonly tearDown = async (): Promise<void> => {
    for (const stop of this.cleanups.reverse()) await stop();
    await this.producer.disconnect();
    if (this.redisClient) {
      await deleteKeys(this.redisClient, this.redisPrefix);
      await this.redisClient.quit();
    }
    await deleteTopics(this.kafka, [this.topic.name, this.dlq]);
  };
}
