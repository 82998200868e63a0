// The status read model over a real broker and Redis: what an upstream is told on GET /v1/payments/{id} changes
// only with events their producers made. Genuine events (signed by Payrail's key, sealed by fraud-check and by
// settlement) move a payment to settled; forged ones (another key, no seal, another service's seal) are
// dead-lettered with the seal reason and a security alert, and the payment's status does not move. After a Redis
// loss the restore rebuilds the genuine history and skips the forged events.
import { randomUUID } from 'node:crypto';
import { DEAD_LETTER_TOPICS, DLQ_HEADERS, PAYMENT_INSTRUCTION_JWS_TYPE, PaymentScreened, PaymentSettled, PaymentSigned, SecurityAlert, TOPICS, TopicContract } from '@payrail/contracts';
import { JwsSigner, PayrailKeyStore, generateDevKeys } from '@payrail/crypto';
import { EventProducer } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { UpstreamClient, demoPayment, prng } from '@payrail/upstream-sdk';
import { PaymentStatusStore } from '../src/status/payment-status.store';
import { IngestFixture, IngestInstance, ensurePayrailTopics, jsonValue, readTopic, startIngest, testKafka } from './ingest-harness';

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('status read model: only what its producers made', () => {
  let fixture: IngestFixture;
  let ingest: IngestInstance;
  let client: UpstreamClient;
  let producer: EventProducer;
  // a letter first: references `${run}-${i}` never hold 12 digits in a row (free text refuses card-like numbers)
  const run = `status-r${randomUUID().slice(0, 7)}`;

  beforeAll(async () => {
    await ensurePayrailTopics();
    fixture = await IngestFixture.create();
    const upstream = await fixture.addUpstream('status', { requests_per_second: 100, burst: 100 });
    ingest = await startIngest(fixture, {}, { consumeStatus: true });
    client = await ingest.client(upstream);
    producer = new EventProducer(testKafka(`status-test-producer-${run}`), { source: 'payrail/test' });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await ingest?.close();
    fixture?.remove();
  });

  const accept = async (i: number): Promise<string> => {
    const res = await client.submit(client.signPayment({ ...demoPayment(i, prng(i)).payment, upstream_reference: `${run}-${i}` }));
    expect(res.status).toBe(202);
    return String(res.body['payment_id']);
  };
  const signed = (paymentId: string, signer: JwsSigner): PaymentSigned => ({ payment_id: paymentId, kid: 'k', instruction_jws: signer.sign({ payment_id: paymentId, signed_at: new Date().toISOString() }) });
  const screened = (paymentId: string): PaymentScreened => ({
    payment_id: paymentId,
    merchant_id: 'm-coffee-berlin',
    amount: { minor: '1250', currency: 'EUR' },
    decision: 'APPROVE',
    score: 0,
    reasons: [],
    ruleset_version: 'it-1',
    screened_at: new Date().toISOString(),
    instruction_jws: 'x.y.z',
  });
  const settled = (paymentId: string): PaymentSettled => ({
    payment_id: paymentId,
    merchant_id: 'm-coffee-berlin',
    amount: { minor: '1250', currency: 'EUR' },
    fee: { minor: '50', currency: 'EUR' },
    net: { minor: '1200', currency: 'EUR' },
    posted_at: new Date().toISOString(),
    batch_id: `m-coffee-berlin.EUR.${run}`,
  });
  const publish = async <E extends { payment_id: string }>(topic: TopicContract, event: E): Promise<void> => {
    await producer.publish(topic, event, { key: event.payment_id, correlationId: event.payment_id, eventId: randomUUID() });
  };

  it('moves a payment to settled on genuine events; forged ones are dead-lettered with an alert and change nothing; a restore after a loss skips them', async () => {
    const genuine = await accept(1);
    const target = await accept(2);
    const peers = fixture.peers;
    const stranger = new JwsSigner(await PayrailKeyStore.fromJwks((await generateDevKeys({ alg: 'ES256', withEncryptionKey: false })).privateJwks), { typ: PAYMENT_INSTRUCTION_JWS_TYPE });

    // forged, for `target`: Payrail's instruction signed by another key, a decision sealed with settlement's key
    // (the wrong service's), a settled event without a seal, and a settled event changed after sealing
    await publish(TOPICS.paymentsSigned, signed(target, stranger));
    await publish(TOPICS.paymentsScreened, { ...screened(target), seal: peers.settlementSealer.seal(screened(target)).seal });
    await publish(TOPICS.paymentsSettled, settled(target));
    await publish(TOPICS.paymentsSettled, { ...peers.settlementSealer.seal(settled(target)), net: { minor: '1250', currency: 'EUR' } });
    // genuine, for `genuine`
    await publish(TOPICS.paymentsSigned, signed(genuine, peers.signer));
    await publish(TOPICS.paymentsScreened, peers.fraudCheckSealer.seal(screened(genuine)));
    await publish(TOPICS.paymentsSettled, peers.settlementSealer.seal(settled(genuine)));

    const told = await eventually(async () => {
      const s = await client.status(genuine);
      // the three topics are consumed independently: settled may be recorded before signed or screened
      return s.body['state'] === 'settled' && (s.body['history'] as unknown[]).length === 4 ? s.body : undefined;
    }, 60_000, 'the genuine payment settled, with every stage recorded');
    expect((told['history'] as { stage: string }[]).map((h) => h.stage)).toEqual(['accepted', 'signed', 'screened', 'settled']);
    expect(told['settlement']).toMatchObject({ batch_id: `m-coffee-berlin.EUR.${run}`, fee: { minor: '50' }, net: { minor: '1200' } });

    const deadLetters = await readTopic(DEAD_LETTER_TOPICS.ingest, (m) => jsonValue<{ payment_id?: string }>(m)?.payment_id === target, { count: 4 });
    expect(deadLetters.map((d) => d.headers[DLQ_HEADERS.originalTopic]).sort()).toEqual([TOPICS.paymentsScreened.name, TOPICS.paymentsSettled.name, TOPICS.paymentsSettled.name, TOPICS.paymentsSigned.name].sort());
    for (const d of deadLetters) {
      expect(d.headers[DLQ_HEADERS.errorClass]).toBe('PermanentError');
      expect(d.headers[DLQ_HEADERS.errorMessage]).toMatch(/event seal (missing|does not verify \((signature|typ|kid|claims)\)): dead-lettered, not acted on/);
    }
    const alerts = await readTopic(TOPICS.securityAlerts.name, (m) => jsonValue<SecurityAlert>(m)?.payment_id === target, { count: 1 });
    expect(new Set(alerts.map((a) => jsonValue<SecurityAlert>(a)?.service))).toEqual(new Set(['ingest']));
    const untouched = await client.status(target);
    expect(untouched.body).toMatchObject({ state: 'accepted', final: false });
    expect((untouched.body['history'] as { stage: string }[]).map((h) => h.stage)).toEqual(['accepted']);

    // Redis loses the read model: the service's own restore (checked every 15 s) rebuilds the genuine history from
    // the four topics and skips the forged events
    const store = ingest.app.get(PaymentStatusStore);
    await ingest.app.get(MessagingRuntime).redis.del(`payment:{${genuine}}`, `payment:{${target}}`, 'status:restored');
    const restored = await eventually(async () => {
      const found = await store.find(genuine);
      return found?.view.state === 'settled' && found.view.history.length === 4 ? found.view : undefined;
    }, 60_000, 'the read model restored');
    expect(restored.history.map((h) => h.stage)).toEqual(['accepted', 'signed', 'screened', 'settled']);
    expect((await store.find(target))?.view).toMatchObject({ state: 'accepted', history: [{ stage: 'accepted' }] });
  });
});
