// The admin HTTP API of a running fraud-check over real Kafka and Redis: authentication and roles (401/403
// problem+json), blocklist management with validation, the audit trail of every call, and the REVIEW flow
// (a payment in review waits for an analyst, then continues with the analyst's decision, exactly once).
import { randomUUID } from 'node:crypto';
import { FraudCheckHarness } from '../../test/fraud-check-harness';
import { fingerprintOf, instruction } from '../../test/payments';
import { AUDIT_STREAM_KEY } from '../audit/audit-log';
import { AuditPage, BlocklistAdded, BlocklistPage, BlocklistRemoved, ProblemSchema, ReviewDecided, ReviewPage, ReviewViewSchema, RulesView } from './admin-api.schemas';
import type { z } from 'zod';

/** The body is exactly what the documented schema (docs/fraud-check-admin.openapi.yaml) says: nothing missing, nothing extra. */
function conforms(schema: z.ZodType, body: unknown): void {
  expect(schema.parse(body)).toEqual(body);
}

const RULESET = {
  version: 'it-admin.1',
  thresholds: { review: 50, decline: 100 },
  rules: [
    { id: 'amount.review', type: 'amount_limit', score: 50, limits: { EUR: '100000' } },
    { id: 'blocklist.ip', type: 'blocklist', list: 'ip', score: 100 },
  ],
};

let h: FraudCheckHarness;

beforeAll(async () => {
  h = await FraudCheckHarness.start({ ruleset: RULESET, operators: [{ id: 'a.smith', role: 'write' }, { id: 'r.viewer', role: 'read' }, { id: 'b.jones', role: 'write' }, { id: 'console', scopes: ['reviews:read', 'reviews:decide', 'act-for-operators'] }] });
});

afterAll(async () => {
  await h?.stop();
});

type Entry = Record<string, string>;
const auditEntries = async (): Promise<Entry[]> => ((await h.admin('GET', '/admin/v1/audit?limit=1000', 'a.smith')).body['entries'] as Entry[]) ?? [];

describe('admin API: authentication and roles', () => {
  it('refuses calls without a valid bearer token with 401 problem+json and a challenge, counted in metrics, never in the audit trail', async () => {
    const refusedCount = async () => {
      const text = await (await fetch(h.url('/metrics'))).text();
      return Number(/^payrail_operator_access_refused_total\{[^}]*surface="fraud_admin"[^}]*reason="unauthenticated"[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const before = await refusedCount();
    for (const auth of [{}, { authorization: 'Bearer pfo_not-a-real-token' }, { authorization: `Basic ${Buffer.from('a.smith:x').toString('base64')}` }]) {
      const res = await h.admin('GET', '/admin/v1/blocklists/ip', auth);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="payrail-fraud-admin"');
      expect(res.body).toMatchObject({ type: 'https://payrail.dev/problems/unauthenticated', status: 401, instance: '/admin/v1/blocklists/ip' });
      conforms(ProblemSchema, res.body);
    }
    expect((await refusedCount()) - before).toBe(3);
    // a flood of them evicts nothing: the trail holds authenticated operators' calls only
    for (let i = 0; i < 40; i++) expect((await h.admin('GET', '/admin/v1/audit', { authorization: 'Bearer pfo_guess' })).status).toBe(401);
    const trail = await auditEntries();
    expect(trail.filter((e) => e['outcome'] === 'unauthenticated' || e['operator'] === 'anonymous')).toEqual([]);
    expect(trail.length).toBeGreaterThan(0);
  });

  it('lets the read role read but not write (403 naming the scope needed)', async () => {
    expect((await h.admin('GET', '/admin/v1/blocklists/ip', 'r.viewer')).status).toBe(200);
    expect((await h.admin('GET', '/admin/v1/reviews', 'r.viewer')).status).toBe(200);
    const res = await h.admin('POST', '/admin/v1/blocklists/ip/entries', 'r.viewer', { value: '192.0.2.1' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ type: 'https://payrail.dev/problems/forbidden', status: 403, required_scope: 'blocklist:write' });
    expect(String(res.body['detail'])).toContain('blocklist.add needs the blocklist:write scope');
    const decide = await h.admin('POST', `/admin/v1/reviews/${randomUUID()}/decision`, 'r.viewer', { decision: 'APPROVE' });
    expect(decide.status).toBe(403);
    expect((await auditEntries()).find((e) => e['operator'] === 'r.viewer' && e['outcome'] === 'forbidden')).toMatchObject({ action: expect.stringMatching(/^(blocklist\.add|review\.decide)$/) });
  });
});

describe('admin API: scopes and acting for operators', () => {
  it('gives the console token only what it needs: reviews yes, blocklists no', async () => {
    expect((await h.admin('GET', '/admin/v1/reviews', 'console')).status).toBe(200);
    const add = await h.admin('POST', '/admin/v1/blocklists/ip/entries', { operator: 'console', onBehalfOf: 'ops.alice' }, { value: '192.0.2.99' });
    expect(add.status).toBe(403);
    expect(add.body).toMatchObject({ required_scope: 'blocklist:write' });
    expect((await h.admin('GET', '/admin/v1/blocklists/ip', 'console')).status).toBe(403);
    expect((await h.admin('GET', '/admin/v1/audit', 'console')).status).toBe(403);
  });

  it('records the person an act-for-operators caller names, and refuses the header from anyone else', async () => {
    const listed = await h.admin('GET', '/admin/v1/reviews', { operator: 'console', onBehalfOf: 'ops.alice' });
    expect(listed.status).toBe(200);
    const forged = await h.admin('GET', '/admin/v1/reviews', { operator: 'a.smith', onBehalfOf: 'b.jones' });
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ required_scope: 'act-for-operators' });
    const malformed = await h.admin('GET', '/admin/v1/reviews', { operator: 'console', onBehalfOf: 'two people' });
    expect(malformed.status).toBe(422);
    const trail = await auditEntries();
    expect(trail.find((e) => e['operator'] === 'console:ops.alice' && e['action'] === 'reviews.list')).toMatchObject({ outcome: 'ok' });
    expect(trail.find((e) => e['operator'] === 'a.smith' && e['outcome'] === 'forbidden' && e['action'] === 'reviews.list')).toBeDefined();
    expect(trail.some((e) => e['operator'] === 'b.jones' && e['action'] === 'reviews.list')).toBe(false);
  });
});

