// Card and account numbers leave ingest only protected (JWE + keyed fingerprint + mask). This end-to-end run
// submits payments with card and account numbers made up for it over HTTP (accepted ones, duplicates, refused ones)
// and over the inbound Kafka topic (signed and encrypted to ingest's inbound key, as upstreams publish them: accepted
// ones and one that fails and is dead-lettered), follows them through the four services, then reads back everything
// the pipeline wrote (every message of every Kafka topic listed by the broker, inbound and dead-letter topics
// included; every Redis value of the run's prefix; every line of the services' logs; the HTTP answers) and looks for
// those numbers, and anything else that looks like a card number, in decimal, base64, base64url and hex, nested too
// (a JWS payload is base64url of JSON). It writes its report to <run dir>/plaintext-scan-report.json. Any number
// found on a Payrail topic, the inbound one included, fails the run.
import { randomInt, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DLQ_HEADERS, DEAD_LETTER_TOPICS, PaymentAccepted, PaymentSubmission, TOPICS } from '@payrail/contracts';
import { type WrittenText, publishInboundPayments, publishRawMessage, readAllKafkaMessages, readAllRedisKeys, readLogFiles, readTopicFrom, scanWrittenData, topicEnds } from '@payrail/testing';
import { InboundPaymentEncrypter, UpstreamClient, demoPayment, prng, withLuhnDigit } from '@payrail/upstream-sdk';

const keys = JSON.parse(process.env['PAYRAIL_KEYS_JSON'] ?? '{}') as { upstreamKeysDir: string };
const ports = JSON.parse(process.env['PAYRAIL_PORTS_JSON'] ?? '{}') as Record<string, number>;
const runDir = process.env['PAYRAIL_TEST_RUN_DIR'] ?? '';
const ingestUrl = `http://127.0.0.1:${ports['ingest']}`;

