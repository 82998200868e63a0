// The operators API's failed-authentication throttle over real HTTP (a running settlement on Kafka and Redis): a
// flood of bad bearer tokens from one client address gets exactly the burst of 401s, then 429 problem+json with
// Retry-After before any token is compared (a valid one from that address too), counted on
// payrail_operator_access_refused_total{surface="settlement_api",reason="throttled"}; a client at another address
// keeps reading. Loopback addresses stand for clients: 127.0.0.2 (the flood) and 127.0.0.1 (the console).
// Timing-independent: one failure token comes back every ~55 minutes (CLIENT_AUTH_FAILURE_LIMIT_PER_S 0.0003),
// far longer than this file may run, and requests go one at a time.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Agent, fetch as fetchFrom } from 'undici';
import { DOMAIN_METRIC_NAMES, createRedis, scrapeSeries } from '@payrail/messaging';
import { deletePrefix, uniquePrefix } from '@payrail/ledger/testing';
import { OPERATOR_TOKEN, PaymentFactory, settlementEnv, startSettlement } from '../../test/fixtures';

const BURST = 4;
const PREFIX = uniquePrefix('settlement-throttle');
const flood = new Agent({ localAddress: '127.0.0.2' });
let settlement: { app: NestFastifyApplication; url: string };

beforeAll(async () => {
  const factory = await PaymentFactory.create();
  settlement = await startSettlement(settlementEnv({ REDIS_KEY_PREFIX: PREFIX, ...factory.keysEnv(), CLIENT_AUTH_FAILURE_LIMIT_PER_S: '0.0003', CLIENT_AUTH_FAILURE_LIMIT_BURST: String(BURST) }));
});

afterAll(async () => {
  await flood.close();
  await settlement?.app.close();
  const redis = createRedis({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: PREFIX }, 'settlement-throttle-cleanup');
  await redis.connect();
  await deletePrefix(redis, PREFIX);
  await redis.quit();
});

const throttledCount = (): Promise<number> => scrapeSeries(`${settlement.url}/metrics`, DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'settlement_api', reason: 'throttled' });

const asConsole = async (): Promise<number> => (await fetch(`${settlement.url}/v1/settlements/invariants`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).status;

it('answers a flood of bad tokens from one address with 401 for the burst, then 429 before comparing any token; a client elsewhere keeps reading', async () => {
  const before = await throttledCount();
  const statuses: number[] = [];
  for (let i = 0; i < BURST + 4; i++) {
    // a client cannot pick its bucket: X-Forwarded-For from an address that is not a TRUSTED_PROXIES proxy is ignored
    const res = await fetchFrom(`${settlement.url}/v1/accounts`, { headers: { authorization: `Bearer pso_guess-${i}`, 'x-forwarded-for': `198.51.100.${i + 1}` }, dispatcher: flood });
    const body = (await res.json()) as Record<string, unknown>;
    statuses.push(res.status);
    if (res.status === 429) {
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(body).toMatchObject({ type: 'https://payrail.dev/problems/rate-limited', status: 429, detail: expect.stringContaining('failed authentication') });
    }
    expect(await asConsole()).toBe(200);
  }
  expect(statuses).toEqual([...Array<number>(BURST).fill(401), ...Array<number>(4).fill(429)]);

  // the valid token from the throttled address: refused before it is compared
  expect((await fetchFrom(`${settlement.url}/v1/settlements/invariants`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` }, dispatcher: flood })).status).toBe(429);
  expect((await throttledCount()) - before).toBe(5);
  expect(await asConsole()).toBe(200);
});