describe('admin API: blocklists', () => {
  it('adds, lists, updates and removes entries; every change is audited with who, what and when', async () => {
    const before = Date.now();
    // blocklists are replayed from the shared blocklist topic: this run's entry has its own value
    const tail = randomUUID().slice(0, 4);
    const ip = `2001:db8::${tail.replace(/^0+/, '') || '1'}`;
    const created = await h.admin('POST', '/admin/v1/blocklists/ip/entries', 'a.smith', { value: ip.toUpperCase().replace('::', ':0:0::'), reason: 'chargebacks' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ list: 'ip', outcome: 'created', entry: { value: ip, reason: 'chargebacks', added_by: 'a.smith' } });
    conforms(BlocklistAdded, created.body);
    const updated = await h.admin('POST', '/admin/v1/blocklists/ip/entries', 'b.jones', { value: ip, reason: 'confirmed fraud' });
    expect(updated.status).toBe(200);
    expect(updated.body['outcome']).toBe('updated');

    const listed = await h.admin('GET', '/admin/v1/blocklists/ip?limit=100', 'r.viewer');
    expect(listed.body).toMatchObject({ list: 'ip' });
    conforms(BlocklistPage, listed.body);
    expect((listed.body['entries'] as { value: string }[]).filter((e) => e.value === ip)).toEqual([expect.objectContaining({ value: ip, reason: 'confirmed fraud', added_by: 'b.jones' })]);

    const removed = await h.admin('POST', '/admin/v1/blocklists/ip/removals', 'a.smith', { value: ip });
    expect(removed.status).toBe(200);
    conforms(BlocklistRemoved, removed.body);
    const again = await h.admin('POST', '/admin/v1/blocklists/ip/removals', 'a.smith', { value: ip });
    expect(again.status).toBe(404);
    expect(again.body['type']).toBe('https://payrail.dev/problems/blocklist-entry-not-found');

    conforms(AuditPage, (await h.admin('GET', '/admin/v1/audit?limit=5', 'r.viewer')).body);
    conforms(RulesView, (await h.admin('GET', '/admin/v1/rules', 'r.viewer')).body);
    const changes = (await auditEntries()).filter((e) => e['target'] === `ip:${ip}`).reverse();
    expect(changes.map((e) => [e['operator'], e['action'], e['outcome']])).toEqual([
      ['a.smith', 'blocklist.add', 'created'],
      ['b.jones', 'blocklist.add', 'updated'],
      ['a.smith', 'blocklist.remove', 'removed'],
      ['a.smith', 'blocklist.remove', 'not_found'],
    ]);
    for (const e of changes) expect(Date.parse(e['at'] ?? '')).toBeGreaterThanOrEqual(before - 1000);
    expect(changes[0]).toMatchObject({ role: 'write', detail: 'chargebacks' });
    // the stream itself, as other tools would read it
    expect(await h.redis.xlen(AUDIT_STREAM_KEY)).toBeGreaterThanOrEqual(changes.length);
  });

  it('names the offending field (problem+json) and never accepts a card number as a blocklist value', async () => {
    const pan = await h.admin('POST', '/admin/v1/blocklists/card/entries', 'a.smith', { value: '4111111111111111' });
    expect(pan.status).toBe(422);
    expect(pan.body).toMatchObject({ type: 'https://payrail.dev/problems/invalid-request-body', errors: [{ pointer: '#/value' }] });
    conforms(ProblemSchema, pan.body);
    expect(JSON.stringify(pan.body)).not.toContain('4111111111111111');
    const list = await h.admin('GET', '/admin/v1/blocklists/cards', 'a.smith');
    expect(list.status).toBe(400);
    expect(list.body['errors']).toEqual([expect.objectContaining({ pointer: '#/path/list' })]);
    const country = await h.admin('POST', '/admin/v1/blocklists/country/entries', 'a.smith', { value: 'de', extra: 1 });
    expect(country.status).toBe(422);
    expect((country.body['errors'] as { pointer: string }[]).map((e) => e.pointer).sort()).toEqual(['#', '#/value']);
    expect((await h.admin('GET', '/admin/v1/blocklists/ip?limit=0', 'a.smith')).body['errors']).toEqual([expect.objectContaining({ pointer: '#/query/limit' })]);
  });

  it('pages through a long list', async () => {
    const run = randomUUID().slice(0, 8);
    const values = Array.from({ length: 25 }, (_, i) => `m-page-${run}-${i}`);
    for (const value of values) await h.admin('POST', '/admin/v1/blocklists/merchant/entries', 'a.smith', { value });
    const seen: string[] = [];
    let cursor = '0';
    do {
      const page = await h.admin('GET', `/admin/v1/blocklists/merchant?limit=10&cursor=${cursor}`, 'r.viewer');
      seen.push(...(page.body['entries'] as { value: string }[]).map((e) => e.value));
      cursor = (page.body['next_cursor'] as string | null) ?? '0';
    } while (cursor !== '0');
    // other runs' merchants may be listed too (replayed from the shared blocklist topic)
    expect(new Set(seen.filter((v) => v.startsWith(`m-page-${run}-`)))).toEqual(new Set(values));
  });
});

