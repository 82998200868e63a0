// fraud-check end to end over the real Kafka broker and Redis: signed instructions published on the signed topic,
// decisions read back from the screened topic. Every rule type fires here on what the service itself recorded in
// Redis (velocity, payees, duplicates) or on blocklists added through the admin API; tampered signatures are
// declined and alerted; the rule set is hot-reloaded. Each test uses its own cards, IPs and devices.
import { randomUUID } from 'node:crypto';
import { PaymentScreened } from '@payrail/contracts';
import { DOMAIN_METRIC_NAMES, scrapeSeries } from '@payrail/messaging';
import { FraudCheckHarness } from '../../test/fraud-check-harness';
import { InstructionOverrides, fingerprintOf, instruction } from '../../test/payments';
import { decisionKey } from './decision-record';

const RULESET = {
  version: 'it-screening.1',
  thresholds: { review: 50, decline: 100 },
  small_amount: { EUR: '300' },
  rules: [
    { id: 'amount.limit', type: 'amount_limit', score: 50, limits: { EUR: '100000', JPY: '15000000' } },
    { id: 'amount.gambling', type: 'amount_limit', score: 50, mcc: ['7995'], limits: { EUR: '5000' } },
    { id: 'bin.static', type: 'blocked_bin', score: 100, bins: ['4000'] },
    { id: 'blocklist.card', type: 'blocklist', list: 'card', score: 100 },
    { id: 'blocklist.account', type: 'blocklist', list: 'account', score: 100 },
    { id: 'blocklist.bin', type: 'blocklist', list: 'bin', score: 100 },
    { id: 'blocklist.ip', type: 'blocklist', list: 'ip', score: 100 },
    { id: 'blocklist.country', type: 'blocklist', list: 'country', score: 100 },
    { id: 'blocklist.merchant', type: 'blocklist', list: 'merchant', score: 100 },
    { id: 'velocity.card.1m', type: 'velocity', dimension: 'card', window: '1m', max_count: 3, score: 50 },
    { id: 'velocity.card.24h_sum', type: 'velocity', dimension: 'card', window: '24h', max_sum: { EUR: '400000' }, score: 50 },
    { id: 'velocity.account.1h', type: 'velocity', dimension: 'account', window: '1h', max_count: 2, score: 50 },
    { id: 'velocity.ip.1h', type: 'velocity', dimension: 'ip', window: '1h', max_count: 4, score: 50 },
    { id: 'card_testing.ip', type: 'card_testing', dimension: 'ip', window: '1h', max_small_payments: 3, score: 60 },
    { id: 'card_testing.device', type: 'card_testing', dimension: 'device', window: '1h', max_distinct_payers: 3, score: 60 },
    { id: 'first_payee', type: 'first_payee', limits: { EUR: '50000' }, score: 30 },
    { id: 'geo.mismatch', type: 'country_mismatch', score: 20 },
    { id: 'duplicate', type: 'duplicate', within_s: 60, score: 60 },
  ],
};

let h: FraudCheckHarness;
let n = 0;

/** A payment of this test with its own card, IP and device unless told otherwise. */
function payment(o: InstructionOverrides = {}) {
  n++;
  return instruction({ card: { fingerprint: fingerprintOf(`card-${n}-${randomUUID()}`) }, context: { ip: `198.51.100.${n % 250}`, device_id: `dev-${randomUUID()}` }, ...o });
}

async function screen(o: InstructionOverrides = {}): Promise<PaymentScreened> {
  const p = payment(o);
  await h.submit(p);
  return (await h.reader.decision(p.payment_id)).data;
}

const rules = (s: PaymentScreened) => s.reasons.map((r) => r.rule);
const reason = (s: PaymentScreened | undefined, rule: string) => s?.reasons.find((r) => r.rule === rule);

beforeAll(async () => {
  h = await FraudCheckHarness.start({ ruleset: RULESET, operators: [{ id: 'ops.writer', role: 'write' }] });
});

afterAll(async () => {
  await h?.stop();
});

