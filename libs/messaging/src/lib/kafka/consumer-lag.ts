// Consumer lag of a group, from the Kafka admin API: per partition, the end of the log minus the group's committed
// offset. A partition the group never committed counts from the log start (Payrail's groups read from the
// beginning), and offsets are compared as bigint (they may exceed 2^53).
import type { Admin, Kafka } from 'kafkajs';

export interface PartitionLag {
  readonly partition: number;
  /** The group's committed offset (next to read), or null when it committed none. */
  readonly committed: string | null;
  /** The log end offset (high watermark). */
  readonly end: string;
  readonly lag: string;
}

export interface TopicLag {
  readonly topic: string;
  readonly partitions: readonly PartitionLag[];
  /** Sum over partitions. */
  readonly lag: string;
}

export interface GroupLag {
  readonly groupId: string;
  readonly topics: readonly TopicLag[];
  readonly lag: string;
}

export interface TopicExtent {
  readonly topic: string;
  /** Messages still retained (end - start, summed over partitions). */
  readonly retained: string;
  /** Messages ever written (sum of end offsets). */
  readonly written: string;
}

/** Lag of one partition: end - max(committed, start); never negative (a commit may race the watermark read). */
export function partitionLag(committed: string | null, start: string, end: string): bigint {
  const from = committed === null || BigInt(committed) < BigInt(start) ? BigInt(start) : BigInt(committed);
  const lag = BigInt(end) - from;
  return lag > 0n ? lag : 0n;
}

/** Reads committed offsets and watermarks with one admin connection (connect once, read often). */
export class ConsumerLagReader {
  private readonly admin: Admin;
  private connected = false;

  constructor(kafka: Kafka) {
    this.admin = kafka.admin();
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.admin.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.admin.disconnect();
  }

  /** The lag of `groupId` on each of `topics`. */
  async groupLag(groupId: string, topics: readonly string[]): Promise<GroupLag> {
    const [committedByTopic, watermarks] = await Promise.all([
      this.admin.fetchOffsets({ groupId, topics: [...topics] }),
      Promise.all(topics.map(async (topic) => ({ topic, offsets: await this.admin.fetchTopicOffsets(topic) }))),
    ]);
    const committed = new Map<string, string | null>();
    for (const t of committedByTopic) {
      for (const p of t.partitions) committed.set(`${t.topic}/${p.partition}`, p.offset === '-1' ? null : p.offset);
    }
    let total = 0n;
    const topicLags: TopicLag[] = watermarks.map(({ topic, offsets }) => {
      let topicTotal = 0n;
      const partitions = offsets
        .map((o) => {
          const c = committed.get(`${topic}/${o.partition}`) ?? null;
          const lag = partitionLag(c, o.low, o.high);
          topicTotal += lag;
          return { partition: o.partition, committed: c, end: o.high, lag: lag.toString() };
        })
        .sort((a, b) => a.partition - b.partition);
      total += topicTotal;
      return { topic, partitions, lag: topicTotal.toString() };
    });
    return { groupId, topics: topicLags, lag: total.toString() };
  }

  /** How many messages each topic holds now and has ever had (e.g. dead letters per stage). */
  async extents(topics: readonly string[]): Promise<TopicExtent[]> {
    return Promise.all(
      topics.map(async (topic) => {
        const offsets = await this.admin.fetchTopicOffsets(topic);
        let retained = 0n;
        let written = 0n;
        for (const o of offsets) {
          retained += BigInt(o.high) - BigInt(o.low);
          written += BigInt(o.high);
        }
        return { topic, retained: retained.toString(), written: written.toString() };
      }),
    );
  }
}