describe('REVIEW flow', () => {
  async function inReview() {
    const p = instruction({ minor: '150000', merchant: 'm-review', card: { fingerprint: fingerprintOf(`review-${randomUUID()}`) }, context: { ip: '198.51.100.77' } });
    const signed = await h.submit(p);
    const decision = await h.reader.decision(p.payment_id);
    expect(decision.data).toMatchObject({ decision: 'REVIEW', reasons: [{ rule: 'amount.review' }] });
    return { p, signed, decision };
  }

  it('waits in the queue, continues with the analyst decision as a new screened event, exactly once', async () => {
    const { p, signed, decision } = await inReview();
    const queue = await h.admin('GET', '/admin/v1/reviews?limit=500', 'r.viewer');
    const queued = (queue.body['reviews'] as Record<string, unknown>[]).find((r) => r['payment_id'] === p.payment_id);
    expect(queued).toMatchObject({ merchant_id: 'm-review', amount: { minor: '150000', currency: 'EUR' }, score: 50, ruleset_version: 'it-admin.1', payer: { type: 'card', masked: '4111********1111' } });
    expect(JSON.stringify(queued)).not.toContain('protected_jwe');
    conforms(ReviewPage, queue.body);

    const decided = await h.admin('POST', `/admin/v1/reviews/${p.payment_id}/decision`, 'a.smith', { decision: 'APPROVE', note: 'customer confirmed by phone' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ outcome: 'decided', decision: 'APPROVE', review: { analyst: 'a.smith', note: 'customer confirmed by phone' } });
    conforms(ReviewDecided, decided.body);

    const final = await h.reader.until('the analyst decision', () => h.reader.screenedOf(p.payment_id).find((e) => e.data.review));
    expect(final.key).toBe('m-review');
    expect(final.eventId).toBe(`${p.payment_id}:screened:review`);
    expect(final.data).toMatchObject({ decision: 'APPROVE', score: 50, reasons: decision.data.reasons, instruction_jws: signed.instruction_jws, review: { analyst: 'a.smith' } });
    expect(Date.parse(final.data.screened_at)).toBeGreaterThanOrEqual(Date.parse(decision.data.screened_at));

    // gone from the queue; readable with its outcome
    const after = await h.admin('GET', '/admin/v1/reviews?limit=500', 'r.viewer');
    expect((after.body['reviews'] as { payment_id: string }[]).map((r) => r.payment_id)).not.toContain(p.payment_id);
    const view = (await h.admin('GET', `/admin/v1/reviews/${p.payment_id}`, 'r.viewer')).body;
    expect(view).toMatchObject({ status: 'decided', outcome: { decision: 'APPROVE', analyst: 'a.smith' } });
    conforms(ReviewViewSchema, view);

    // the same decision again is a no-op; the other one is refused
    const same = await h.admin('POST', `/admin/v1/reviews/${p.payment_id}/decision`, 'b.jones', { decision: 'APPROVE' });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ outcome: 'already_decided', review: { analyst: 'a.smith' } });
    const other = await h.admin('POST', `/admin/v1/reviews/${p.payment_id}/decision`, 'b.jones', { decision: 'DECLINE' });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ type: 'https://payrail.dev/problems/review-already-decided', decision: 'APPROVE' });

    // a redelivered signed instruction does not re-open the review; the final decision is published again
    await h.publish(signed, p.payer.fingerprint);
    await h.reader.until('the re-published events', () => (h.reader.screenedOf(p.payment_id).length >= 4 ? true : undefined));
    const events = h.reader.screenedOf(p.payment_id);
    expect(new Set(events.map((e) => e.eventId))).toEqual(new Set([`${p.payment_id}:screened:auto`, `${p.payment_id}:screened:review`]));
    expect(events.filter((e) => e.data.review).every((e) => JSON.stringify(e.data) === JSON.stringify(final.data))).toBe(true);
    expect((await h.admin('GET', `/admin/v1/reviews/${p.payment_id}`, 'r.viewer')).body['status']).toBe('decided');

    const trail = (await auditEntries()).filter((e) => e['target'] === p.payment_id && e['action'] === 'review.decide').map((e) => [e['operator'], e['outcome']]);
    expect(trail.reverse()).toEqual([
      ['a.smith', 'decided'],
      ['b.jones', 'already_decided'],
      ['b.jones', 'conflict'],
    ]);
  });

  it('records a decision the console takes for a person as theirs: console:<person> in the event, the review and the audit', async () => {
    const { p } = await inReview();
    const res = await h.admin('POST', `/admin/v1/reviews/${p.payment_id}/decision`, { operator: 'console', onBehalfOf: 'ops.alice' }, { decision: 'APPROVE', note: 'known customer' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'decided', review: { analyst: 'console:ops.alice', note: 'known customer' } });
    const final = await h.reader.until('the analyst decision', () => h.reader.screenedOf(p.payment_id).find((e) => e.data.review));
    expect(final.data.review).toMatchObject({ analyst: 'console:ops.alice' });
    const trail = (await auditEntries()).filter((e) => e['target'] === p.payment_id && e['action'] === 'review.decide');
    expect(trail.map((e) => [e['operator'], e['outcome']])).toEqual([['console:ops.alice', 'decided']]);
  });

  it('records exactly one decision when two analysts decide at once', async () => {
    const { p } = await inReview();
    const results = await Promise.all([
      h.admin('POST', `/admin/v1/reviews/${p.payment_id}/decision`, 'a.smith', { decision: 'DECLINE', note: 'stolen card' }),
      h.admin('POST', `/admin/v1/reviews/${p.payment_id}/decision`, 'b.jones', { decision: 'APPROVE' }),
    ]);
    const winners = results.filter((r) => r.body['outcome'] === 'decided');
    expect(winners).toHaveLength(1);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const final = await h.reader.until('the analyst decision', () => h.reader.screenedOf(p.payment_id).find((e) => e.data.review));
    expect(final.data.decision).toBe(winners[0]?.body['decision']);
  });

  it('answers 404 for a payment that is not in review, and validates the decision body', async () => {
    const missing = await h.admin('POST', `/admin/v1/reviews/${randomUUID()}/decision`, 'a.smith', { decision: 'APPROVE' });
    expect(missing.status).toBe(404);
    expect(missing.body['type']).toBe('https://payrail.dev/problems/review-not-found');
    const { p } = await inReview();
    const bad = await h.admin('POST', `/admin/v1/reviews/${p.payment_id}/decision`, 'a.smith', { decision: 'MAYBE' });
    expect(bad.status).toBe(422);
    expect(bad.body['errors']).toEqual([{ pointer: '#/decision', detail: 'must be APPROVE or DECLINE' }]);
    expect((await h.admin('POST', '/admin/v1/reviews/not-a-uuid/decision', 'a.smith', { decision: 'APPROVE' })).status).toBe(400);
  });
});
