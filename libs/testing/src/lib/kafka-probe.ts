// Writing to and reading from a topic the way an end-to-end test needs it: put one raw message (say an undecodable
// one) on a topic a service consumes, and read a topic's messages with their headers from a point on.
import { randomUUID } from 'node:crypto';
import { TOPICS, type InboundPayment } from '@payrail/contracts';
import { EventProducer, createKafka, kafkaConnectionFromProcessEnv, partitionRanges, readPartitionRanges } from '@payrail/messaging';

export interface RawTopicMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

const client = (brokers: string[]) => createKafka({ ...kafkaConnectionFromProcessEnv(process.env, 'payrail-e2e-probe'), brokers, clientId: `payrail-e2e-probe-${randomUUID().slice(0, 8)}` });

/** Publishes one message exactly as given (no envelope, no schema) and says where it landed. */
export async function publishRawMessage(brokers: string[], topic: string, message: { key: string; value: string; headers?: Record<string, string> }): Promise<{ partition: number; offset: string }> {
  const producer = client(brokers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const [meta] = await producer.send({ topic, acks: -1, messages: [message] });
    if (!meta || meta.baseOffset === undefined) throw new Error(`no acknowledgement from ${topic}`);
    return { partition: meta.partition, offset: meta.baseOffset };
  } finally {
    await producer.disconnect();
  }
}

/**
 * Publishes inbound messages as an upstream does (CloudEvents headers, schema checked): values made with the upstream
 * SDK's InboundPaymentEncrypter.message (the signed payment encrypted to ingest's inbound key).
 */
export async function publishInboundPayments(brokers: string[], payments: readonly { key: string; value: InboundPayment }[]): Promise<void> {
  const producer = new EventProducer(client(brokers), { source: 'payrail/e2e-upstream' });
  await producer.connect();
  try {
    await Promise.all(payments.map(({ key, value }) => producer.publish(TOPICS.paymentsInbound, value, { key, correlationId: key })));
  } finally {
    await producer.disconnect();
  }
}

/** The end offset of every partition of a topic now (what `readTopicFrom` takes to read only what comes next). */
export async function topicEnds(brokers: string[], topic: string): Promise<Map<number, bigint>> {
  return new Map((await partitionRanges(client(brokers), topic)).map((r) => [r.partition, r.end]));
}

/** Every message of a topic from the given end offsets (or the start) up to its end now, with headers as text. */
export async function readTopicFrom(brokers: string[], topic: string, from: Map<number, bigint> = new Map()): Promise<RawTopicMessage[]> {
  const kafka = client(brokers);
  const ranges = (await partitionRanges(kafka, topic)).map((r) => {
    const start = from.get(r.partition) ?? r.start;
    return { ...r, start: start > r.start ? start : r.start };
  });
  const found: RawTopicMessage[] = [];
  await readPartitionRanges(kafka, ranges, (_topic, partition, m) => {
    const headers: Record<string, string> = {};
    for (const [name, v] of Object.entries(m.headers ?? {})) {
      const first = Array.isArray(v) ? v[0] : v;
      if (first !== undefined) headers[name] = first.toString();
    }
    found.push({ partition, offset: m.offset, key: m.key?.toString('utf8') ?? null, value: m.value?.toString('utf8') ?? null, headers });
    return 'continue';
  });
  return found;
}
