// The raw-Kafka baseline: plain kafkajs, one hop (produce -> consume), batched as well as kafkajs allows, with the
// same durability as Payrail's producer (acks = all, idempotent). Payrail's numbers are reported as a ratio of it.
import { randomBytes, randomUUID } from 'node:crypto';
import { CompressionTypes, Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { sampleProcess } from './measure';

export interface RawHopOptions {
  brokers: string;
  messages: number;
  messageBytes: number;
  partitions: number;
  /** The run's admin (it creates its own topic). */
  sasl?: SASLOptions;
  /** Messages per produce request. */
  batchSize?: number;
  /** Produce requests in flight at once (spread over partitions). */
  concurrency?: number;
  /** The broker's pid on this machine: its CPU over the hop is measured too (/proc). */
  brokerPid?: number;
}

export interface RawHopResult {
  perS: number;
  seconds: number;
  messages: number;
  /** CPU (user + system) of this process, producer and consumer together, from the first send to the last message read. */
  clientCpuSeconds: number;
  /** The broker's CPU over the same interval; undefined without brokerPid or when /proc could not be read. */
  brokerCpuSeconds?: number;
}

/** Produces `messages` values of `messageBytes` to a fresh topic and consumes them all; rate = messages / wall time. */
export async function rawSingleHop(o: RawHopOptions): Promise<RawHopResult> {
  const kafka = new Kafka({ clientId: 'payrail-bench-raw', brokers: o.brokers.split(','), ...(o.sasl ? { sasl: o.sasl } : {}), logLevel: logLevel.NOTHING });
  const topic = `payrail.bench.raw.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: o.partitions, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `${topic}.reader`, maxWaitTimeInMs: 20, maxBytesPerPartition: 4 * 1024 * 1024 });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });

  let received = 0;
  let finished: () => void = () => undefined;
  const allReceived = new Promise<void>((r) => (finished = r));
  const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
  await consumer.run({
    partitionsConsumedConcurrently: o.partitions,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) if (m.value) received++;
      if (received >= o.messages) finished();
    },
  });
  await joined;

  const value = randomBytes(Math.ceil(o.messageBytes / 2)).toString('hex').slice(0, o.messageBytes);
  const batchSize = o.batchSize ?? 500;
  const concurrency = o.concurrency ?? 4;
  const brokerBefore = o.brokerPid === undefined ? undefined : sampleProcess(o.brokerPid);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  let next = 0;
  const sender = async () => {
    while (next < o.messages) {
      const from = next;
      next = Math.min(o.messages, next + batchSize);
      const messages = Array.from({ length: next - from }, (_, i) => ({ key: String((from + i) % 4096), value }));
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  await allReceived;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const brokerAfter = o.brokerPid === undefined ? undefined : sampleProcess(o.brokerPid);

  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  return {
    perS: o.messages / seconds,
    seconds,
    messages: o.messages,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    ...(brokerBefore && brokerAfter ? { brokerCpuSeconds: brokerAfter.cpuSeconds - brokerBefore.cpuSeconds } : {}),
  };
}
