// The per-address throttle in front of signature verification, over real HTTP, Kafka and Redis: a flood of junk
// signatures claiming an upstream's kid from one address gets 429 before anything is verified, while the upstream's
// own traffic from another address keeps getting 202 (and its reads 200). Two loopback addresses stand for two
// clients: 127.0.0.2 (the flood) and 127.0.0.1 (the upstream); ingest listens on 127.0.0.1, Linux routes both.
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { SIGNED_PAYMENT_JWS_TYPE, SIGNED_REQUEST_JWS_TYPE } from '@payrail/contracts';
import { DOMAIN_METRIC_NAMES } from '@payrail/messaging';
import { UpstreamClient, demoPayment, prng } from '@payrail/upstream-sdk';
import { IngestFixture, IngestInstance, UpstreamFixture, ensurePayrailTopics, startIngest } from './ingest-harness';

const FLOOD_ADDRESS = '127.0.0.2';
const FAILURE_BURST = 10;

interface Answer {
  status: number;
  contentType: string | undefined;
  retryAfter: string | undefined;
  body: string;
}

/** One HTTP request from a chosen local address. */
function send(url: string, opts: { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string; from: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request({ host: target.hostname, port: target.port, method: opts.method, path: opts.path, headers: opts.headers, localAddress: opts.from, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const b64u = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A compact JWS naming the upstream's real kid, with a signature nobody made: each costs ingest a verify. */
function junkToken(kid: string, typ: string, claims: unknown): string {
  return `${b64u({ alg: 'ES256', kid, typ })}.${b64u(claims)}.${randomBytes(64).toString('base64url')}`;
}

async function throttledCount(opsUrl: string, route: string, budget: string): Promise<number> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${DOMAIN_METRIC_NAMES.ingestThrottled}{`) && l.includes(`route="${route}"`) && l.includes(`budget="${budget}"`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

describe('ingest throttles each client address before signature verification', () => {
  let fixture: IngestFixture;
  let ingest: IngestInstance;
  let upstream: UpstreamFixture;
  let client: UpstreamClient;
  let kid: string;
  const run = `throttle-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await ensurePayrailTopics();
    fixture = await IngestFixture.create();
    upstream = await fixture.addUpstream('throttled', { requests_per_second: 100_000, burst: 100_000 });
    // a low failure budget keeps the test short; the defaults (50/s, burst 100) behave the same, only later
    ingest = await startIngest(fixture, { CLIENT_AUTH_FAILURE_LIMIT_PER_S: '1', CLIENT_AUTH_FAILURE_LIMIT_BURST: String(FAILURE_BURST) });
    client = await ingest.client(upstream);
    const jwks = JSON.parse(readFileSync(upstream.publicJwks, 'utf8')) as { keys: { kid: string }[] };
    const first = jwks.keys[0];
    if (!first) throw new Error('the upstream has no key');
    kid = first.kid;
  });

  const junkSubmission = (): Promise<Answer> =>
    send(ingest.url, { method: 'POST', path: '/v1/payments', from: FLOOD_ADDRESS, headers: { 'content-type': 'application/jose' }, body: junkToken(kid, SIGNED_PAYMENT_JWS_TYPE, { jti: randomUUID(), iat: Math.floor(Date.now() / 1000), payment: {} }) });

  afterAll(async () => {
    await ingest?.close();
    fixture?.remove();
  });

  it("answers a junk-signature flood naming the upstream's kid with 429 problem+json and Retry-After, while the upstream's own address gets 202", async () => {
    const flood: Answer[] = [];
    const good: number[] = [];
    for (let round = 0; round < 6; round++) {
      const junk = Array.from({ length: 10 }, () => junkSubmission());
      const genuine = client.submit(client.signPayment({ ...demoPayment(round, prng(round + 1)).payment, upstream_reference: `${run}-${round}` }), `${run}-${round}`);
      flood.push(...(await Promise.all(junk)));
      good.push((await genuine).status);
    }
    expect(good).toEqual([202, 202, 202, 202, 202, 202]);
    const refused = flood.filter((a) => a.status === 401);
    const throttled = flood.filter((a) => a.status === 429);
    expect(refused.length + throttled.length).toBe(flood.length);
    // the failure budget (burst, plus at most a token or two refilled during the test) is all that got verified
    expect(refused.length).toBeGreaterThanOrEqual(FAILURE_BURST);
    expect(refused.length).toBeLessThanOrEqual(FAILURE_BURST + 5);
    for (const answer of throttled) {
      expect(answer.contentType).toContain('application/problem+json');
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(answer.body)).toMatchObject({ type: 'https://payrail.dev/problems/rate-limited', status: 429 });
    }
    expect(await throttledCount(ingest.opsUrl, 'submit', 'failures')).toBe(throttled.length);
  });

  it('refuses even a validly signed payment from the throttled address before verifying it, and its reads too', async () => {
    const signed = client.signPayment({ ...demoPayment(100, prng(101)).payment, upstream_reference: `${run}-valid-from-flood` });
    const flood = await Promise.all(Array.from({ length: FAILURE_BURST + 5 }, () => junkSubmission()));
    expect(flood.filter((a) => a.status === 429).length).toBeGreaterThan(0);
    const fromFlood = await send(ingest.url, { method: 'POST', path: '/v1/payments', from: FLOOD_ADDRESS, headers: { 'content-type': 'application/jose' }, body: signed });
    expect(fromFlood.status).toBe(429); // a verified signature would have been 202: the verifier never saw it
    expect(JSON.parse(fromFlood.body)).toMatchObject({ type: 'https://payrail.dev/problems/rate-limited', detail: expect.stringContaining('failed authentication') });

    const accepted = await client.submit(client.signPayment({ ...demoPayment(101, prng(102)).payment, upstream_reference: `${run}-read` }));
    expect(accepted.status).toBe(202);
    const path = `/v1/payments/${String(accepted.body['payment_id'])}`;
    const junkRead = await send(ingest.url, { method: 'GET', path, from: FLOOD_ADDRESS, headers: { authorization: `Payrail-JWS ${junkToken(kid, SIGNED_REQUEST_JWS_TYPE, { htm: 'GET', htu: path, iat: Math.floor(Date.now() / 1000) })}` } });
    expect(junkRead.status).toBe(429);
    expect(Number(junkRead.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await client.status(String(accepted.body['payment_id']))).status).toBe(200);
    expect(await throttledCount(ingest.opsUrl, 'status', 'failures')).toBe(1);
  });
});