const digits = (n: number): string => Array.from({ length: n }, () => String(randomInt(10))).join('');
// the mask ingest writes: first 4 and last 4 of a 16-digit number (never more than half the digits)
const maskedPan = (pan: string): string => `${pan.slice(0, 4)}${'*'.repeat(pan.length - 8)}${pan.slice(-4)}`;
const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

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
    // a letter first: references `scan-${run}-${i}` never hold 12 digits in a row (free text refuses card-like numbers)
    const run = `r${randomUUID().slice(0, 7)}`;
    const cards = Array.from({ length: 28 }, (_, i) => withLuhnDigit(`${i % 2 === 0 ? '4' : '5'}${digits(14)}`));
    const http: WrittenText[] = [];
    const answered = <R extends { status: number; body: unknown }>(label: string, res: R): R => {
      http.push({ where: `http:${label}`, text: JSON.stringify(res.body) });
      return res;
    };
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
        const first = answered(
          `submit-${i}`,
          i % 4 < 2 ? await client.submit(client.signPayment(payment), key) : await client.submitDetached(client.signPaymentDetached(payment), key),
        );
        expect(first.status).toBe(202);
        const again = answered(`resubmit-${i}`, i % 4 < 2 ? await client.submit(client.signPayment(payment), key) : await client.submitDetached(client.signPaymentDetached(payment), key));
        expect(again.body).toEqual(first.body);
        accepted.push({ client, paymentId: String(first.body['payment_id']), masked });
      }),
    );

    // refused with the number inside: a failed Luhn check, a stale signature, a changed payment under a used key
    const badLuhn = cards[20]?.replace(/.$/, (d) => String((Number(d) + 1) % 10)) ?? '';
    expect(answered('bad-luhn', await alpha.submit(alpha.signPayment(card(200, badLuhn)))).status).toBe(422);
    expect(answered('stale', await alpha.submit(alpha.signPayment(card(201, cards[21] ?? ''), { iat: Math.floor(Date.now() / 1000) - 3600 }))).status).toBe(401);
    expect(answered('conflict', await beta.submitDetached(beta.signPaymentDetached(account(202, accounts[10] ?? '')), `scan-${run}-key-1`)).status).toBe(409);
    expect(answered('bad-amount', await alpha.submit(alpha.signPayment({ ...card(203, cards[22] ?? ''), amount: { minor: '10.5', currency: 'EUR' } } as never))).status).toBe(422);
    // a card number in free text is refused, and not echoed
    const freeText = answered('free-text', await alpha.submit(alpha.signPayment({ ...card(204, cards[23] ?? ''), description: `card ${cards[24] ?? ''}` })));
    expect(freeText.status).toBe(422);

    // over the inbound topic, encrypted to the key ingest publishes: three card payments accepted, and one message
    // ingest cannot decode (dead-lettered)
    const acceptedEnds = await topicEnds(brokers, TOPICS.paymentsAccepted.name);
    const dlqEnds = await topicEnds(brokers, DEAD_LETTER_TOPICS.ingest);
    const encrypter = await InboundPaymentEncrypter.fetch(ingestUrl);
    const inboundCards = cards.slice(25, 28);
    const inbound = await Promise.all(
      inboundCards.map(async (n, i) => {
        const reference = `scan-${run}-inbound-${i}`;
        return { reference, value: await encrypter.message(alpha.signPayment({ ...card(300 + i, n), upstream_reference: reference }), `${reference}-key`) };
      }),
    );
    await publishInboundPayments(brokers, inbound.map(({ reference, value }) => ({ key: reference, value })));
    const poisonKey = `scan-${run}-inbound-poison`;
    await publishRawMessage(brokers, TOPICS.paymentsInbound.name, { key: poisonKey, value: JSON.stringify({ jwe: inbound[0]?.value.jwe, unexpected: true }) });
    const inboundAccepted = await waitFor('the inbound payments on the accepted topic', async () => {
      const mine = (await readTopicFrom(brokers, TOPICS.paymentsAccepted.name, acceptedEnds))
        .map((m) => JSON.parse(m.value ?? '{}') as PaymentAccepted)
        .filter((p) => p.upstream_reference.startsWith(`scan-${run}-inbound-`));
      return mine.length === inbound.length ? mine : undefined;
    });
    for (const p of inboundAccepted) accepted.push({ client: alpha, paymentId: p.payment_id, masked: p.payer.type === 'card' ? p.payer.masked : undefined });
    const deadLetter = await waitFor('the undecodable inbound message on the dead-letter topic', async () => (await readTopicFrom(brokers, DEAD_LETTER_TOPICS.ingest, dlqEnds)).find((m) => m.key === poisonKey));
    expect(deadLetter.headers[DLQ_HEADERS.originalTopic]).toBe(TOPICS.paymentsInbound.name);
    expect(deadLetter.headers[DLQ_HEADERS.valueProtection]).toBe('jwe');
    expect(deadLetter.value?.split('.')).toHaveLength(5);

    for (const { client, paymentId } of accepted) await waitForFinal(client, paymentId);

    const [kafka, redis] = await Promise.all([readAllKafkaMessages(brokers, 120_000, e2eStartedMs), readAllRedisKeys(process.env['REDIS_URL'] ?? '', process.env['REDIS_KEY_PREFIX'] ?? '')]);
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
    for (const topic of [TOPICS.paymentsInbound.name, TOPICS.paymentsAccepted.name, TOPICS.paymentsSigned.name, TOPICS.paymentsScreened.name, TOPICS.paymentsSettled.name, DEAD_LETTER_TOPICS.ingest]) expect(topics).toContain(topic);
    for (const service of ['ingest', 'signing', 'fraud-check', 'settlement']) expect(logs.some((l) => l.where.startsWith(`log:${service}.log:`) && l.text.length > 0)).toBe(true);

    const report = scanWrittenData({ kafka, redis, logs, http }, { cards: [...cards, badLuhn], accounts });
    // topics that are not Payrail's (integration tests' own, test.*) are not Payrail's data; every Payrail topic counts,
    // the inbound one and the dead-letter topics included
    const findings = report.findings.filter((f) => !f.where.startsWith('kafka:') || f.where.startsWith('kafka:payrail.'));
    writeFileSync(join(runDir, 'plaintext-scan-report.json'), `${JSON.stringify({ ...report, findings, numbers_found: findings.length }, null, 2)}\n`);
    expect(report.sources['kafka']?.decoded.base64url).toBeGreaterThan(0);
    // the scan read this run's inbound messages (the JWEs, whose protected headers are base64url JSON)
    const inboundText = kafka.filter((t) => t.where.startsWith(`kafka:${TOPICS.paymentsInbound.name}/`)).map((t) => t.text).join('\n');
    for (const { value } of inbound) expect(inboundText).toContain(value.jwe);
    expect(findings).toEqual([]);
  });
});
