// Batching of EventProducer, against a stand-in for the kafkajs producer that records each produce request
// (the integration tests run it against the real broker).
import type { Kafka, ProducerBatch } from 'kafkajs';
import { EventProducer } from './event-producer';

interface Recorded {
  messages: number;
  bytes: number;
  keys: string[];
  inFlightAtStart: number;
}

/** `firstAck`: the first request is acknowledged only when it resolves (a deterministic in-flight window). */
function fakeKafka(ackDelayMs: number, firstAck?: Promise<void>): { kafka: Kafka; requests: Recorded[] } {
  const requests: Recorded[] = [];
  let inFlight = 0;
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    sendBatch: async (batch: ProducerBatch) => {
      const messages = (batch.topicMessages ?? []).flatMap((t) => t.messages);
      requests.push({
        messages: messages.length,
        bytes: messages.reduce((n, m) => n + String(m.value ?? '').length, 0),
        keys: messages.map((m) => String(m.key)),
        inFlightAtStart: inFlight,
      });
      inFlight++;
      if (firstAck && requests.length === 1) await firstAck;
      else await new Promise((resolve) => setTimeout(resolve, ackDelayMs));
      inFlight--;
      return [];
    },
  };
  return { kafka: { producer: () => producer } as unknown as Kafka, requests };
}

describe('EventProducer batching', () => {
  it('sends what was published while a request was in flight in the next one, one request at a time, in order', async () => {
    // the first request stays in flight until everything below was published, however slow the machine is
    let ackFirst: () => void = () => undefined;
    const firstAck = new Promise<void>((resolve) => (ackFirst = resolve));
    const { kafka, requests } = fakeKafka(200, firstAck);
    const producer = new EventProducer(kafka, { source: 'payrail/test', lingerMs: 5, maxBatchMessages: 1_000 });
    await producer.connect();
    const published: Promise<void>[] = [producer.publishRaw('t', { key: 'k-0', value: 'x' })];
    while (requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 1)); // the first request is in flight now
    // handlers publishing in waves while it is in flight (each wave longer apart than the linger)
    for (let wave = 0; wave < 5; wave++) {
      for (let i = 0; i < 100; i++) published.push(producer.publishRaw('t', { key: `k-${published.length}`, value: 'x' }));
      await new Promise((resolve) => setTimeout(resolve, 8));
    }
    // a burst larger than one request
    for (let i = 0; i < 2_300; i++) published.push(producer.publishRaw('t', { key: `k-${published.length}`, value: 'x' }));
    expect(requests.map((r) => r.messages)).toEqual([1]); // nothing else was sent while the first was in flight
    ackFirst();
    await Promise.all(published);
    expect(requests.map((r) => r.messages)).toEqual([1, 1_000, 1_000, 800]);
    expect(requests.every((r) => r.inFlightAtStart === 0)).toBe(true);
    expect(requests.flatMap((r) => r.keys)).toEqual(Array.from({ length: 2_801 }, (_, i) => `k-${i}`));
  });

  it('waits at most the linger time when quiet, and keeps each request under the byte limit', async () => {
    const { kafka, requests } = fakeKafka(1);
    const producer = new EventProducer(kafka, { source: 'payrail/test', lingerMs: 30, maxBatchBytes: 64 * 1024 });
    const started = Date.now();
    await producer.publishRaw('t', { key: 'quiet', value: 'x' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(requests).toHaveLength(1);

    const value = 'v'.repeat(10_000);
    await Promise.all(Array.from({ length: 20 }, (_, i) => producer.publishRaw('t', { key: `big-${i}`, value })));
    const big = requests.slice(1);
    expect(big.reduce((n, r) => n + r.messages, 0)).toBe(20);
    for (const r of big) expect(r.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(big.length).toBeGreaterThanOrEqual(4); // 200 KB of values in requests of at most 64 KB
  });

  it('rejects the publishes of a request that failed, and flush() waits for everything queued', async () => {
    const requests: number[] = [];
    let fail = true;
    const producer = new EventProducer(
      {
        producer: () => ({
          connect: async () => undefined,
          disconnect: async () => undefined,
          sendBatch: async (batch: ProducerBatch) => {
            requests.push((batch.topicMessages ?? []).flatMap((t) => t.messages).length);
            if (fail) throw new Error('broker unavailable');
            return [];
          },
        }),
      } as unknown as Kafka,
      { source: 'payrail/test', lingerMs: 1_000 },
    );
    const failed = producer.publishRaw('t', { key: 'a', value: 'x' });
    await producer.flush();
    await expect(failed).rejects.toThrow('broker unavailable');
    fail = false;
    const ok = producer.publishRaw('t', { key: 'b', value: 'x' });
    await producer.flush(); // does not wait for the 1 s linger
    await expect(ok).resolves.toBeUndefined();
    expect(requests).toEqual([1, 1]);
  });
});
