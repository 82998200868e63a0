// The HTTP adapters against stand-ins that implement the documented APIs (fraud-check admin, settlement): what
// the console asks for, how answers map onto the ports, and how failures surface (never with the token).
import { randomUUID } from 'node:crypto';
import { FraudAdminReviewQueue } from './fraud-admin.client';
import { IntegrationError } from './ports';
import { SettlementLedgerClient } from './settlement.client';

const TOKEN = 'pfo_secret-token-value';

interface Call {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
}

function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? '' : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** fraud-check's admin API as documented in fraud-admin.client.ts: REVIEW queue, first decision wins. */
function fraudAdmin() {
  const calls: Call[] = [];
  const pending = new Map<string, Record<string, unknown>>();
  const decided = new Map<string, { decision: string; analyst: string | null }>();
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method: init?.method ?? 'GET', url, headers, body });
    if (headers.get('authorization') !== `Bearer ${TOKEN}`) return json(401, { title: 'unauthenticated' });
    if (url.pathname === '/v1/admin/reviews') return json(200, { total: pending.size, reviews: [...pending.values()].slice(0, Number(url.searchParams.get('limit'))) });
    const m = /^\/v1\/admin\/reviews\/([^/]+)\/decision$/.exec(url.pathname);
    if (m?.[1] && init?.method === 'POST') {
      const id = decodeURIComponent(m[1]);
      const earlier = decided.get(id);
      if (earlier) return earlier.decision === body.decision ? json(200, { outcome: 'already_decided' }) : json(409, { title: 'conflict' });
      if (!pending.has(id)) return json(404, { title: 'not found' });
      pending.delete(id);
      decided.set(id, { decision: body.decision, analyst: headers.get('x-payrail-on-behalf-of') });
      return json(200, { outcome: 'decided' });
    }
    return json(404, {});
  }) as typeof fetch;
  return { calls, pending, decided, fetchImpl };
}

function review(id: string) {
  return { payment_id: id, upstream_id: 'psp-alpha', merchant_id: 'm-1', mcc: '5411', amount: { minor: '250000', currency: 'EUR' }, score: 60, reasons: [{ rule: 'amount.review_limit', score: 60 }], ruleset_version: 'v1', screened_at: '2025-03-01T10:00:00Z', accepted_at: '2025-03-01T10:00:00Z' };
}

describe('FraudAdminReviewQueue', () => {
  it('lists the REVIEW queue with amounts for display', async () => {
    const api = fraudAdmin();
    const id = randomUUID();
    api.pending.set(id, review(id));
    const queue = new FraudAdminReviewQueue('http://fraud:8082', TOKEN, api.fetchImpl);
    await expect(queue.pending(50)).resolves.toEqual({
      total: 1,
      reviews: [{ payment_id: id, merchant_id: 'm-1', amount: { minor: '250000', currency: 'EUR', display: '2500.00' }, score: 60, rules: ['amount.review_limit'], screened_at: '2025-03-01T10:00:00Z' }],
    });
    expect(api.calls[0]?.url.searchParams.get('limit')).toBe('50');
  });

  it('decides once for the operator who clicked; the same decision again is harmless, the other one a conflict', async () => {
    const api = fraudAdmin();
    const id = randomUUID();
    api.pending.set(id, review(id));
    const queue = new FraudAdminReviewQueue('http://fraud:8082', TOKEN, api.fetchImpl);
    const command = { paymentId: id, decision: 'APPROVE' as const, operator: 'ops.alice', requestId: randomUUID() };
    await expect(queue.decide(command)).resolves.toBe('decided');
    expect(api.decided.get(id)).toEqual({ decision: 'APPROVE', analyst: 'ops.alice' });
    expect(api.calls.at(-1)?.headers.get('x-request-id')).toBe(command.requestId);
    await expect(queue.decide({ ...command, requestId: randomUUID() })).resolves.toBe('already_decided');
    await expect(queue.decide({ ...command, decision: 'DECLINE', requestId: randomUUID() })).resolves.toBe('conflict');
    await expect(queue.decide({ ...command, paymentId: randomUUID() })).resolves.toBe('not_found');
    await expect(queue.pending(10)).resolves.toEqual({ total: 0, reviews: [] });
  });

  it('reports a refused token or an unreachable service without ever showing the token', async () => {
    const api = fraudAdmin();
    const wrong = new FraudAdminReviewQueue('http://fraud:8082', 'pfo_wrong', api.fetchImpl);
    const refused = await wrong.pending(10).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(IntegrationError);
    expect(String((refused as Error).message)).toBe('fraud-check admin API: listing reviews answered 401');
    const down = new FraudAdminReviewQueue('http://fraud:8082', TOKEN, (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch);
    const unreachable = await down.decide({ paymentId: randomUUID(), decision: 'DECLINE', operator: 'x', requestId: 'r' }).catch((e: unknown) => e);
    expect((unreachable as Error).message).toBe('fraud-check admin API: unreachable (fetch failed)');
    expect(`${(refused as Error).message}${(unreachable as Error).message}`).not.toContain('pfo_');
  });

  it('names the field of an answer it cannot read', async () => {
    const queue = new FraudAdminReviewQueue('http://fraud:8082', TOKEN, (async () => json(200, { total: 1, reviews: [{ payment_id: 'p' }] })) as typeof fetch);
    await expect(queue.pending(1)).rejects.toThrow(/unexpected response: reviews\.0\.merchant_id/);
  });
});

describe('SettlementLedgerClient', () => {
  const money = (minor: string) => ({ minor, currency: 'EUR' });
  const settlement = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    if (new Headers(init?.headers).get('authorization') !== 'Bearer st') return json(401, {});
    if (url.pathname === '/v1/settlements/batches') {
      return json(200, { batches: [{ batch_id: 'm-1:EUR:20250301T10', merchant_id: 'm-1', currency: 'EUR', status: 'signed', payment_count: 2, gross: money('2000'), fees: money('52'), net: money('1948'), kid: 'k1' }] });
    }
    if (url.pathname === '/v1/accounts') {
      return json(200, { accounts: [{ merchant_id: 'm-1', currency: 'EUR', balances: { merchant_payable: money('1948'), fee_revenue: money('52'), clearing: money('-2000') } }] });
    }
    return json(404, {});
  }) as typeof fetch;

  it('reads batches and balances, negative balances included', async () => {
    const ledger = new SettlementLedgerClient('http://settlement:8083', 'st', settlement);
    await expect(ledger.batches(20)).resolves.toEqual([
      { batch_id: 'm-1:EUR:20250301T10', merchant_id: 'm-1', currency: 'EUR', status: 'signed', payments: 2, gross: { ...money('2000'), display: '20.00' }, fees: { ...money('52'), display: '0.52' }, net: { ...money('1948'), display: '19.48' }, closed_at: undefined, kid: 'k1' },
    ]);
    const [balance] = await ledger.balances();
    expect(balance?.accounts['clearing']).toEqual({ minor: '-2000', currency: 'EUR', display: '-20.00' });
  });

  it('reports what settlement answered when it refuses', async () => {
    await expect(new SettlementLedgerClient('http://settlement:8083', undefined, settlement).balances()).rejects.toThrow('settlement API: listing accounts answered 401');
  });
});
