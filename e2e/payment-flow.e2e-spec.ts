// End to end across the four services running as separate processes (started by `npm test`): payments POSTed
// to ingest travel ingest -> signing -> fraud-check -> settlement over real Kafka, and their state is read back
// with an authenticated GET on ingest.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { UpstreamClient, demoPayment, prng, withLuhnDigit } from '@payrail/upstream-sdk';

const keys = JSON.parse(process.env['PAYRAIL_KEYS_JSON'] ?? '{}') as { upstreamKeysDir: string };
const ports = JSON.parse(process.env['PAYRAIL_PORTS_JSON'] ?? '{}') as Record<string, number>;
const ingestUrl = `http://127.0.0.1:${ports['ingest']}`;

async function waitForFinal(client: UpstreamClient, paymentId: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await client.status(paymentId);
    if (res.status === 200 && res.body['final'] === true) return res.body;
    if (Date.now() > deadline) throw new Error(`payment ${paymentId} not final: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('payment flow across ingest, signing, fraud-check and settlement', () => {
  let alpha: UpstreamClient;
  let beta: UpstreamClient;

  beforeAll(async () => {
    alpha = await UpstreamClient.open('psp-alpha', join(keys.upstreamKeysDir, 'psp-alpha', 'private.jwks.json'), ingestUrl);
    beta = await UpstreamClient.open('bank-beta', join(keys.upstreamKeysDir, 'bank-beta', 'private.jwks.json'), ingestUrl);
  });

  it('settles an ordinary card payment and records every stage with timestamps', async () => {
    const { payment } = demoPayment(1, () => 0.5);
    const res = await alpha.submit(alpha.signPayment(payment), randomUUID());
    expect(res.status).toBe(202);
    const paymentId = String(res.body['payment_id']);
    expect(res.headers.get('location')).toBe(`/v1/payments/${paymentId}`);
    const status = await waitForFinal(alpha, paymentId);
    expect(status['state']).toBe('settled');
    const stages = (status['history'] as { stage: string; at: string }[]).map((h) => h.stage);
    expect(stages).toEqual(['accepted', 'signed', 'screened', 'settled']);
    expect((status['settlement'] as { batch_id: string }).batch_id).toMatch(/^m-/);
  });

  it('declines a payment from a blocked BIN and puts a large one in review', async () => {
    const base = demoPayment(2, () => 0.5).payment;
    const blocked = { ...base, upstream_reference: `blocked-${randomUUID()}`, payer: { type: 'card' as const, card: { number: withLuhnDigit('400000123456789'), expiry_month: 5, expiry_year: 2030 } } };
    const large = { ...base, upstream_reference: `large-${randomUUID()}`, amount: { minor: '250000', currency: base.amount.currency } };
    const [a, b] = await Promise.all([alpha.submit(alpha.signPayment(blocked)), alpha.submit(alpha.signPayment(large))]);
    expect((await waitForFinal(alpha, String(a.body['payment_id'])))['state']).toBe('declined');
    const review = await waitForFinal(alpha, String(b.body['payment_id']));
    expect(review['state']).toBe('in_review');
    expect(JSON.stringify(review['decision'])).toContain('amount_limit');
    expect(JSON.stringify(review['decision'])).not.toContain('amount.review_limit'); // stable codes, never rule internals
  });

  it('answers a duplicate Idempotency-Key with the identical response and a changed body with 409', async () => {
    const { payment } = demoPayment(3, prng(3));
    const jws = alpha.signPayment(payment);
    const key = randomUUID();
    const responses = await Promise.all([1, 2, 3].map(() => alpha.submit(jws, key)));
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const changed = await alpha.submit(alpha.signPayment({ ...payment, description: 'changed' }), key);
    expect(changed.status).toBe(409);
    expect(changed.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses a replayed jti, an unknown key, and a schema error naming the field', async () => {
    const { payment } = demoPayment(4, prng(4));
    const jws = alpha.signPayment(payment, { jti: `jti-${randomUUID()}` });
    expect((await alpha.submit(jws)).status).toBe(202);
    const replay = await alpha.submit(jws);
    expect(replay.status).toBe(409);
    expect(replay.body['type']).toBe('https://payrail.dev/problems/replayed');

    const unknown = await alpha.submit('eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vYm9keSJ9.e30.AAAA');
    expect(unknown.status).toBe(401);

    const bad = await alpha.submit(alpha.signPayment({ ...payment, amount: { minor: '10.50', currency: 'EUR' } } as never));
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body['errors'])).toContain('#/payment/amount/minor');
  });

  it("does not show one upstream's payment to another (404)", async () => {
    const { payment } = demoPayment(5, prng(5));
    const res = await alpha.submit(alpha.signPayment(payment));
    const paymentId = String(res.body['payment_id']);
    expect((await alpha.status(paymentId)).status).toBe(200);
    expect((await beta.status(paymentId)).status).toBe(404);
  });
});
