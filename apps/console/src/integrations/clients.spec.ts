// The HTTP adapters against real local HTTP servers that answer like fraud-check's admin API
// (docs/fraud-check-admin.openapi.yaml) and settlement's operators API (docs/settlement.openapi.yaml): what the
// console asks for, how answers map onto the ports, and how failures surface (never with the token).
import { randomUUID } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { FraudAdminReviewQueue } from './fraud-admin.client';
import { IntegrationError } from './ports';
import { SettlementLedgerClient } from './settlement.client';

const TOKEN = 'pfo_secret-token-value';
const SETTLEMENT_TOKEN = 'settlement-operator-token-of-32-chars';

interface Call {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: unknown;
}

type Route = (call: Call) => { status: number; body?: unknown };

/** A real HTTP server on 127.0.0.1 answering with `route`; records every call. */
async function standIn(route: Route): Promise<{ url: string; calls: Call[]; close: () => Promise<void> }> {
  const calls: Call[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const call = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://stand-in'), headers: req.headers, body: text ? JSON.parse(text) : undefined };
      calls.push(call);
      const answer = route(call);
      res.writeHead(answer.status, { 'content-type': answer.status < 400 ? 'application/json' : 'application/problem+json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const problem = (status: number, type: string) => ({ status, body: { type: `https://payrail.dev/problems/${type}`, title: type, status, detail: type, instance: '/x' } });

function review(id: string) {
  return {
    payment_id: id,
    upstream_id: 'psp-alpha',
    merchant_id: 'm-1',
    mcc: '5411',
    amount: { minor: '250000', currency: 'EUR' },
    payer: { type: 'card', fingerprint: 'fp', masked: '4000********0002', bin: '4000' },
    accepted_at: '2025-03-01T10:00:00Z',
    score: 60,
    reasons: [{ rule: 'amount.review_limit', score: 60 }],
    ruleset_version: 'v1',
    screened_at: '2025-03-01T10:00:00Z',
  };
}

/** fraud-check's admin API: bearer operator token, REVIEW queue, first decision wins (the analyst is console:<the person named>). */
function fraudAdminRoutes(pending: Map<string, ReturnType<typeof review>>, decided: Map<string, { decision: string; note?: string; analyst: string }>): Route {
  return ({ method, url, headers, body }) => {
    if (headers.authorization !== `Bearer ${TOKEN}`) return problem(401, 'unauthenticated');
    if (method === 'GET' && url.pathname === '/admin/v1/reviews') {
      const limit = Number(url.searchParams.get('limit') ?? '50');
      const offset = Number(url.searchParams.get('offset') ?? '0');
      return { status: 200, body: { total: pending.size, offset, reviews: [...pending.values()].slice(offset, offset + limit) } };
    }
    const m = /^\/admin\/v1\/reviews\/([^/]+)\/decision$/.exec(url.pathname);
    if (m?.[1] && method === 'POST') {
      const id = decodeURIComponent(m[1]);
      const { decision, note } = body as { decision: string; note?: string };
      const onBehalf = headers['x-payrail-on-behalf-of'];
      const analyst = typeof onBehalf === 'string' ? `console:${onBehalf}` : 'console';
      const earlier = decided.get(id);
      const answer = (outcome: string) => ({ status: 200, body: { payment_id: id, outcome, decision, review: { analyst, decided_at: '2025-03-01T10:01:00Z', note }, screened_at: '2025-03-01T10:01:00Z' } });
      if (earlier) return earlier.decision === decision ? answer('already_decided') : problem(409, 'review-already-decided');
      if (!pending.has(id)) return problem(404, 'review-not-found');
      pending.delete(id);
      decided.set(id, { decision, note, analyst });
      return answer('decided');
    }
    return problem(404, 'not-found');
  };
}

describe('FraudAdminReviewQueue', () => {
  const pending = new Map<string, ReturnType<typeof review>>();
  const decided = new Map<string, { decision: string; note?: string; analyst: string }>();
  let api: Awaited<ReturnType<typeof standIn>>;
  beforeAll(async () => (api = await standIn(fraudAdminRoutes(pending, decided))));
  afterAll(() => api.close());

  it('lists the REVIEW queue of /admin/v1/reviews with amounts for display', async () => {
    const id = randomUUID();
    pending.set(id, review(id));
    const queue = new FraudAdminReviewQueue(api.url, TOKEN);
    await expect(queue.pending(50)).resolves.toEqual({
      total: 1,
      reviews: [{ payment_id: id, merchant_id: 'm-1', amount: { minor: '250000', currency: 'EUR', display: '2500.00' }, score: 60, rules: ['amount.review_limit'], screened_at: '2025-03-01T10:00:00Z' }],
    });
    expect(api.calls.at(-1)?.url.searchParams.get('limit')).toBe('50');
    pending.clear();
  });

  it('shows the newest page when the queue holds more than it asks for, so a payment just sent to REVIEW is on it', async () => {
    const ids = Array.from({ length: 7 }, () => randomUUID());
    for (const id of ids) pending.set(id, review(id)); // oldest first, as fraud-check's queue
    const shown = await new FraudAdminReviewQueue(api.url, TOKEN).pending(3);
    expect(shown.total).toBe(7);
    expect(shown.reviews.map((r) => r.payment_id)).toEqual(ids.slice(4));
    expect(api.calls.at(-1)?.url.searchParams.get('offset')).toBe('4');
    pending.clear();
  });

  it('decides once, on behalf of the console user who clicked; the same decision again is harmless, the other one a conflict', async () => {
    const id = randomUUID();
    pending.set(id, review(id));
    const queue = new FraudAdminReviewQueue(api.url, TOKEN);
    const command = { paymentId: id, decision: 'APPROVE' as const, operator: 'ops.alice', note: 'known customer', requestId: randomUUID() };
    await expect(queue.decide(command)).resolves.toBe('decided');
    expect(decided.get(id)).toEqual({ decision: 'APPROVE', note: 'known customer', analyst: 'console:ops.alice' });
    expect(api.calls.at(-1)?.headers['x-request-id']).toBe(command.requestId);
    expect(api.calls.at(-1)?.headers['x-payrail-on-behalf-of']).toBe('ops.alice');
    await expect(queue.decide({ ...command, requestId: randomUUID() })).resolves.toBe('already_decided');
    await expect(queue.decide({ ...command, decision: 'DECLINE', requestId: randomUUID() })).resolves.toBe('conflict');
    await expect(queue.decide({ ...command, paymentId: randomUUID() })).resolves.toBe('not_found');
    await expect(queue.pending(10)).resolves.toEqual({ total: 0, reviews: [] });
  });

  it('reports a refused token or an unreachable service without ever showing the token', async () => {
    const refused = await new FraudAdminReviewQueue(api.url, 'pfo_wrong').pending(10).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(IntegrationError);
    expect((refused as Error).message).toBe('fraud-check admin API: listing reviews answered 401 (the console token is not in FRAUD_OPERATORS_FILE)');
    const closed = await standIn(() => ({ status: 200 }));
    await closed.close();
    const unreachable = await new FraudAdminReviewQueue(closed.url, TOKEN).decide({ paymentId: randomUUID(), decision: 'DECLINE', operator: 'x', requestId: 'r' }).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(IntegrationError);
    expect((unreachable as Error).message).toMatch(/^fraud-check admin API: unreachable \(/);
    expect(`${(refused as Error).message}${(unreachable as Error).message}`).not.toContain('pfo_');
  });

  it('names the field of an answer it cannot read', async () => {
    const odd = await standIn(() => ({ status: 200, body: { total: 1, offset: 0, reviews: [{ payment_id: 'p' }] } }));
    try {
      await expect(new FraudAdminReviewQueue(odd.url, TOKEN).pending(1)).rejects.toThrow(/unexpected response: reviews\.0\.merchant_id/);
    } finally {
      await odd.close();
    }
  });
});

describe('SettlementLedgerClient', () => {
  const money = (minor: string) => ({ minor, currency: 'EUR' });
  const row = (payable: string, fee: string, clearing: string) => ({ currency: 'EUR', clearing: money(clearing), merchant_payable: money(payable), fee_revenue: money(fee), sum: money('0') });
  const batch = (merchantId: string, opened: string, net: string) => ({
    batch_id: `${merchantId}.EUR.${opened.replace(/[-:]/g, '')}`,
    merchant_id: merchantId,
    currency: 'EUR',
    status: 'signed',
    window: { start: opened, end: opened },
    opened_at: opened,
    closed_at: opened,
    close_reason: 'cutoff',
    payment_count: 2,
    gross: money('2000'),
    fees: money('52'),
    net: money(net),
    links: { self: '/v1/settlements/batches/x' },
  });
  let api: Awaited<ReturnType<typeof standIn>>;
  beforeAll(
    async () =>
      (api = await standIn(({ url, headers }) => {
        if (headers.authorization !== `Bearer ${SETTLEMENT_TOKEN}`) return problem(401, 'unauthenticated');
        if (url.pathname === '/v1/settlements/batches') {
          const merchant = url.searchParams.get('merchant_id') ?? '';
          const items = { 'm-1': [batch('m-1', '2025-03-01T10:00:00Z', '1948')], 'm-2': [batch('m-2', '2025-03-01T11:00:00Z', '974')] }[merchant] ?? [];
          return { status: 200, body: { merchant_id: merchant, items, total: items.length, offset: 0, limit: Number(url.searchParams.get('limit')) } };
        }
        if (url.pathname === '/v1/accounts') return { status: 200, body: { merchants: 1, balances: [row('1948', '52', '-2000')] } };
        if (url.pathname === '/v1/accounts/m-1') return { status: 200, body: { merchant_id: 'm-1', balances: [row('1948', '52', '-2000')] } };
        return problem(404, 'merchant-not-found');
      })),
  );
  afterAll(() => api.close());

  it("lists the named merchants' batches, newest first", async () => {
    const ledger = new SettlementLedgerClient(api.url, SETTLEMENT_TOKEN);
    const batches = await ledger.batches(['m-1', 'm-2', 'm-none'], 20);
    expect(batches.map((b) => [b.merchant_id, b.net.display])).toEqual([
      ['m-2', '9.74'],
      ['m-1', '19.48'],
    ]);
    expect(batches[1]).toEqual({ batch_id: 'm-1.EUR.20250301T100000Z', merchant_id: 'm-1', currency: 'EUR', status: 'signed', payments: 2, gross: { ...money('2000'), display: '20.00' }, fees: { ...money('52'), display: '0.52' }, net: { ...money('1948'), display: '19.48' }, closed_at: '2025-03-01T10:00:00Z' });
    expect(api.calls.filter((c) => c.url.pathname === '/v1/settlements/batches').map((c) => c.url.searchParams.get('limit'))).toEqual(['20', '20', '20']);
  });

  it('reads the ledger-wide totals, then each merchant with accounts (negative balances included)', async () => {
    const balances = await new SettlementLedgerClient(api.url, SETTLEMENT_TOKEN).balances(['m-1', 'm-none']);
    expect(balances.map((b) => [b.merchant_id, b.currency])).toEqual([
      [undefined, 'EUR'],
      ['m-1', 'EUR'],
    ]);
    expect(balances[1]?.accounts).toEqual({ merchant_payable: { ...money('1948'), display: '19.48' }, fee_revenue: { ...money('52'), display: '0.52' }, clearing: { ...money('-2000'), display: '-20.00' } });
  });

  it('reports what settlement answered when it refuses, without the token', async () => {
    const refused = await new SettlementLedgerClient(api.url, 'another-token-of-at-least-32-chars').balances([]).catch((e: unknown) => e);
    expect((refused as Error).message).toBe('settlement API: reading the ledger totals answered 401 (SETTLEMENT_API_TOKEN is not a client in SETTLEMENT_API_CLIENTS_FILE of settlement)');
  });
});