describe('screening over Kafka and Redis', () => {
  it('approves an ordinary payment, keyed by merchant, recording the rule set version; a redelivery re-publishes the same decision', async () => {
    const p = payment({ merchant: 'm-coffee' });
    const signed = await h.submit(p);
    const first = await h.reader.decision(p.payment_id);
    expect(first.key).toBe('m-coffee');
    expect(first.eventId).toBe(`${p.payment_id}:screened:auto`);
    expect(first.data).toMatchObject({ decision: 'APPROVE', score: 0, reasons: [], ruleset_version: 'it-screening.1', instruction_jws: signed.instruction_jws });

    await h.publish(signed, p.payer.fingerprint); // as signing would on redelivery
    const both = await h.reader.until('the re-published decision', () => (h.reader.screenedOf(p.payment_id).length >= 2 ? h.reader.screenedOf(p.payment_id) : undefined));
    expect(both[1]?.eventId).toBe(first.eventId);
    expect(both[1]?.data).toEqual(first.data);
    // sealed by fraud-check (its public sealing keys verify it); deterministic, so the re-published event is identical
    await expect(h.sealVerifier.check(first.data)).resolves.toMatchObject({ ok: true });
    // stored once, without the signed instruction (every redelivery carries it) and without the seal (made at publishing)
    const { instruction_jws: _jws, seal: _seal, ...record } = first.data;
    expect(JSON.parse((await h.redis.get(decisionKey(p.payment_id))) ?? '{}')).toEqual(record);
  });

  it("seals an analyst's decision over the analyst, the decision and the instruction: changed or moved, the seal no longer verifies", async () => {
    const doubtful = { fingerprint: fingerprintOf(`seal-review-${randomUUID()}`), country: 'DE' };
    const p = payment({ card: doubtful, minor: '60000', merchant: 'm-sealed', context: { country: 'BR' } });
    await h.submit(p);
    const auto = (await h.reader.decision(p.payment_id)).data;
    expect(auto.decision).toBe('REVIEW');
    await expect(h.sealVerifier.check(auto)).resolves.toMatchObject({ ok: true });
    let decided = await h.admin('POST', `/admin/v1/reviews/${p.payment_id}/decision`, 'ops.writer', { decision: 'APPROVE', note: 'seal test' });
    for (let i = 0; decided.status === 404 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100)); // the review is queued as the decision is handled
      decided = await h.admin('POST', `/admin/v1/reviews/${p.payment_id}/decision`, 'ops.writer', { decision: 'APPROVE', note: 'seal test' });
    }
    expect(decided.status).toBe(200);
    const final = (await h.reader.until('the analyst decision', () => h.reader.screenedOf(p.payment_id).find((e) => e.data.review))).data;
    expect(final).toMatchObject({ decision: 'APPROVE', review: { analyst: 'ops.writer', note: 'seal test' } });
    await expect(h.sealVerifier.check(final)).resolves.toMatchObject({ ok: true });
    const other = h.sign(payment());
    for (const changed of [
      { ...final, review: { analyst: 'mallory', decided_at: final.review?.decided_at ?? '' } },
      { ...final, decision: 'DECLINE' as const },
      { ...final, instruction_jws: other.instruction_jws },
      { ...final, seal: auto.seal },
    ]) {
      await expect(h.sealVerifier.check(changed)).resolves.toMatchObject({ ok: false, reason: 'signature' });
    }
  });

  it('amount limits per currency and per merchant category', async () => {
    const over = await screen({ minor: '100001' });
    expect(over.decision).toBe('REVIEW');
    expect(reason(over, 'amount.limit')?.observed).toEqual({ amount_minor: '100001', limit_minor: '100000', currency: 'EUR' });
    expect((await screen({ minor: '100001', currency: 'JPY' })).decision).toBe('APPROVE');
    const gambling = await screen({ minor: '5001', mcc: '7995' });
    expect(rules(gambling)).toEqual(['amount.gambling']);
    expect(rules(await screen({ minor: '5001', mcc: '5814' }))).toEqual([]);
    expect(rules(await screen({ card: { bin: '4000', fingerprint: fingerprintOf(randomUUID()) } }))).toEqual(['bin.static']);
  });

  it('declines payments on every blocklist (added through the admin API) and approves again once removed', async () => {
    const card = fingerprintOf(`blocked-card-${randomUUID()}`);
    const account = fingerprintOf(`blocked-account-${randomUUID()}`);
    const adds: [string, string][] = [['card', card], ['account', account], ['bin', '535'], ['ip', '2001:db8::beef'], ['country', 'KP'], ['merchant', 'm-blocked']];
    for (const [list, value] of adds) {
      const res = await h.admin('POST', `/admin/v1/blocklists/${list}/entries`, 'ops.writer', { value, reason: 'integration test' });
      expect([200, 201]).toContain(res.status);
    }
    const cases: [string, InstructionOverrides, Record<string, string>][] = [
      ['blocklist.card', { card: { fingerprint: card } }, { list: 'card', value: card, field: 'payer.fingerprint' }],
      ['blocklist.account', { account: { fingerprint: account } }, { list: 'account', value: account, field: 'payer.fingerprint' }],
      ['blocklist.bin', { card: { bin: '5353', fingerprint: fingerprintOf(randomUUID()) } }, { list: 'bin', value: '535', field: 'payer.bin' }],
      // written in full, listed compressed: both normalised the same way
      ['blocklist.ip', { context: { ip: '2001:0db8:0000:0000:0000:0000:0000:beef' } }, { list: 'ip', value: '2001:db8::beef', field: 'context.ip' }],
      ['blocklist.country', { context: { ip: '192.0.2.44', country: 'KP' } }, { list: 'country', value: 'KP', field: 'context.country' }],
      ['blocklist.merchant', { merchant: 'm-blocked' }, { list: 'merchant', value: 'm-blocked', field: 'payee.merchant_id' }],
    ];
    const decisions = await Promise.all(cases.map(([, o]) => screen(o)));
    cases.forEach(([rule, , observed], i) => {
      expect(decisions[i]?.decision).toBe('DECLINE');
      expect(reason(decisions[i], rule)?.observed).toEqual(observed);
    });

    const removed = await h.admin('POST', '/admin/v1/blocklists/ip/removals', 'ops.writer', { value: '2001:db8::beef' });
    expect(removed.status).toBe(200);
    expect((await screen({ context: { ip: '2001:db8::beef' } })).decision).toBe('APPROVE');
  });

  it('velocity: count per card in 1 minute, sum per card in 24 hours, count per payer account and per IP', async () => {
    const card = { fingerprint: fingerprintOf(`velocity-card-${randomUUID()}`) };
    const counted = [];
    for (let i = 0; i < 4; i++) counted.push(await screen({ card, minor: '1000', merchant: `m-v${i}` }));
    expect(counted.map((s) => s.decision)).toEqual(['APPROVE', 'APPROVE', 'APPROVE', 'REVIEW']);
    expect(reason(counted[3], 'velocity.card.1m')?.observed).toEqual({ window: '1m', count: 4, max_count: 3 });

    const rich = { fingerprint: fingerprintOf(`velocity-sum-${randomUUID()}`) };
    expect(rules(await screen({ card: rich, minor: '40000', merchant: 'm-s1' }))).toEqual([]);
    // 400,000 minor units is the limit: 40,000 + 360,001 exceeds it by one
    const second = await screen({ card: rich, minor: '360001', merchant: 'm-s2' });
    expect(reason(second, 'velocity.card.24h_sum')?.observed).toEqual({ window: '24h', count: 2, sum_minor: '400001', max_sum_minor: '400000', currency: 'EUR' });

    const account = { fingerprint: fingerprintOf(`velocity-account-${randomUUID()}`) };
    const byAccount = [];
    for (let i = 0; i < 3; i++) byAccount.push(await screen({ account, minor: String(2000 + i) }));
    expect(byAccount.map((s) => rules(s).includes('velocity.account.1h'))).toEqual([false, false, true]);

    // five different cards from one IP, concurrently: exactly one of them is the fifth
    const ip = `192.0.2.${100 + (n % 100)}`;
    const fromIp = await Promise.all(Array.from({ length: 5 }, () => screen({ context: { ip } })));
    const fired = fromIp.map((s) => reason(s, 'velocity.ip.1h')).filter((r) => r !== undefined);
    expect(fired.map((r) => r?.observed)).toEqual([{ window: '1h', count: 5, max_count: 4 }]);
  });

  it('card testing: many small payments from one IP, many distinct cards on one device', async () => {
    const ip = `203.0.113.${200 + (n % 50)}`;
    const small = await Promise.all(Array.from({ length: 4 }, (_, i) => screen({ minor: String(100 + i), context: { ip } })));
    const smallFired = small.map((s) => reason(s, 'card_testing.ip')?.observed).filter((o) => o !== undefined);
    expect(smallFired).toEqual([{ window: '1h', distinct_payers: 4, small_payments: 4, max_small_payments: 3 }]);

    const device = `dev-${randomUUID()}`;
    const cards = await Promise.all(Array.from({ length: 4 }, (_, i) => screen({ context: { ip: `198.18.0.${i + 1}`, device_id: device } })));
    const cardsFired = cards.map((s) => reason(s, 'card_testing.device')?.observed).filter((o) => o !== undefined);
    expect(cardsFired).toEqual([{ window: '1h', distinct_payers: 4, small_payments: 0, max_distinct_payers: 3 }]);
    expect(cards.filter((s) => s.decision === 'REVIEW')).toHaveLength(1);
  });

  it('first payment to a payee above the threshold, until a payment to that payee was approved', async () => {
    const card = { fingerprint: fingerprintOf(`payee-${randomUUID()}`) };
    const first = await screen({ card, minor: '60000', merchant: 'm-new' });
    expect(first).toMatchObject({ decision: 'APPROVE', reasons: [{ rule: 'first_payee', observed: { merchant_id: 'm-new', amount_minor: '60000', limit_minor: '50000', currency: 'EUR' } }] });
    expect(rules(await screen({ card, minor: '60001', merchant: 'm-new' }))).toEqual([]);
    expect(rules(await screen({ card, minor: '60000', merchant: 'm-other' }))).toEqual(['first_payee']);

    // not approved (REVIEW): the payee is still not known to this payer
    const doubtful = { fingerprint: fingerprintOf(`payee-review-${randomUUID()}`), country: 'DE' };
    const reviewed = await screen({ card: doubtful, minor: '60000', merchant: 'm-far', context: { country: 'BR' } });
    expect(reviewed.decision).toBe('REVIEW');
    expect(rules(await screen({ card: doubtful, minor: '60002', merchant: 'm-far' }))).toEqual(['first_payee']);
  });

  it('IP country different from the card or account country', async () => {
    const card = await screen({ card: { fingerprint: fingerprintOf(randomUUID()), country: 'DE' }, context: { ip: '192.0.2.9', country: 'NG' } });
    expect(card.reasons).toEqual([{ rule: 'geo.mismatch', code: 'country_mismatch', score: 20, observed: { ip_country: 'NG', payer_country: 'DE', payer_type: 'card' } }]);
    const account = await screen({ account: { fingerprint: fingerprintOf(randomUUID()), country: 'FR' }, context: { country: 'US' } });
    expect(rules(account)).toEqual(['geo.mismatch']);
    expect(rules(await screen({ card: { fingerprint: fingerprintOf(randomUUID()), country: 'DE' }, context: { country: 'DE' } }))).toEqual([]);
  });

  it('duplicate: the same payer, payee and amount within N seconds', async () => {
    const card = { fingerprint: fingerprintOf(`dup-${randomUUID()}`) };
    const original = payment({ card, minor: '4242', merchant: 'm-dup' });
    await h.submit(original);
    const again = await screen({ card, minor: '4242', merchant: 'm-dup' });
    expect(reason(again, 'duplicate')?.observed).toMatchObject({ duplicate_of: original.payment_id, within_s: 60 });
    expect(again.decision).toBe('REVIEW');
    expect(rules(await screen({ card, minor: '4243', merchant: 'm-dup' }))).not.toContain('duplicate');
  });

  it('declines a tampered instruction or a foreign signature with signature_invalid and raises a security alert', async () => {
    const p = payment({ minor: '1000' });
    const signed = h.sign(p);
    const [header, , signature] = signed.instruction_jws.split('.');
    const forged = Buffer.from(JSON.stringify({ ...p, amount: { minor: '1', currency: 'EUR' } })).toString('base64url');
    await h.publish({ ...signed, instruction_jws: `${header}.${forged}.${signature}` }, p.payer.fingerprint);
    const declined = await h.reader.decision(p.payment_id);
    expect(declined.data).toMatchObject({ decision: 'DECLINE', reasons: [{ rule: 'signature_invalid', observed: { kid: signed.kid } }] });
    const alert = await h.reader.until('the security alert', () => h.reader.alertsOf(p.payment_id)[0]);
    expect(alert.key).toBe(p.payment_id);
    expect(alert.data).toMatchObject({ alert: 'signature_invalid', service: 'fraud-check', payment_id: p.payment_id, kid: signed.kid });

    // another payment's valid signature under this payment id
    const q = payment();
    const other = h.sign(payment());
    await h.publish({ payment_id: q.payment_id, kid: other.kid, instruction_jws: other.instruction_jws }, q.payer.fingerprint);
    expect((await h.reader.decision(q.payment_id)).data.decision).toBe('DECLINE');
  });
});

