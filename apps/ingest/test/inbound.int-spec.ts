// The Kafka channel over a real broker and Redis: an upstream publishes its signed payment to the inbound topic
// instead of POSTing it; the same checks apply, refusals go to the rejections topic with the reason and the
// upstream's reference, and a redelivered message is accepted once.
import { randomUUID } from 'node:crypto';
import { InboundPayment, PaymentAccepted, PaymentRejected, PaymentSubmission, TOPICS } from '@payrail/contracts';
import { EventProducer } from '@payrail/messaging';
import { UpstreamClient, demoPayment, prng } from '@payrail/upstream-sdk';
import { IngestFixture, IngestInstance, ensurePayrailTopics, startIngest, testKafka } from './ingest-harness';

/** Messages of a topic (from the start) that `keep` selects, once `count` of them arrived or the time is up. */
async function collect<T>(topic: string, keep: (value: T) => boolean, count: number, settleMs: number, timeoutMs = 60_000): Promise<T[]> {
  const consumer = testKafka(`inbound-test-${randomUUID().slice(0, 8)}`).consumer({ groupId: `inbound-test-${randomUUID()}` });
  const found: T[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = JSON.parse(message.value?.toString('utf8') ?? '{}') as T;
        if (keep(value)) found.push(value);
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (found.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, settleMs)); // anything more than expected would show up now
    return found;
  } finally {
    await consumer.disconnect();
  }
}

describe('inbound topic (Kafka channel)', () => {
  let fixture: IngestFixture;
  let ingest: IngestInstance;
  let client: UpstreamClient;
  let upstreamId: string;
  let producer: EventProducer;
  const run = `inbound-${randomUUID().slice(0, 8)}`;
  const payment = (i: number): PaymentSubmission => ({ ...demoPayment(i, prng(i)).payment, upstream_reference: `${run}-${i}` });
  const publish = (data: InboundPayment, eventId: string) => producer.publish(TOPICS.paymentsInbound, data, { key: upstreamId, correlationId: eventId, eventId });

  beforeAll(async () => {
    await ensurePayrailTopics();
    fixture = await IngestFixture.create();
    const upstream = await fixture.addUpstream('kafka', { requests_per_second: 1, burst: 1 });
    upstreamId = upstream.id;
    ingest = await startIngest(fixture, {}, { consumeInbound: true });
    client = await ingest.client(upstream);
    producer = new EventProducer(testKafka(`inbound-test-producer-${run}`), { source: 'payrail/test-upstream' });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await ingest?.close();
    fixture?.remove();
  });

  it('accepts signed payments once each, also when a message is delivered twice, and is not rate limited', async () => {
    const events = [0, 1, 2, 3].map((i) => ({ data: { jws: client.signPayment(payment(i)), idempotency_key: `${run}-key-${i}` }, eventId: randomUUID() }));
    for (const e of events) await publish(e.data, e.eventId);
    await publish(events[0]?.data ?? { jws: '' }, events[0]?.eventId ?? ''); // redelivered
    const noKey = client.signPayment(payment(4));
    const redelivered = randomUUID();
    await publish({ jws: noKey }, redelivered);
    await publish({ jws: noKey }, redelivered); // same event id: the same message again
    const accepted = await collect<PaymentAccepted>(TOPICS.paymentsAccepted.name, (v) => v.upstream_id === upstreamId, 5, 3_000);
    expect(accepted.map((a) => a.upstream_reference).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${run}-${i}`));
    for (const a of accepted) expect(a.payer.protected_jwe.split('.')).toHaveLength(5);
  });

  it('sends refusals to the rejections topic with the reason, correlated to the upstream reference', async () => {
    await publish({ jws: client.signPayment({ ...payment(10), amount: { minor: '10.50', currency: 'EUR' } } as never) }, randomUUID());
    const replayed = client.signPayment(payment(11));
    await publish({ jws: replayed }, randomUUID());
    await publish({ jws: replayed }, randomUUID()); // another message, the same jti
    await publish({ jws: client.signPayment({ ...payment(12), payee: { merchant_id: 'm-not-mine', mcc: '5814' } }) }, randomUUID());
    await publish({ jws: 'not-a-jws' }, randomUUID());
    const rejected = await collect<PaymentRejected>(
      TOPICS.paymentsRejected.name,
      (v) => v.upstream_id === upstreamId || v.upstream_id === undefined,
      3,
      3_000,
    );
    const mine = rejected.filter((r) => r.upstream_id === upstreamId);
    expect(mine.map((r) => [r.reason, r.upstream_reference, r.channel]).sort()).toEqual([
      ['merchant_not_allowed', `${run}-12`, 'kafka'],
      ['replayed', `${run}-11`, 'kafka'],
      ['schema_invalid', `${run}-10`, 'kafka'],
    ]);
    expect(mine.find((r) => r.reason === 'schema_invalid')?.detail).toContain('#/payment/amount/minor');
    expect(mine.find((r) => r.reason === 'merchant_not_allowed')?.detail).toContain('m-not-mine');
    expect(rejected.some((r) => r.upstream_id === undefined && r.reason === 'unknown_upstream')).toBe(true);
  });
});
