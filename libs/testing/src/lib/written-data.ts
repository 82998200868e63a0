// Reads back everything the system wrote: every message (key, value, headers) of every Kafka topic from the
// beginning, every Redis key under a prefix with its value whatever its type, and service log files.
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createKafka, kafkaConnectionFromProcessEnv, createRedis } from '@payrail/messaging';
import type { WrittenText } from './plaintext-detector';

const text = (v: Buffer | string | null | undefined): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : v.toString('utf8'));

/**
 * Every message of every topic (internal topics aside), read up to the end offsets found when the call starts;
 * with `sinceMs`, only those produced from then on (the run being checked, not what earlier test layers wrote on
 * the same broker with synthetic data).
 */
export async function readAllKafkaMessages(brokers: string[], timeoutMs = 120_000, sinceMs = 0): Promise<WrittenText[]> {
  const kafka = createKafka({ ...kafkaConnectionFromProcessEnv(process.env, 'payrail-scan'), brokers, clientId: `payrail-scan-${randomUUID().slice(0, 8)}` });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, bigint>();
  let topics: string[];
  try {
    topics = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}/${p.partition}`, BigInt(p.high));
    }
  } finally {
    await admin.disconnect();
  }
  const found: WrittenText[] = [];
  if (ends.size === 0) return found;
  const consumer = kafka.consumer({ groupId: `payrail-scan-${randomUUID()}` });
  const remaining = new Set(ends.keys());
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const id = `${batch.topic}/${batch.partition}`;
        for (const m of batch.messages) {
          const headers = Object.entries(m.headers ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.map((x) => text(x)).join(',') : text(v)}`);
          if (Number(m.timestamp) >= sinceMs) found.push({ where: `kafka:${id}@${m.offset}`, text: [text(m.key), text(m.value), ...headers].join('\n') });
          if (BigInt(m.offset) + 1n >= (ends.get(id) ?? 0n)) remaining.delete(id);
        }
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (remaining.size > 0) {
      if (Date.now() > deadline) throw new Error(`Kafka scan did not reach the end of ${[...remaining].join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return found;
  } finally {
    await consumer.disconnect();
  }
}

/** Every key starting with `prefix` and its value(s), whatever the type. */
export async function readAllRedisKeys(url: string, prefix: string): Promise<WrittenText[]> {
  const redis = createRedis({ url, keyPrefix: '' }, 'payrail-scan');
  await redis.connect();
  const found: WrittenText[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        let values: string[] = [];
        if (type === 'string') values = [text(await redis.getBuffer(key))];
        else if (type === 'hash') values = Object.entries(await redis.hgetall(key)).flat();
        else if (type === 'set') values = await redis.smembers(key);
        else if (type === 'zset') values = await redis.zrange(key, 0, -1, 'WITHSCORES');
        else if (type === 'list') values = await redis.lrange(key, 0, -1);
        else if (type === 'stream') values = (await redis.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]);
        found.push({ where: `redis:${key}`, text: [key, ...values].join('\n') });
      }
    } while (cursor !== '0');
    return found;
  } finally {
    await redis.quit();
  }
}

/** Every line of every file in a directory (the services' logs). */
export function readLogFiles(dir: string): WrittenText[] {
  return readdirSync(dir).flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n').map((line, i) => ({ where: `log:${file}:${i + 1}`, text: line })));
}
