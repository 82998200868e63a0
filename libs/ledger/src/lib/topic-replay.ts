// Reads a topic from its first retained offset up to its end as it was when the replay started (the high
// watermarks), decoding each message with the topic's contract. Used by reconcile and rebuild: Kafka keeps the
// history (the screened, settled and batch topics), Redis keeps nothing on disk. The consumer group is a fresh,
// never-committed one, so a replay moves no service's offsets.
import { randomUUID } from 'node:crypto';
import { TOPIC_RESTORES, type EventEnvelope, type TopicContract } from '@payrail/contracts';
import { Kafka, decode } from '@payrail/messaging';

export interface ReplayedEvent<T> {
  partition: number;
  offset: string;
  key: string | undefined;
  envelope: EventEnvelope;
  data: T;
}

export interface ReplayStats {
  topic: string;
  events: number;
  /** Messages that failed the contract (they went to the dead-letter topic when first consumed). */
  undecodable: number;
}

/**
 * Calls onBatch with the decoded messages of each fetched batch of one partition, in offset order; batches of
 * one partition never overlap, batches of different partitions may run concurrently (up to `partitionsConcurrently`).
 */
export async function replayTopic<T>(kafka: Kafka, topic: TopicContract, onBatch: (events: ReplayedEvent<T>[]) => Promise<void>, options: { partitionsConcurrently?: number } = {}): Promise<ReplayStats> {
  const stats: ReplayStats = { topic: topic.name, events: 0, undecodable: 0 };
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${TOPIC_RESTORES.settlementLedger.label}-${randomUUID()}`;
  try {
    const offsets = await admin.fetchTopicOffsets(topic.name);
    const remaining = new Map<number, bigint>();
    for (const o of offsets) if (BigInt(o.high) > BigInt(o.low)) remaining.set(o.partition, BigInt(o.high));
    if (remaining.size === 0) return stats;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100, sessionTimeout: 30_000 });
    await consumer.connect();
    let failed: Error | undefined;
    const done = new Promise<void>((resolve, reject) => {
      void consumer.subscribe({ topics: [topic.name], fromBeginning: true }).then(() =>
        consumer.run({
          autoCommit: false,
          partitionsConsumedConcurrently: options.partitionsConcurrently ?? 4,
          eachBatch: async ({ batch, heartbeat }) => {
            const high = remaining.get(batch.partition);
            if (high === undefined) return;
            const events: ReplayedEvent<T>[] = [];
            for (const message of batch.messages) {
              if (BigInt(message.offset) >= high) break;
              try {
                const decoded = decode(topic, message);
                events.push({ partition: batch.partition, offset: message.offset, key: message.key?.toString('utf8'), envelope: decoded.envelope, data: decoded.data as T });
              } catch {
                stats.undecodable++;
              }
            }
            try {
              if (events.length > 0) await onBatch(events);
            } catch (err) {
              failed = err as Error;
              reject(failed);
              return;
            }
            stats.events += events.length;
            await heartbeat();
            if (BigInt(batch.lastOffset()) + 1n >= high) {
              remaining.delete(batch.partition);
              if (remaining.size === 0) resolve();
            }
          },
        }),
      ).catch(reject);
    });
    try {
      await done;
    } finally {
      await consumer.disconnect();
    }
    if (failed) throw failed;
    return stats;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/** Runs fn over items with at most `concurrency` at once, items with the same key one after another in order. */
export async function runKeyed<T>(items: readonly T[], keyOf: (item: T) => string, fn: (item: T) => Promise<void>, concurrency = 64): Promise<void> {
  const queues = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const q = queues.get(key);
    if (q) q.push(item);
    else queues.set(key, [item]);
  }
  const lists = [...queues.values()];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lists.length) {
      const list = lists[next++];
      if (!list) break;
      for (const item of list) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, lists.length) }, worker));
}
