// The per-address throttle in front of signature verification, over real HTTP, Kafka and Redis: a flood of junk
// signatures claiming an upstream's kid from one address gets 429 before anything is verified, while the upstream's
// own traffic from another address keeps getting 202 (and its reads 200). Loopback addresses stand for clients:
// 127.0.0.2 and 127.0.0.3 (floods) and 127.0.0.1 (the upstream); ingest listens on 127.0.0.1, Linux routes them all.
// Timing-independent: the failure budget refills one token every ~55 minutes (CLIENT_AUTH_FAILURE_LIMIT_PER_S
// 0.0003), far longer than any run of this file may take, so exactly FAILURE_BURST failures are verified per address
// however slow the machine; requests are sent one at a time, so each one sees what the previous ones spent.
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, fetch as fetchFrom } from 'undici';
import { SIGNED_PAYMENT_JWS_TYPE, SIGNED_REQUEST_JWS_TYPE } from '@payrail/contracts';
import { DOMAIN_METRIC_NAMES, scrapeSeries } from '@payrail/messaging';
import { UpstreamClient, demoPayment, prng } from '@payrail/upstream-sdk';
import { IngestFixture, IngestInstance, UpstreamFixture, ensurePayrailTopics, startIngest } from './ingest-harness';

const FAILURE_BURST = 5;
/** One failure token back every 1/0.0003 s (about 55 min): nothing refills while this file runs. */
const FAILURE_REFILL_PER_S = '0.0003';
const REFILL_S = Math.ceil(1 / Number(FAILURE_REFILL_PER_S));

interface Answer {
  status: number;
  contentType: string | undefined;
  retryAfter: string | undefined;
  body: string;
}

const agents = new Map<string, Agent>();

/** One HTTP request from a chosen local address (a connection bound to it). */
async function send(url: string, opts: { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string; from: string }): Promise<Answer> {
  let agent = agents.get(opts.from);
  if (!agent) agents.set(opts.from, (agent = new Agent({ localAddress: opts.from })));
  const res = await fetchFrom(`${url}${opts.path}`, { method: opts.method, headers: opts.headers, body: opts.body, dispatcher: agent });
  return { status: res.status, contentType: res.headers.get('content-type') ?? undefined, retryAfter: res.headers.get('retry-after') ?? undefined, body: await res.text() };
}

const b64u = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A compact JWS naming the upstream's real kid, with a signature nobody made: each costs ingest a verify. */
function junkToken(kid: string, typ: string, claims: unknown): string {
  return `${b64u({ alg: 'ES256', kid, typ })}.${b64u(claims)}.${randomBytes(64).toString('base64url')}`;
}

const throttledCount = (opsUrl: string, route: string, budget: string): Promise<number> => scrapeSeries(`${opsUrl}/metrics`, DOMAIN_METRIC_NAMES.ingestThrottled, { route, budget });

function expectThrottled(answer: Answer): void {
  expect(answer.status).toBe(429);
  expect(answer.contentType).toContain('application/problem+json');
  // the wait until one failure token is back: about REFILL_S, never less than a second
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(answer.retryAfter)).toBeLessThanOrEqual(REFILL_S);
  expect(JSON.parse(answer.body)).toMatchObject({ type: 'https://payrail.dev/problems/rate-limited', status: 429, detail: expect.stringContaining('failed authentication') });
}

