// Acceptance of ingest over real HTTP, Kafka and Redis: two ingest instances (the production module, each on its
// own port) share one Redis and one Kafka broker, as a scaled-out deployment does.
import { generateKeyPairSync, randomUUID, sign as cryptoSign } from 'node:crypto';
import { PaymentAccepted, PaymentScreened, PaymentSubmission, SIGNED_PAYMENT_JWS_TYPE, SIGNED_REQUEST_JWS_TYPE, TOPICS } from '@payrail/contracts';
import { createRedis } from '@payrail/messaging';
import { JwsSigner, PayrailKeyStore } from '@payrail/crypto';
import { UpstreamClient, demoPayment, prng, withLuhnDigit } from '@payrail/upstream-sdk';
import { PaymentStatusStore } from '../src/status/payment-status.store';
import { IngestFixture, IngestInstance, UpstreamFixture, ensurePayrailTopics, startIngest, testKafka } from './ingest-harness';

const KEYS = Number(process.env['INGEST_IDEMPOTENCY_KEYS'] ?? 10_000);
const HIGH_LIMITS = { requests_per_second: 100_000, burst: 100_000 };

interface Answer {
  status: number;
  contentType: string | null;
  location: string | null;
  retryAfter: string | null;
  body: string;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${url}/v1/payments`, { method: 'POST', headers, body });
  return { status: res.status, contentType: res.headers.get('content-type'), location: res.headers.get('location'), retryAfter: res.headers.get('retry-after'), body: await res.text() };
}

const jose = (jws: string, idempotencyKey?: string): Record<string, string> => ({ 'content-type': 'application/jose', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) });

function problemOf(a: Answer): { type: string; title: string; status: number; detail: string; errors?: { pointer: string; detail: string }[] } {
  expect(a.contentType).toContain('application/problem+json');
  return JSON.parse(a.body) as ReturnType<typeof problemOf>;
}

const b64u = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const nowS = (): number => Math.floor(Date.now() / 1000);

/** Payment i of this run: a unique reference, cards and accounts mixed. */
function payment(i: number, run: string): PaymentSubmission {
  const { payment: p } = demoPayment(i, prng(i + 1));
  return { ...p, upstream_reference: `${run}-${i}` };
}

/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await task(i);
    }),
  );
  return out;
}

/** Follows the accepted topic (from the start) and keeps the payments of one upstream. */
class AcceptedTopicReader {
  readonly found: PaymentAccepted[] = [];
  private last = Date.now();
  private readonly consumer = testKafka(`ingest-test-reader-${randomUUID().slice(0, 8)}`).consumer({ groupId: `ingest-test-${randomUUID()}` });

  constructor(private readonly upstreamId: string) {}

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: TOPICS.paymentsAccepted.name, fromBeginning: true });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const value = JSON.parse(m.value?.toString('utf8') ?? '{}') as PaymentAccepted;
          if (value.upstream_id === this.upstreamId) {
            this.found.push(value);
            this.last = Date.now();
          }
        }
      },
    });
  }

  /** Waits until `expected` arrived and nothing more for `settleMs` (so that extra messages would be seen). */
  async settle(expected: number, settleMs: number, timeoutMs = 120_000): Promise<PaymentAccepted[]> {
    const deadline = Date.now() + timeoutMs;
    const since = Date.now();
    while (Date.now() < deadline && (this.found.length < expected || Date.now() - Math.max(this.last, since) < settleMs)) await new Promise((r) => setTimeout(r, 100));
    return [...this.found];
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

describe('ingest over real HTTP, Kafka and Redis (two instances)', () => {
  let fixture: IngestFixture;
  let a: IngestInstance;
  let b: IngestInstance;
  let bulk: UpstreamFixture;
  let bulkA: UpstreamClient;
  let main: UpstreamFixture;
  let alpha: UpstreamClient;
  // a letter first: references `${run}-${i}` never hold 12 digits in a row (free text refuses card-like numbers)
  const run = `run-r${randomUUID().slice(0, 7)}`;

  beforeAll(async () => {
    await ensurePayrailTopics();
    fixture = await IngestFixture.create();
    bulk = await fixture.addUpstream('bulk', HIGH_LIMITS);
    main = await fixture.addUpstream('alpha', HIGH_LIMITS);
    [a, b] = await Promise.all([startIngest(fixture), startIngest(fixture)]);
    bulkA = await a.client(bulk);
    alpha = await a.client(main);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    fixture?.remove();
  });

  it(`accepts exactly one payment per Idempotency-Key for ${KEYS} keys sent 1-5 times each, concurrently, to two instances, with byte-identical answers`, async () => {
    const reader = new AcceptedTopicReader(bulk.id);
    await reader.start();
    const random = prng(42);
    const jobs = Array.from({ length: KEYS }, (_, i) => ({ key: `${run}-key-${i}`, jws: bulkA.signPayment(payment(i, run)), copies: 1 + Math.floor(random() * 5) }));
    const answers = await pool(KEYS, 40, async (i) => {
      const job = jobs[i];
      if (!job) throw new Error('no job');
      // every copy at once, alternating instances: the duplicates race for the key
      return Promise.all(Array.from({ length: job.copies }, (_, c) => post((c + i) % 2 === 0 ? a.url : b.url, job.jws, jose(job.jws, job.key))));
    });
    const paymentIds = new Set<string>();
    for (const copies of answers) {
      const first = copies[0];
      if (!first) throw new Error('no answer');
      expect(first.status).toBe(202);
      for (const other of copies) expect(other).toEqual(first); // status, headers that matter, and body bytes
      paymentIds.add((JSON.parse(first.body) as { payment_id: string }).payment_id);
    }
    expect(paymentIds.size).toBe(KEYS);
    expect(answers.reduce((n, c) => n + c.length, 0)).toBeGreaterThan(KEYS * 2);

    const published = await reader.settle(KEYS, 3_000);
    expect(published).toHaveLength(KEYS);
    expect(new Set(published.map((p) => p.payment_id))).toEqual(paymentIds);

    // a changed payment under a used key: 409, every time, on both instances
    for (let i = 0; i < 50; i++) {
      const job = jobs[i];
      if (!job) throw new Error('no job');
      const changed = bulkA.signPayment({ ...payment(i, run), description: 'changed' });
      const conflicts = await Promise.all([a.url, b.url, a.url].map((url) => post(url, changed, jose(changed, job.key))));
      for (const c of conflicts) {
        expect(c.status).toBe(409);
        expect(problemOf(c).type).toBe('https://payrail.dev/problems/idempotency-conflict');
      }
    }
    // the same payment signed again (new jti and iat), same key: the first answer, byte for byte
    const again = bulkA.signPayment(payment(7, run));
    const firstOf7 = answers[7]?.[0];
    expect(await post(b.url, again, jose(again, jobs[7]?.key))).toEqual(firstOf7);
    expect(await reader.settle(KEYS, 2_000)).toHaveLength(KEYS);
    await reader.stop();
  }, 900_000); // ~30,000 requests: well under a minute on an idle machine, much longer on a busy shared one

  it('refuses a jti replayed to another instance, also when the copies race', async () => {
    const jws = alpha.signPayment(payment(1, `${run}-replay`));
    expect((await post(a.url, jws, jose(jws))).status).toBe(202);
    const replay = await post(b.url, jws, jose(jws));
    expect(replay.status).toBe(409);
    expect(problemOf(replay)).toMatchObject({ type: 'https://payrail.dev/problems/replayed', errors: [{ pointer: '#/jti', detail: 'already used' }] });

    const racing = alpha.signPayment(payment(2, `${run}-replay`));
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i % 2 === 0 ? a.url : b.url, racing, jose(racing))));
    expect(answers.filter((x) => x.status === 202)).toHaveLength(1);
    expect(answers.filter((x) => x.status === 409 && problemOf(x).type.endsWith('/replayed'))).toHaveLength(9);
  });

  it('gives a careful retry the same payment after Redis lost every key of ingest, still refuses a replay, and the duplicate collapses on the payment id', async () => {
    const reader = new AcceptedTopicReader(main.id);
    await reader.start();
    const before = (await reader.settle(0, 1_500)).length;
    const key = `${run}-lost-${randomUUID()}`;
    const jws = alpha.signPayment(payment(1, `${run}-lost`));
    const first = await post(a.url, jws, jose(jws, key));
    expect(first.status).toBe(202);
    const firstId = (JSON.parse(first.body) as { payment_id: string }).payment_id;
    // another payment accepted before the loss, never retried: its status must come back from the topics
    const untouched = await alpha.submit(alpha.signPayment(payment(2, `${run}-lost`)), randomUUID());
    expect(untouched.status).toBe(202);
    const untouchedId = String(untouched.body['payment_id']);
    const statusBefore = await alpha.status(untouchedId);
    expect(statusBefore.status).toBe(200);
    // Redis restarted without persistence: ingest's idempotency records, jti claims and status are gone
    const redis = createRedis({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: '' }, 'test-redis-loss');
    await redis.connect();
    try {
      let cursor = '0';
      let removed = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${fixture.redisKeyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) removed += await redis.del(...keys);
      } while (cursor !== '0');
      expect(removed).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
    // the status read model comes back from the topics (the instances check its marker every 15 s), with what it said
    const statusAfter = await eventuallyValue(async () => {
      const r = await alpha.status(untouchedId);
      return r.status === 200 ? r : undefined;
    }, 45_000);
    expect((statusAfter.body as { history: { stage: string; at: string }[] }).history[0]).toEqual((statusBefore.body as { history: { stage: string; at: string }[] }).history[0]);
    // the replay guard came back from the accepted topic: the token under another key is still a replay
    const replay = await post(b.url, jws, jose(jws, `${key}-other`));
    expect(replay.status).toBe(409);
    expect(problemOf(replay).type).toBe('https://payrail.dev/problems/replayed');
    // the same bytes and key (and the payment signed again, a new jti) on the other instance: 202, the same payment
    for (const retry of [jws, alpha.signPayment(payment(1, `${run}-lost`))]) {
      const answer = await post(b.url, retry, jose(retry, key));
      expect(answer.status).toBe(202);
      expect((JSON.parse(answer.body) as { payment_id: string }).payment_id).toBe(firstId);
    }
    // what signing sees: copies of one payment under one event id, which every consumer de-duplicates on
    const published = (await reader.settle(before + 2, 2_000)).slice(before).filter((p) => p.upstream_reference === `${run}-lost-1`);
    expect(published.length).toBeGreaterThanOrEqual(2);
    expect(new Set(published.map((p) => p.payment_id))).toEqual(new Set([firstId]));
    await reader.stop();
  });

  it('accepts a JSON body with a detached JWS (RFC 7515 Appendix F) under the same checks', async () => {
    const signed = alpha.signPaymentDetached(payment(3, `${run}-detached`));
    const ok = await alpha.submitDetached(signed, `${run}-detached-key`);
    expect(ok.status).toBe(202);
    expect(ok.headers.get('location')).toBe(`/v1/payments/${String(ok.body['payment_id'])}`);
    expect((await alpha.submitDetached(signed, `${run}-detached-key`)).body).toEqual(ok.body); // idempotent
    const replay = await post(b.url, signed.body, { 'content-type': 'application/json', 'x-jws-signature': signed.signature });
    expect(problemOf(replay).type).toBe('https://payrail.dev/problems/replayed');

    const tamperedBody = signed.body.replace('"minor":"', '"minor":"1');
    const tampered = await post(a.url, tamperedBody, { 'content-type': 'application/json', 'x-jws-signature': signed.signature });
    expect(tampered.status).toBe(401);
    expect(problemOf(tampered)).toMatchObject({ type: 'https://payrail.dev/problems/signature-invalid', errors: [{ pointer: '#/signature' }] });

    const stale = alpha.signPaymentDetached(payment(4, `${run}-detached`), { iat: nowS() - 1000 });
    expect(problemOf(await alpha.submitDetached(stale).then(toAnswer)).type).toBe('https://payrail.dev/problems/stale');

    const unsigned = await post(a.url, signed.body, { 'content-type': 'application/json' });
    expect(unsigned.status).toBe(401);
    expect(problemOf(unsigned)).toMatchObject({ type: 'https://payrail.dev/problems/signature-missing', errors: [{ pointer: '#/headers/x-jws-signature' }] });
  });

  it('serves metrics, docs and health on the operations listener, and neither metrics nor docs on the public port', async () => {
    const json = await fetch(`${a.opsUrl}/docs/json`);
    expect(json.status).toBe(200);
    const document = (await json.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toContain('/v1/payments');
    const page = await fetch(`${a.opsUrl}/docs`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/docs/json');
    const metrics = await fetch(`${a.opsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('payrail_');
    expect((await fetch(`${a.opsUrl}/health/ready`)).status).toBe(200);

    for (const path of ['/metrics', '/docs', '/docs/json']) {
      const res = await fetch(`${a.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/payrail_|openapi/);
    }
    expect((await fetch(`${a.url}/health/live`)).status).toBe(200); // load balancers may still probe the public port
  });

  describe('every refusal is problem+json naming what failed', () => {
    const expectProblem = (answer: Answer, status: number, slug: string, pointer?: string): void => {
      expect(answer.status).toBe(status);
      const p = problemOf(answer);
      expect(p.type).toBe(`https://payrail.dev/problems/${slug}`);
      expect(p.status).toBe(status);
      expect(typeof p.title).toBe('string');
      expect(typeof p.detail).toBe('string');
      if (pointer) expect(p.errors?.map((e) => e.pointer)).toContain(pointer);
    };

    it('bad signature', async () => {
      const jws = alpha.signPayment(payment(10, run));
      const [h, p, s = ''] = jws.split('.');
      const flipped = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
      expectProblem(await post(a.url, flipped, jose(flipped)), 401, 'signature-invalid', '#/signature');
    });

    it('unknown kid', async () => {
      const stranger = new JwsSigner(await PayrailKeyStore.fromJwks({ keys: [{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'stranger-1' }] }));
      const jws = stranger.sign({ jti: randomUUID(), iat: nowS(), payment: payment(11, run) });
      expectProblem(await post(a.url, jws, jose(jws)), 401, 'unknown-key', '#/protected/kid');
    });

    it('algorithm not allowed (alg none, HS256, EdDSA for an ES256-only upstream)', async () => {
      const kid = JSON.parse(Buffer.from(alpha.signPayment(payment(12, run)).split('.')[0] ?? '', 'base64url').toString()) as { kid: string };
      const claims = b64u({ jti: randomUUID(), iat: nowS(), payment: payment(12, run) });
      for (const alg of ['none', 'HS256', 'EdDSA']) {
        const token = `${b64u({ alg, kid: kid.kid })}.${claims}.${b64u(alg === 'none' ? 'x' : cryptoSign(null, Buffer.from('x'), generateKeyPairSync('ed25519').privateKey))}`;
        expectProblem(await post(a.url, token, jose(token)), 401, 'algorithm-not-allowed', '#/protected/alg');
      }
    });

    it('stale iat and future iat', async () => {
      const stale = alpha.signPayment(payment(13, run), { iat: nowS() - 400 });
      expectProblem(await post(a.url, stale, jose(stale)), 401, 'stale', '#/iat');
      const future = alpha.signPayment(payment(14, run), { iat: nowS() + 120 });
      expectProblem(await post(a.url, future, jose(future)), 401, 'iat-in-future', '#/iat');
    });

    it('replayed jti', async () => {
      const jws = alpha.signPayment(payment(15, run));
      expect((await post(b.url, jws, jose(jws))).status).toBe(202);
      expectProblem(await post(b.url, jws, jose(jws)), 409, 'replayed', '#/jti');
    });

    it('schema errors name the field', async () => {
      const base = payment(16, run);
      const cases: [unknown, string][] = [
        [{ ...base, amount: { minor: '10.50', currency: 'EUR' } }, '#/payment/amount/minor'],
        [{ ...base, amount: { minor: '1050', currency: 'XYZ' } }, '#/payment/amount/currency'],
        [{ ...base, payee: undefined }, '#/payment/payee'],
        [{ ...base, payer: { type: 'card', card: { number: withLuhnDigit('411111123456789').replace(/.$/, (d) => String((Number(d) + 1) % 10)), expiry_month: 1, expiry_year: 2030 } } }, '#/payment/payer/card/number'],
        [{ ...base, context: { ip: 'not-an-ip' } }, '#/payment/context/ip'],
      ];
      for (const [p, pointer] of cases) {
        const jws = alpha.signPayment(p as PaymentSubmission);
        const answer = await post(a.url, jws, jose(jws));
        expectProblem(answer, 422, 'schema-invalid', pointer);
        expect(answer.body).not.toMatch(/4111111234567/); // the card number is never echoed
      }
    });

    it('a card number in a free-text field is refused naming the field, never echoed, and nothing is accepted', async () => {
      const card = withLuhnDigit('411111987654321');
      const spaced = card.replace(/(\d{4})(?=\d)/g, '$1 ');
      const base = payment(19, run);
      const cases: [PaymentSubmission, string][] = [
        [{ ...base, description: `paid with ${spaced}` }, '#/payment/description'],
        [{ ...base, upstream_reference: `ord-${card}` }, '#/payment/upstream_reference'],
        [{ ...base, context: { ...base.context, device_id: card.replace(/(\d{4})(?=\d)/g, '$1-') } }, '#/payment/context/device_id'],
      ];
      for (const [p, pointer] of cases) {
        const jws = alpha.signPayment(p);
        const answer = await post(a.url, jws, jose(jws, randomUUID()));
        expectProblem(answer, 422, 'schema-invalid', pointer);
        expect(answer.body).not.toMatch(/4111 ?1198|411111987/);
      }
      const jws = alpha.signPayment(payment(20, run));
      const header = await post(a.url, jws, jose(jws, `key-${card}`));
      expectProblem(header, 400, 'invalid-idempotency-key', '#/headers/idempotency-key');
      expect(header.body).not.toMatch(/411111987/);
    });

    it('a merchant the registration does not list, naming it', async () => {
      const jws = alpha.signPayment({ ...payment(19, run), payee: { merchant_id: 'm-not-mine', mcc: '5814', country: 'DE' } });
      const answer = await post(a.url, jws, jose(jws));
      expectProblem(answer, 403, 'merchant-not-allowed', '#/payment/payee/merchant_id');
      expect(problemOf(answer).detail).toContain('m-not-mine');
    });

    it('a token of another type or without typ: refused 401 naming typ, as a payment and as a read', async () => {
      const keys = await PayrailKeyStore.fromFile(main.privateJwks);
      const claims = () => ({ jti: randomUUID(), iat: nowS(), payment: payment(20, run) });
      const asRead = new JwsSigner(keys, { typ: SIGNED_REQUEST_JWS_TYPE }).sign(claims());
      const wrongTyp = await post(a.url, asRead, jose(asRead));
      expectProblem(wrongTyp, 401, 'typ-invalid', '#/protected/typ');
      expect(problemOf(wrongTyp).detail).toBe(`typ must be ${SIGNED_PAYMENT_JWS_TYPE}`);
      const untyped = new JwsSigner(keys).sign(claims());
      const noTyp = await post(a.url, untyped, jose(untyped));
      expectProblem(noTyp, 401, 'typ-invalid', '#/protected/typ');
      expect(problemOf(noTyp).detail).toBe(`the protected header has no typ: it must be ${SIGNED_PAYMENT_JWS_TYPE}`);
      const jwt = new JwsSigner(keys, { typ: 'JWT' }).sign(claims());
      expectProblem(await post(a.url, jwt, jose(jwt)), 401, 'typ-invalid', '#/protected/typ');
      // detached: the same rule
      const body = JSON.stringify(claims());
      const detachedUntyped = new JwsSigner(keys).signDetached(body);
      const detachedAnswer = await fetch(`${a.url}/v1/payments`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-jws-signature': detachedUntyped }, body });
      expect(detachedAnswer.status).toBe(401);
      expect(((await detachedAnswer.json()) as { type: string }).type).toBe('https://payrail.dev/problems/typ-invalid');

      const ok = await alpha.submit(alpha.signPayment(payment(21, run)));
      expect(ok.status).toBe(202);
      const path = `/v1/payments/${String(ok.body['payment_id'])}`;
      const read = async (token: string) => {
        const res = await fetch(`${a.url}${path}`, { headers: { authorization: `Payrail-JWS ${token}` } });
        return { status: res.status, body: (await res.json()) as { type?: string; errors?: { pointer: string; detail: string }[] } };
      };
      const asPayment = await read(new JwsSigner(keys, { typ: SIGNED_PAYMENT_JWS_TYPE }).sign({ htm: 'GET', htu: path, iat: nowS() }));
      expect(asPayment).toEqual({ status: 401, body: expect.objectContaining({ type: 'https://payrail.dev/problems/unauthenticated', errors: [{ pointer: '#/headers/authorization', detail: `typ must be ${SIGNED_REQUEST_JWS_TYPE}` }] }) });
      const untypedRead = await read(new JwsSigner(keys).sign({ htm: 'GET', htu: path, iat: nowS() }));
      expect(untypedRead).toEqual({ status: 401, body: expect.objectContaining({ errors: [{ pointer: '#/headers/authorization', detail: `the protected header has no typ: it must be ${SIGNED_REQUEST_JWS_TYPE}` }] }) });
      expect((await read(new JwsSigner(keys, { typ: SIGNED_REQUEST_JWS_TYPE }).sign({ htm: 'GET', htu: path, iat: nowS() }))).status).toBe(200);
    });

    it('body too large', async () => {
      const huge = `${'e'.repeat(70 * 1024)}.e30.AAAA`;
      expectProblem(await post(a.url, huge, jose(huge)), 413, 'body-too-large');
    });

    it('unsupported media type and a bad Idempotency-Key', async () => {
      const jws = alpha.signPayment(payment(17, run));
      expectProblem(await post(a.url, jws, { 'content-type': 'text/plain' }), 415, 'unsupported-media-type', '#/headers/content-type');
      expectProblem(await post(a.url, jws, jose(jws, 'k'.repeat(256))), 400, 'invalid-idempotency-key', '#/headers/idempotency-key');
    });

    it('rate limited, shared by the instances, with Retry-After', async () => {
      const limited = await fixture.addUpstream('limited', { requests_per_second: 1, burst: 3 });
      const client = await UpstreamClient.open(limited.id, limited.privateJwks, a.url);
      await waitUntilRegistered(a, client);
      await waitUntilRegistered(b, client);
      const answers: Answer[] = [];
      for (let i = 0; i < 6; i++) {
        const jws = client.signPayment(payment(100 + i, run));
        answers.push(await post(i % 2 === 0 ? a.url : b.url, jws, jose(jws)));
      }
      // (the registration probes were refused as stale before admission: they used none of the burst)
      expect(answers.map((x) => x.status)).toEqual([202, 202, 202, 429, 429, 429]);
      for (const x of answers.slice(3)) {
        expectProblem(x, 429, 'rate-limited');
        expect(Number(x.retryAfter)).toBeGreaterThanOrEqual(1);
      }
    });

    it('GET: unknown upstream -> 401, another upstream\'s payment -> 404, own payment -> 200', async () => {
      const ok = await alpha.submit(alpha.signPayment(payment(18, run)));
      const paymentId = String(ok.body['payment_id']);
      expect((await alpha.status(paymentId)).status).toBe(200);

      // an analyst's decision on a REVIEW, as fraud-check publishes it: the upstream sees outcome and codes only
      const screened: PaymentScreened = {
        payment_id: paymentId,
        merchant_id: 'm-coffee-berlin',
        amount: { minor: '250000', currency: 'EUR' },
        decision: 'DECLINE',
        score: 80,
        reasons: [
          { rule: 'velocity.card.1h', code: 'velocity_limit', score: 50, observed: { count: 21, max_count: 20, window: '1h' } },
          { rule: 'legacy.rule', score: 30, observed: { limit_minor: '200000' } },
        ],
        ruleset_version: 'it-1',
        screened_at: new Date().toISOString(),
        review: { analyst: 'alice@payrail', decided_at: new Date().toISOString(), note: 'card tester, BIN 411111' },
        instruction_jws: 'x.y.z',
      };
      await a.app.get(PaymentStatusStore).recordScreenedEvent(screened);
      const decided = await alpha.status(paymentId);
      expect(decided.body).toMatchObject({ state: 'declined', decision: { outcome: 'DECLINE', reason_codes: ['velocity_limit', 'risk_rule'] } });
      expect(Object.keys((decided.body as { decision: object }).decision).sort()).toEqual(['outcome', 'reason_codes']);
      expect(JSON.stringify(decided.body)).not.toMatch(/alice|card tester|velocity\.card|max_count|200000|it-1|"score"/);

      const other = await fixture.addUpstream('beta', HIGH_LIMITS);
      const beta = await UpstreamClient.open(other.id, other.privateJwks, b.url);
      await waitUntilRegistered(b, beta);
      const foreign = await beta.status(paymentId);
      expect(foreign.status).toBe(404);
      expect(foreign.body).toMatchObject({ type: 'https://payrail.dev/problems/payment-not-found' });

      const strangerStore = await PayrailKeyStore.fromJwks({ keys: [{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'stranger-2' }] });
      const token = new JwsSigner(strangerStore).sign({ htm: 'GET', htu: `/v1/payments/${paymentId}`, iat: nowS() });
      const res = await fetch(`${a.url}/v1/payments/${paymentId}`, { headers: { authorization: `Payrail-JWS ${token}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ type: 'https://payrail.dev/problems/unauthenticated', errors: [{ pointer: '#/headers/authorization' }] });
    });
  });
});

async function toAnswer(r: { status: number; body: Record<string, unknown>; headers: Headers }): Promise<Answer> {
  return { status: r.status, contentType: r.headers.get('content-type'), location: r.headers.get('location'), retryAfter: r.headers.get('retry-after'), body: JSON.stringify(r.body) };
}

/** A registration written while instances run is picked up without restart; wait for this one (a stale probe). */
async function waitUntilRegistered(instance: IngestInstance, client: UpstreamClient): Promise<void> {
  const deadline = Date.now() + 40_000;
  const probe = client.signPayment({} as PaymentSubmission, { iat: 1 }); // refused either way, never admitted
  for (;;) {
    const res = await fetch(`${instance.url}/v1/payments`, { method: 'POST', headers: { 'content-type': 'application/jose' }, body: probe });
    const problem = (await res.json()) as { type: string };
    if (!problem.type.endsWith('/unknown-key')) return;
    if (Date.now() > deadline) throw new Error(`${client.upstreamId} not registered on ${instance.url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function eventuallyValue<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}