describe('fraud metrics on GET /metrics', () => {
  const metric = (name: string, labels: Record<string, string>) => scrapeSeries(h.url('/metrics'), name, labels);

  it('counts each decision once and a hit for each rule that tripped it; a redelivery counts nothing', async () => {
    const review = { decision: 'REVIEW' };
    const tripped = ['amount.limit', 'first_payee']; // above the limit, to a payee this payer never paid
    const counts = () => Promise.all([metric(DOMAIN_METRIC_NAMES.fraudDecisions, review), ...tripped.map((rule) => metric(DOMAIN_METRIC_NAMES.fraudRuleHits, { rule, decision: 'REVIEW' }))]);
    const before = await counts();
    const p = payment({ minor: '100001' });
    const signed = await h.submit(p);
    expect(rules((await h.reader.decision(p.payment_id)).data)).toEqual(tripped);
    expect(await counts()).toEqual(before.map((n) => n + 1));

    await h.publish(signed, p.payer.fingerprint);
    await h.reader.until('the re-published decision', () => (h.reader.screenedOf(p.payment_id).length >= 2 ? true : undefined));
    expect(await counts()).toEqual(before.map((n) => n + 1));
  });

  it('counts a tampered instruction as a signature verification failure and a signature_invalid decline', async () => {
    const failures = () => metric(DOMAIN_METRIC_NAMES.signatureFailures, { document: 'payment_instruction' });
    const hits = () => metric(DOMAIN_METRIC_NAMES.fraudRuleHits, { rule: 'signature_invalid', decision: 'DECLINE' });
    const before = await Promise.all([failures(), hits()]);
    const p = payment({ minor: '1200' });
    const signed = h.sign(p);
    const [header, , signature] = signed.instruction_jws.split('.');
    const forged = Buffer.from(JSON.stringify({ ...p, amount: { minor: '2', currency: 'EUR' } })).toString('base64url');
    await h.publish({ ...signed, instruction_jws: `${header}.${forged}.${signature}` }, p.payer.fingerprint);
    expect((await h.reader.decision(p.payment_id)).data.decision).toBe('DECLINE');
    expect(await failures()).toBe((before[0] ?? 0) + 1);
    expect(await hits()).toBe((before[1] ?? 0) + 1);
  });
});

