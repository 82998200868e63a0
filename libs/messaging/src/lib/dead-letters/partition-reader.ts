// Reads fixed offset ranges of topic partitions once, without committing anything: kafkajs only consumes through a
// consumer group, so a throw-away group is used (no offsets committed) and deleted afterwards.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface PartitionRange {
  readonly topic: string;
  readonly partition: number;
  /** First offset to read. */
  readonly start: bigint;
  /** One past the last offset to read (e.g. the high watermark when the read started). */
  readonly end: bigint;
}

/** Return 'stop' to read no further in this message's partition. */
export type RangeVisitor = (topic: string, partition: number, message: KafkaMessage) => 'continue' | 'stop';

/** The offset range [low, high) of every partition of `topic`, clipped to [from, to] when given. */
export async function partitionRanges(kafka: Kafka, topic: string, clip: { partition?: number; from?: bigint; to?: bigint } = {}): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic));
    return offsets
      .filter((o) => clip.partition === undefined || o.partition === clip.partition)
      .map((o) => {
        const low = BigInt(o.low);
        const high = BigInt(o.high);
        const start = clip.from !== undefined && clip.from > low ? clip.from : low;
        const end = clip.to !== undefined && clip.to + 1n < high ? clip.to + 1n : high;
        return { topic, partition: o.partition, start, end };
      })
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/** From the first offset written at or after `sinceMs` (epoch ms) to the end of every partition of `topic`, as now. */
export async function partitionRangesSince(kafka: Kafka, topic: string, sinceMs: number): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [from, to] = await Promise.all([retryRetriable(() => admin.fetchTopicOffsetsByTimestamp(topic, sinceMs)), retryRetriable(() => admin.fetchTopicOffsets(topic))]);
    const high = new Map(to.map((o) => [o.partition, BigInt(o.high)]));
    return from.map((o) => ({ topic, partition: o.partition, start: BigInt(o.offset), end: high.get(o.partition) ?? BigInt(o.offset) })).sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Visits every message in the ranges, each partition in offset order (partitions in parallel), and resolves once
 * every range has been read or stopped. Fails after `timeoutMs` naming the partitions it could not finish.
 */
export async function readPartitionRanges(kafka: Kafka, ranges: readonly PartitionRange[], visit: RangeVisitor, options: { timeoutMs?: number; clientLabel?: string } = {}): Promise<void> {
  const open = new Map<string, PartitionRange>();
  for (const range of ranges) if (range.start < range.end) open.set(`${range.topic}\u0000${range.partition}`, range);
  if (open.size === 0) return;
  const groupId = `${options.clientLabel ?? 'payrail-partition-reader'}-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100, sessionTimeout: 30_000 });
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const close = (key: string) => {
    open.delete(key);
    if (open.size === 0) finish();
  };
  let timer: NodeJS.Timeout | undefined;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...new Set(ranges.map((r) => r.topic))], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = `${batch.topic}\u0000${batch.partition}`;
        const range = open.get(key);
        if (!range) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset < range.start) continue;
          if (offset >= range.end || visit(batch.topic, batch.partition, message) === 'stop') {
            close(key);
            return;
          }
        }
        if (BigInt(batch.lastOffset()) >= range.end - 1n) close(key);
      },
    });
    for (const range of open.values()) consumer.seek({ topic: range.topic, partition: range.partition, offset: range.start.toString() });
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`reading did not finish within ${timeoutMs} ms: ${[...open.values()].map((r) => `${r.topic}/${r.partition} [${r.start}, ${r.end})`).join(', ')}`)), timeoutMs);
    });
    await Promise.race([finished, timedOut]);
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect();
    await deleteGroupQuietly(kafka, groupId);
  }
}

/** Leadership moves right after a topic is created or a broker restarts: kafkajs marks such errors retriable. */
async function retryRetriable<T>(call: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const retriable = err instanceof Error && (err as Error & { retriable?: boolean }).retriable === true;
      if (!retriable || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function deleteGroupQuietly(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // an empty group without offsets expires on its own; nothing to clean up by hand
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
