// The Kafka channel over a real broker and Redis: an upstream publishes its signed payment, encrypted to ingest's
// inbound key (a JWS nested in a JWE), to the inbound topic instead of POSTing it; the same checks apply, refusals go
// to the rejections topic with the reason and the upstream's reference, and a redelivered message is accepted once.
// A message that is not encrypted (or not to ingest's key) is dead-lettered, its value sealed, with the reason.
import { randomUUID } from 'node:crypto';
import { DEAD_LETTER_TOPICS, DLQ_HEADERS, InboundPayment, PaymentAccepted, PaymentRejected, PaymentSubmission, TOPICS } from '@payrail/contracts';
import { generateDevKeys } from '@payrail/crypto';
import { EventProducer, seriesValue } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { InboundPaymentEncrypter, UpstreamClient, demoPayment, prng } from '@payrail/upstream-sdk';
import { INBOUND_REFUSED_METRIC } from '../src/payments/inbound.handler';
import { IngestFixture, IngestInstance, SeenMessage, ensurePayrailTopics, jsonValue, readTopic, startIngest, testKafka } from './ingest-harness';

/** Dead letters of ingest whose key is one of `keys`, once all arrived (or the time is up). */
const deadLetters = (keys: readonly string[]): Promise<SeenMessage[]> => readTopic(DEAD_LETTER_TOPICS.ingest, (m) => m.key !== undefined && keys.includes(m.key), { count: keys.length });

/** Messages of a topic (from the start) that `keep` selects, once `count` of them arrived or the time is up. */
async function collect<T>(topic: string, keep: (value: T) => boolean, count: number, settleMs: number, timeoutMs = 60_000): Promise<T[]> {
  const seen = await readTopic(topic, (m) => keep(jsonValue<T>(m) ?? ({} as T)), { count, settleMs, timeoutMs });
  return seen.map((m) => jsonValue<T>(m) ?? ({} as T));
}

