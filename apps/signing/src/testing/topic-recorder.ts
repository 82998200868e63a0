// Records, raw, every message that arrives on some topics after the recorder was created (its own consumer group
// starts at the topics' current end offsets, whatever earlier runs left on a shared broker), so a test can check
// what the services published: contents, keys, headers, and that no secret is in any of them.
import { randomUUID } from 'node:crypto';
import type { Kafka } from '@payrail/messaging';

export interface RecordedMessage {
  topic: string;
  partition: number;
  key: string;
  /** The value as text (every Payrail value is JSON). */
  value: string;
  headers: Record<string, string>;
  timestamp: number;
}

type Admin = ReturnType<Kafka['admin']>;

export async function endOffsets(admin: Admin, topic: string): Promise<Array<{ partition: number; offset: string }>> {
  return (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
}

/**
 * Puts a consumer group (with no running member) at the current end of its topics. A test uses it for the groups
 * of the services it starts, so they do not first work through what earlier runs left on a shared broker, and for
 * the groups of services it does not start, so they never see the test's messages.
 */
export async function moveGroupToEnd(kafka: Kafka, groupId: string, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [group] = (await admin.describeGroups([groupId])).groups;
    if (group && group.members.length > 0) throw new Error(`consumer group ${groupId} has running members: this test needs a broker where no ${groupId} runs`);
    for (const topic of topics) await admin.setOffsets({ groupId, topic, partitions: await endOffsets(admin, topic) });
  } finally {
    await admin.disconnect();
  }
}

export class TopicRecorder {
  readonly messages: RecordedMessage[] = [];

  private constructor(private readonly consumer: ReturnType<Kafka['consumer']>) {}

  static async start(kafka: Kafka, topics: string[]): Promise<TopicRecorder> {
    const groupId = `payrail-test-recorder-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of topics) await admin.setOffsets({ groupId, topic, partitions: await endOffsets(admin, topic) });
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
    const recorder = new TopicRecorder(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = Array.isArray(value) ? value.map(String).join(',') : String(value ?? '');
        recorder.messages.push({ topic, partition, key: message.key?.toString('utf8') ?? '', value: message.value?.toString('utf8') ?? '', headers, timestamp: Number(message.timestamp) });
      },
    });
    return recorder;
  }

  on(topic: string): RecordedMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** Waits until `done` holds over the recorded messages (checked every 100 ms). */
  async until(done: (messages: RecordedMessage[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