describe('ingest throttles each client address before signature verification', () => {
  let fixture: IngestFixture;
  let ingest: IngestInstance;
  let upstream: UpstreamFixture;
  let client: UpstreamClient;
  let kid: string;
  // a letter first: references `${run}-${i}` never hold 12 digits in a row (free text refuses card-like numbers)
  const run = `throttle-r${randomUUID().slice(0, 7)}`;

  beforeAll(async () => {
    await ensurePayrailTopics();
    fixture = await IngestFixture.create();
    upstream = await fixture.addUpstream('throttled', { requests_per_second: 100_000, burst: 100_000 });
    ingest = await startIngest(fixture, { CLIENT_AUTH_FAILURE_LIMIT_PER_S: FAILURE_REFILL_PER_S, CLIENT_AUTH_FAILURE_LIMIT_BURST: String(FAILURE_BURST) });
    client = await ingest.client(upstream);
    const jwks = JSON.parse(readFileSync(upstream.publicJwks, 'utf8')) as { keys: { kid: string }[] };
    const first = jwks.keys[0];
    if (!first) throw new Error('the upstream has no key');
    kid = first.kid;
  });

  afterAll(async () => {
    await Promise.all([...agents.values()].map((agent) => agent.close()));
    await ingest?.close();
    fixture?.remove();
  });

  const junkSubmission = (from: string, headers: Record<string, string> = {}): Promise<Answer> =>
    send(ingest.url, { method: 'POST', path: '/v1/payments', from, headers: { 'content-type': 'application/jose', ...headers }, body: junkToken(kid, SIGNED_PAYMENT_JWS_TYPE, { jti: randomUUID(), iat: Math.floor(Date.now() / 1000), payment: {} }) });

  it("answers a junk-signature flood naming the upstream's kid: the first FAILURE_BURST get 401, then 429 problem+json with Retry-After, while the upstream's own address gets 202", async () => {
    const flood = '127.0.0.2';
    const throttledBefore = await throttledCount(ingest.opsUrl, 'submit', 'failures');
    const junk: number[] = [];
    const good: number[] = [];
    for (let i = 0; i < FAILURE_BURST + 5; i++) {
      // X-Forwarded-For from a client that is not a TRUSTED_PROXIES proxy is ignored: it cannot pick its bucket
      const answer = await junkSubmission(flood, { 'x-forwarded-for': `198.51.100.${i + 1}` });
      junk.push(answer.status);
      if (answer.status === 429) expectThrottled(answer);
      good.push((await client.submit(client.signPayment({ ...demoPayment(i, prng(i + 1)).payment, upstream_reference: `${run}-${i}` }), `${run}-${i}`)).status);
    }
    expect(junk).toEqual([...Array<number>(FAILURE_BURST).fill(401), ...Array<number>(5).fill(429)]);
    expect(good).toEqual(Array<number>(FAILURE_BURST + 5).fill(202));
    expect((await throttledCount(ingest.opsUrl, 'submit', 'failures')) - throttledBefore).toBe(5);
  });

  it('refuses even a validly signed payment and read from the throttled address before verifying them; the upstream reads on', async () => {
    const flood = '127.0.0.3';
    const accepted = await client.submit(client.signPayment({ ...demoPayment(101, prng(102)).payment, upstream_reference: `${run}-read` }));
    expect(accepted.status).toBe(202);
    const path = `/v1/payments/${String(accepted.body['payment_id'])}`;
    const junkRead = (): Promise<Answer> => send(ingest.url, { method: 'GET', path, from: flood, headers: { authorization: `Payrail-JWS ${junkToken(kid, SIGNED_REQUEST_JWS_TYPE, { htm: 'GET', htu: path, iat: Math.floor(Date.now() / 1000) })}` } });
    const [submitBefore, statusBefore] = [await throttledCount(ingest.opsUrl, 'submit', 'failures'), await throttledCount(ingest.opsUrl, 'status', 'failures')];

    const reads: number[] = [];
    for (let i = 0; i < FAILURE_BURST; i++) reads.push((await junkRead()).status);
    expect(reads).toEqual(Array<number>(FAILURE_BURST).fill(401));

    // a verified signature would have been 202 and 200: the verifier never saw them
    const signed = client.signPayment({ ...demoPayment(100, prng(101)).payment, upstream_reference: `${run}-valid-from-flood` });
    expectThrottled(await send(ingest.url, { method: 'POST', path: '/v1/payments', from: flood, headers: { 'content-type': 'application/jose' }, body: signed }));
    expectThrottled(await send(ingest.url, { method: 'GET', path, from: flood, headers: { authorization: `Payrail-JWS ${client.signRequest('GET', path)}` } }));
    expectThrottled(await junkRead());

    expect((await client.status(String(accepted.body['payment_id']))).status).toBe(200);
    expect((await client.submit(client.signPayment({ ...demoPayment(103, prng(104)).payment, upstream_reference: `${run}-after` }))).status).toBe(202);
    expect((await throttledCount(ingest.opsUrl, 'submit', 'failures')) - submitBefore).toBe(1);
    expect((await throttledCount(ingest.opsUrl, 'status', 'failures')) - statusBefore).toBe(2);
  });
});