describe('inbound topic (Kafka channel)', () => {
  let fixture: IngestFixture;
  let ingest: IngestInstance;
  let client: UpstreamClient;
  let upstreamId: string;
  let producer: EventProducer;
  let encrypter: InboundPaymentEncrypter;
  // a letter first: references `${run}-${i}` never hold 12 digits in a row (free text refuses card-like numbers)
  const run = `inbound-r${randomUUID().slice(0, 7)}`;
  const payment = (i: number): PaymentSubmission => ({ ...demoPayment(i, prng(i)).payment, upstream_reference: `${run}-${i}` });
  const publish = (data: InboundPayment, eventId: string, key = upstreamId) => producer.publish(TOPICS.paymentsInbound, data, { key, correlationId: eventId, eventId });
  /** The signed payment as upstreams publish it: encrypted to ingest's published inbound key. */
  const sealed = (jws: string, idempotencyKey?: string): Promise<InboundPayment> => encrypter.message(jws, idempotencyKey);

  beforeAll(async () => {
    await ensurePayrailTopics();
    fixture = await IngestFixture.create();
    const upstream = await fixture.addUpstream('kafka', { requests_per_second: 1, burst: 1 });
    upstreamId = upstream.id;
    ingest = await startIngest(fixture, {}, { consumeInbound: true });
    client = await ingest.client(upstream);
    encrypter = await InboundPaymentEncrypter.fetch(ingest.url); // GET /.well-known/payrail-inbound-jwks.json
    producer = new EventProducer(testKafka(`inbound-test-producer-${run}`), { source: 'payrail/test-upstream' });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await ingest?.close();
    fixture?.remove();
  });

  it('accepts signed, encrypted payments once each, also when a message is delivered twice, and is not rate limited', async () => {
    const events = await Promise.all([0, 1, 2, 3].map(async (i) => ({ data: await sealed(client.signPayment(payment(i)), `${run}-key-${i}`), eventId: randomUUID() })));
    for (const e of events) await publish(e.data, e.eventId);
    const [first] = events;
    if (!first) throw new Error('no events');
    await publish(first.data, first.eventId); // redelivered
    const noKey = await sealed(client.signPayment(payment(4)));
    const redelivered = randomUUID();
    await publish(noKey, redelivered);
    await publish(noKey, redelivered); // same event id: the same message again
    const accepted = await collect<PaymentAccepted>(TOPICS.paymentsAccepted.name, (v) => v.upstream_id === upstreamId, 5, 3_000);
    expect(accepted.map((a) => a.upstream_reference).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${run}-${i}`));
    for (const a of accepted) expect(a.payer.protected_jwe.split('.')).toHaveLength(5);
  });

  it('sends refusals to the rejections topic with the reason, correlated to the upstream reference', async () => {
    await publish(await sealed(client.signPayment({ ...payment(10), amount: { minor: '10.50', currency: 'EUR' } } as never)), randomUUID());
    const replayed = client.signPayment(payment(11));
    await publish(await sealed(replayed), randomUUID());
    await publish(await sealed(replayed), randomUUID()); // another message (another JWE), the same signed jti
    await publish(await sealed(client.signPayment({ ...payment(12), payee: { merchant_id: 'm-not-mine', mcc: '5814' } })), randomUUID());
    await publish(await sealed('bm90.YS1qd3M.c2ln'), randomUUID());
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

  it('dead-letters a plain JWS as inbound_not_encrypted and a JWE to a foreign key as inbound_key_unknown, sealed and counted', async () => {
    const metric = async (reason: string): Promise<number> => seriesValue(await ingest.app.get(MessagingRuntime).metrics.registry.metrics(), INBOUND_REFUSED_METRIC, { reason }) ?? 0;
    const before = { plain: await metric('inbound_not_encrypted'), foreign: await metric('inbound_key_unknown') };
    const plainKey = `${run}-plain`;
    const foreignKey = `${run}-foreign`;
    const jws = client.signPayment(payment(20));
    await publish({ jws, idempotency_key: `${run}-key-20` }, randomUUID(), plainKey);
    const { publicJwks } = await generateDevKeys({ withSigningKey: false });
    await publish(await (await InboundPaymentEncrypter.fromJwks(publicJwks)).message(client.signPayment(payment(21))), randomUUID(), foreignKey);

    const letters = await deadLetters([plainKey, foreignKey]);
    const byKey = new Map(letters.map((l) => [l.key, l]));
    const plain = byKey.get(plainKey);
    const foreign = byKey.get(foreignKey);
    expect(plain?.headers[DLQ_HEADERS.errorMessage]).toMatch(/^inbound_not_encrypted: /);
    expect(foreign?.headers[DLQ_HEADERS.errorMessage]).toMatch(/^inbound_key_unknown: /);
    for (const letter of [plain, foreign]) {
      expect(letter?.headers[DLQ_HEADERS.errorClass]).toBe('InboundPaymentRefusedError');
      expect(letter?.headers[DLQ_HEADERS.originalTopic]).toBe(TOPICS.paymentsInbound.name);
      expect(letter?.headers[DLQ_HEADERS.attempts]).toBe('1'); // permanent: not retried
      expect(letter?.headers[DLQ_HEADERS.valueProtection]).toBe('jwe');
      expect(letter?.value.split('.')).toHaveLength(5);
    }
    // the plain JWS is not readable in the dead letter: neither the token nor its payload
    expect(plain?.value).not.toContain(jws.split('.')[1] ?? '');
    expect(await metric('inbound_not_encrypted')).toBe(before.plain + 1);
    expect(await metric('inbound_key_unknown')).toBe(before.foreign + 1);
    // neither reached the signature checks: no acceptance, no rejection for them
    const accepted = await collect<PaymentAccepted>(TOPICS.paymentsAccepted.name, (v) => v.upstream_reference === `${run}-20` || v.upstream_reference === `${run}-21`, 0, 1_000, 5_000);
    expect(accepted).toEqual([]);
  });
});
