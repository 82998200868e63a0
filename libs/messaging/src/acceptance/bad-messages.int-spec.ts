// Acceptance: schema-invalid, undecodable and wrong-version messages are dead-lettered at once (one attempt, the
// handler never sees them) with the error class and a reason that names what is wrong, and the consumer keeps
// running: the good messages around them are all handled and every offset is committed.
import type { Message } from 'kafkajs';
import { CE_HEADERS, DLQ_HEADERS, PaymentSettled } from '@payrail/contracts';
import { BatchConsumer, ConsumedEvent } from '../lib/kafka/batch-consumer';
import { TestBed, readTopic, settledPayment, silentLogger, uncommitted, waitUntil } from '../test/kafka-test-kit';

describe('acceptance: bad messages never crash the consumer', () => {
  const bed = new TestBed('bad', { partitions: 1 });
  const { topic, dlq, groupId, kafka, producer, suffix } = bed;
  beforeAll(bed.setUp);
  afterAll(bed.tearDown);

  it('dead-letters each with a clear reason after one attempt and keeps handling the good ones', async () => {
    const merchants = [`merchant-${suffix}`];
    const good = (n: number) => settledPayment(n, merchants);
    const encoded = (p: PaymentSettled): Message => producer.encode(topic, p, { key: p.merchant_id, correlationId: p.payment_id });
    const withHeaders = (p: PaymentSettled, headers: Record<string, string>, value: Message['value']): Message => {
      const m = encoded(p);
      return { key: m.key, value, headers: { ...(m.headers as Record<string, string>), ...headers } };
    };
    const g = Array.from({ length: 6 }, (_, n) => good(n));
    const [g0, g1, g2, g3, g4, g5] = g as [PaymentSettled, PaymentSettled, PaymentSettled, PaymentSettled, PaymentSettled, PaymentSettled];
    const bad: { name: string; message: Message; errorClass: string; reason: RegExp }[] = [
      { name: 'no envelope headers', message: { key: g0.merchant_id, value: JSON.stringify(good(100)) }, errorClass: 'UndecodableMessageError', reason: /^envelope: missing header ce_specversion/ },
      { name: 'bad envelope time', message: withHeaders(good(101), { [CE_HEADERS.time]: 'yesterday' }, JSON.stringify(good(101))), errorClass: 'UndecodableMessageError', reason: /ce_time/ },
      { name: 'value not JSON', message: withHeaders(good(102), {}, '{"payment_id": '), errorClass: 'UndecodableMessageError', reason: /^message value is not valid JSON$/ },
      { name: 'binary garbage', message: withHeaders(good(103), {}, Buffer.from([0xff, 0x00, 0xfe, 0x01])), errorClass: 'UndecodableMessageError', reason: /not valid JSON/ },
      { name: 'empty value (tombstone)', message: withHeaders(good(104), {}, null), errorClass: 'UndecodableMessageError', reason: /^empty message value$/ },
      { name: 'amount as a decimal', message: withHeaders(good(105), {}, JSON.stringify({ ...good(105), net: { minor: '10.50', currency: 'EUR' } })), errorClass: 'SchemaInvalidError', reason: /^schema: net\.minor: / },
      { name: 'missing field', message: withHeaders(good(106), {}, JSON.stringify({ ...good(106), batch_id: undefined })), errorClass: 'SchemaInvalidError', reason: /^schema: batch_id: / },
      { name: 'schema version 2', message: withHeaders(good(107), { [CE_HEADERS.schemaversion]: '2' }, JSON.stringify(good(107))), errorClass: 'WrongVersionError', reason: /expected dev\.payrail\.payment\.settled\.v1 schema version 1, got dev\.payrail\.payment\.settled\.v1 version 2/ },
      { name: 'another event type', message: withHeaders(good(108), { [CE_HEADERS.type]: 'dev.payrail.payment.signed.v1' }, JSON.stringify(good(108))), errorClass: 'WrongVersionError', reason: /got dev\.payrail\.payment\.signed\.v1 version 1/ },
    ];
    // good, bad, bad, good, ... on one partition, all with the same key: the bad ones must not hold the key up
    const sequence: Message[] = [encoded(g0), ...bad.slice(0, 3).map((b) => b.message), encoded(g1), ...bad.slice(3, 6).map((b) => b.message), encoded(g2), encoded(g3), ...bad.slice(6).map((b) => b.message), encoded(g4), encoded(g5)];
    for (const message of sequence) await producer.publishRaw(topic.name, { ...message, key: g0.merchant_id });

    const seen: string[] = [];
    const states = new Set<string>();
    const handler = async (event: ConsumedEvent) => {
      seen.push((event.data as PaymentSettled).payment_id);
      states.add(consumer.state);
    };
    const consumer = new BatchConsumer(kafka, { groupId, routes: [{ topic, handler }], deadLetterTopic: dlq, producer, logger: silentLogger });
    bed.onTearDown(() => consumer.stop());
    await consumer.start();
    await waitUntil(() => seen.length === g.length, 30_000, 'the good messages');
    await waitUntil(async () => (await uncommitted(kafka, groupId, topic.name)) === 0, 30_000, 'every offset committed');

    expect(seen).toEqual(g.map((p) => p.payment_id)); // in order, and nothing else reached the handler
    expect(consumer.state).toBe('running');
    expect([...states]).toEqual(['running']);
    const letters = await readTopic(kafka, dlq, bad.length);
    expect(letters).toHaveLength(bad.length);
    const byOffset = [...letters].sort((a, b) => Number(a.headers[DLQ_HEADERS.originalOffset]) - Number(b.headers[DLQ_HEADERS.originalOffset]));
    byOffset.forEach((letter, i) => {
      const want = bad[i];
      if (!want) throw new Error('more letters than bad messages');
      expect({ name: want.name, errorClass: letter.headers[DLQ_HEADERS.errorClass], attempts: letter.headers[DLQ_HEADERS.attempts] }).toEqual({ name: want.name, errorClass: want.errorClass, attempts: '1' });
      expect(letter.headers[DLQ_HEADERS.errorMessage]).toMatch(want.reason);
      expect(letter.headers[DLQ_HEADERS.originalTopic]).toBe(topic.name);
      expect(letter.value).toBe(want.message.value === null ? undefined : Buffer.from(want.message.value as string | Buffer).toString('utf8'));
    });
  });
});
