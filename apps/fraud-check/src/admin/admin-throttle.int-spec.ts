// The admin API's failed-authentication throttle over real HTTP (a running fraud-check on Kafka and Redis): a flood
// of bad bearer tokens from one client address gets exactly the burst of 401s, then 429 problem+json with
// Retry-After before any token is compared (a valid one from that address too), counted on
// payrail_operator_access_refused_total{reason="throttled"}; an operator at another address keeps working.
// Loopback addresses stand for clients: 127.0.0.2 (the flood) and 127.0.0.1 (the operator).
// Timing-independent: one failure token comes back every ~55 minutes (CLIENT_AUTH_FAILURE_LIMIT_PER_S 0.0003),
// far longer than this file may run, and requests go one at a time.
import { Agent, fetch as fetchFrom } from 'undici';
import { DOMAIN_METRIC_NAMES, scrapeSeries } from '@payrail/messaging';
import { FraudCheckHarness } from '../../test/fraud-check-harness';

const FLOOD = '127.0.0.2';
const BURST = 4;
const RULESET = { version: 'it-throttle.1', thresholds: { review: 50, decline: 100 }, rules: [{ id: 'amount.review', type: 'amount_limit', score: 50, limits: { EUR: '100000' } }] };

let h: FraudCheckHarness;
const flood = new Agent({ localAddress: FLOOD });

beforeAll(async () => {
  h = await FraudCheckHarness.start({ ruleset: RULESET, operators: [{ id: 'a.smith', role: 'read' }], env: { CLIENT_AUTH_FAILURE_LIMIT_PER_S: '0.0003', CLIENT_AUTH_FAILURE_LIMIT_BURST: String(BURST) } });
});

afterAll(async () => {
  await flood.close();
  await h?.stop();
});

const throttledCount = (): Promise<number> => scrapeSeries(h.url('/metrics'), DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'fraud_admin', reason: 'throttled' });

async function fromFlood(authorization: string, extra: Record<string, string> = {}): Promise<{ status: number; contentType: string | null; retryAfter: string | null; body: Record<string, unknown> }> {
  const res = await fetchFrom(h.url('/admin/v1/audit'), { headers: { authorization, ...extra }, dispatcher: flood });
  return { status: res.status, contentType: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
}

it('answers a flood of bad tokens from one address with 401 for the burst, then 429 before comparing any token; an operator elsewhere keeps working', async () => {
  const before = await throttledCount();
  const statuses: number[] = [];
  for (let i = 0; i < BURST + 4; i++) {
    // a client cannot pick its bucket: X-Forwarded-For from an address that is not a TRUSTED_PROXIES proxy is ignored
    const answer = await fromFlood(`Bearer pfo_guess-${i}`, { 'x-forwarded-for': `198.51.100.${i + 1}` });
    statuses.push(answer.status);
    if (answer.status === 429) {
      expect(answer.contentType).toContain('application/problem+json');
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(answer.body).toMatchObject({ type: 'https://payrail.dev/problems/rate-limited', status: 429, detail: expect.stringContaining('failed authentication') });
    }
    expect((await h.admin('GET', '/admin/v1/audit', 'a.smith')).status).toBe(200);
  }
  expect(statuses).toEqual([...Array<number>(BURST).fill(401), ...Array<number>(4).fill(429)]);

  // the operator's own valid token from the throttled address: refused before it is compared
  const token = h.tokens.get('a.smith') ?? '';
  expect((await fromFlood(`Bearer ${token}`)).status).toBe(429);
  expect((await throttledCount()) - before).toBe(5);
  expect((await h.admin('GET', '/admin/v1/rules', 'a.smith')).status).toBe(200);
});