describe('rule set hot reload', () => {
  it('applies a new version without a restart, records it on decisions, and refuses bad or unversioned changes', async () => {
    expect((await h.untilRules('ops.writer', () => true))['version']).toBe('it-screening.1');
    const stricter = { ...RULESET, version: 'it-screening.2', rules: [{ id: 'amount.tiny', type: 'amount_limit', score: 100, limits: { EUR: '10' } }] };
    h.writeRules(stricter);
    const loaded = await h.untilRules('ops.writer', (r) => r['version'] === 'it-screening.2');
    const after = await screen({ minor: '11' });
    expect(after).toMatchObject({ decision: 'DECLINE', ruleset_version: 'it-screening.2', reasons: [{ rule: 'amount.tiny' }] });

    // invalid JSON, then a changed content under the same version: both refused, the loaded set stays
    h.writeRules('{ not json');
    await h.untilRules('ops.writer', (r) => JSON.stringify(r['last_refused_reload']).includes('not JSON'));
    h.writeRules({ ...stricter, rules: [] });
    const refused = await h.untilRules('ops.writer', (r) => JSON.stringify(r['last_refused_reload']).includes('give the new rule set a new version'));
    expect(refused).toMatchObject({ version: 'it-screening.2', sha256: loaded['sha256'] });
    expect((await screen({ minor: '11' })).decision).toBe('DECLINE');
  });
});
