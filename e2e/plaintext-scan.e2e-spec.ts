// Card and account numbers leave ingest only protected (JWE + keyed fingerprint + mask). This end-to-end run
// submits payments with card and account numbers made up for it (accepted ones, duplicates, refused ones), follows
// them through the four services, then reads back everything the pipeline wrote (every message of every Kafka
// topic, every Redis key of the run's prefix, every line of the services' logs) and looks for those numbers, and for
// anything else that looks like a card number. It must find none.
import { randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PaymentSubmission, TOPICS } from '@payrail/contracts';
import { findPlaintextNumbers, readAllKafkaMessages, readAllRedisKeys, readLogFiles } from '@payrail/testing';
import { UpstreamClient, demoPayment, prng, withLuhnDigit } from '@payrail/upstream-sdk';

const keys = JSON.parse(process.env['PAYRAIL_KEYS_JSON'] ?? '{}') as { upstreamKeysDir: string };
const ports = JSON.parse(process.env['PAYRAIL_PORTS_JSON'] ?? '{}') as Record<string, number>;
const runDir = process.env['PAYRAIL_TEST_RUN_DIR'] ?? '';
const ingestUrl = `http://127.0.0.1:${ports['ingest']}`;

const digits = (n: number): string => Array.from({ length: n }, () => String(randomInt(10))).join('');
const maskedPan = (pan: string): string => `${pan.slice(0, 6)}${'*'.repeat(pan.length - 10)}${pan.slice(-4)}`;

async function waitForFinal(client: UpstreamClient, paymentId: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await client.status(paymentId);
    if (res.status === 200 && res.body['final'] === true) return;
    if (Date.now() > deadline) throw new Error(`payment ${paymentId} not final: ${res.status} ${String(res.body['state'] ?? res.body['type'])}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// everything the pipeline wrote since the e2e layer started (the integration layer before it used the same broker;
// the detector leaves amounts in minor units alone: velocity sums of its synthetic payments pass the Luhn check)
const e2eStartedMs = Number(process.env['PAYRAIL_E2E_STARTED_MS'] ?? Date.now() - 10 * 60_000);

describe('no plaintext card or account number in Kafka, Redis or the logs', () => {
  it('finds none after an end-to-end run with cards, accounts, duplicates and refusals', async () => {
    const alpha = await UpstreamClient.open('psp-alpha', join(keys.upstreamKeysDir, 'psp-alpha', 'private.jwks.json'), ingestUrl);
    const beta = await UpstreamClient.open('bank-beta', join(keys.upstreamKeysDir, 'bank-beta', 'private.jwks.json'), ingestUrl);
    const run = randomUUID().slice(0, 8);
    const cards = Array.from({ length: 24 }, (_, i) => withLuhnDigit(`${i % 2 === 0 ? '4' : '5'}${digits(14)}`));
    const accounts = Array.from({ length: 12 }, () => `DE${digits(20)}`);
    const base = (i: number): PaymentSubmission => ({ ...demoPayment(i, prng(i + 17)).payment, upstream_reference: `scan-${run}-${i}`, amount: { minor: String(100 + i), currency: 'EUR' } });
    const card = (i: number, number: string): PaymentSubmission => ({ ...base(i), payer: { type: 'card', card: { number, expiry_month: 1 + (i % 12), expiry_year: 2031, country: 'DE' } } });
    const account = (i: number, number: string): PaymentSubmission => ({ ...base(i), payer: { type: 'account', account: { number, country: 'DE' } } });

    const accepted: { client: UpstreamClient; paymentId: string; masked?: string }[] = [];
    const submissions = [
      ...cards.slice(0, 20).map((n, i) => ({ payment: card(i, n), masked: maskedPan(n) })),
      ...accounts.slice(0, 10).map((n, i) => ({ payment: account(100 + i, n), masked: undefined })),
    ];
    await Promise.all(
      submissions.map(async ({ payment, masked }, i) => {
        const client = i % 2 === 0 ? alpha : beta;
        const key = `scan-${run}-key-${i}`;
        // half compact JWS, half JSON with a detached JWS; every one sent twice with its Idempotency-Key
        const first =
          i % 4 < 2 ? await client.submit(client.signPayment(payment), key) : await client.submitDetached(client.signPaymentDetached(payment), key);
        expect(first.status).toBe(202);
        const again = i % 4 < 2 ? await client.submit(client.signPayment(payment), key) : await client.submitDetached(client.signPaymentDetached(payment), key);
        expect(again.body).toEqual(first.body);
        accepted.push({ client, paymentId: String(first.body['payment_id']), masked });
      }),
    );

    // refused with the number inside: a failed Luhn check, a stale signature, a changed payment under a used key
    const badLuhn = cards[20]?.replace(/.$/, (d) => String((Number(d) + 1) % 10)) ?? '';
    expect((await alpha.submit(alpha.signPayment(card(200, badLuhn)))).status).toBe(422);
    expect((await alpha.submit(alpha.signPayment(card(201, cards[21] ?? ''), { iat: Math.floor(Date.now() / 1000) - 3600 }))).status).toBe(401);
    expect((await beta.submitDetached(beta.signPaymentDetached(account(202, accounts[10] ?? '')), `scan-${run}-key-1`)).status).toBe(409);
    expect((await alpha.submit(alpha.signPayment({ ...card(203, cards[22] ?? ''), amount: { minor: '10.5', currency: 'EUR' } } as never))).status).toBe(422);

    for (const { client, paymentId } of accepted) await waitForFinal(client, paymentId);

    const [kafka, redis] = await Promise.all([readAllKafkaMessages((process.env['KAFKA_BROKERS'] ?? '').split(','), 120_000, e2eStartedMs), readAllRedisKeys(process.env['REDIS_URL'] ?? '', process.env['REDIS_KEY_PREFIX'] ?? '')]);
    const logs = readLogFiles(join(runDir, 'logs'));

    // the scan saw the pipeline's data: every payment on the topics (with its masked card), in Redis, and in the logs
    const kafkaText = kafka.map((t) => t.text).join('\n');
    const redisText = redis.map((t) => t.text).join('\n');
    for (const { paymentId, masked } of accepted) {
      expect(kafkaText).toContain(paymentId);
      if (masked) expect(kafkaText).toContain(masked);
      expect(redisText).toContain(`payment:{${paymentId}}`);
    }
    const topics = new Set(kafka.map((t) => t.where.slice('kafka:'.length).split('/')[0]));
    for (const topic of [TOPICS.paymentsAccepted, TOPICS.paymentsSigned, TOPICS.paymentsScreened, TOPICS.paymentsSettled]) expect(topics).toContain(topic.name);
    for (const service of ['ingest', 'signing', 'fraud-check', 'settlement']) expect(logs.some((l) => l.where.startsWith(`log:${service}.log:`) && l.text.length > 0)).toBe(true);

    const findings = findPlaintextNumbers([...kafka, ...redis, ...logs], { cards: [...cards.slice(0, 23), badLuhn], accounts });
    expect(findings).toEqual([]);
  });
});
