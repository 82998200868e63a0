import type { PaymentInstruction, PaymentScreened, PaymentSigned } from '@payrail/contracts';
import { fingerprintOf, instruction, paymentStream } from '../../test/payments';
import { InMemoryBlocklists } from '../blocklist/blocklist';
import { FraudEngine } from '../engine/fraud-engine';
import { RuleSet, parseRuleSet } from '../rules/ruleset';
import { InMemoryVelocityStore } from '../velocity/in-memory-velocity.store';
import { InMemoryScreeningBatchStore } from './in-memory-screening-batch.store';
import { AFTER_FAILED_OF_KEY, ScreenBatch, ScreeningBatchItem, ScreeningBatchResult } from './screen-batch';
import type { ScreenPaymentResult } from './screen-payment.use-case';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const rules = parseRuleSet(
  JSON.stringify({
    version: 'batch.1',
    thresholds: { review: 50, decline: 100 },
    small_amount: { EUR: '300' },
    rules: [
      { id: 'amount.review', type: 'amount_limit', score: 50, limits: { EUR: '200000' } },
      { id: 'velocity.card.1m', type: 'velocity', dimension: 'card', window: '1m', max_count: 3, score: 50 },
      { id: 'velocity.ip.1m', type: 'velocity', dimension: 'ip', window: '1m', max_count: 6, score: 30 },
      { id: 'card_testing.device', type: 'card_testing', dimension: 'device', window: '1h', max_distinct_payers: 3, max_small_payments: 4, score: 60 },
      { id: 'first_payee.large', type: 'first_payee', limits: { EUR: '100000' }, score: 30 },
      { id: 'duplicate.120s', type: 'duplicate', within_s: 120, score: 60 },
      { id: 'blocklist.merchant', type: 'blocklist', list: 'merchant', score: 100 },
    ],
  }),
  'batch.1',
).ruleset;

const blocklists = () => new InMemoryBlocklists({ merchant: new Map([['m-blocked', { value: 'm-blocked', added_by: 'x', added_at: '' }]]) });

interface Harness {
  batch: ScreenBatch;
  store: InMemoryScreeningBatchStore;
  published: PaymentScreened[];
  decided: PaymentScreened[];
  one: string[];
  failPublish: Set<string>;
}

/** A signed event per instruction; `tampered` ids do not verify. */
function signedOf(p: PaymentInstruction): PaymentSigned {
  return { payment_id: p.payment_id, kid: 'k1', instruction_jws: `jws.${p.payment_id}` };
}

function harness(payments: PaymentInstruction[], tampered = new Set<string>(), ruleset: RuleSet = rules): Harness {
  const byId = new Map(payments.map((p) => [p.payment_id, p]));
  const store = new InMemoryScreeningBatchStore(new InMemoryVelocityStore(), blocklists());
  const h: Harness = { store, published: [], decided: [], one: [], failPublish: new Set(), batch: undefined as unknown as ScreenBatch };
  h.batch = new ScreenBatch({
    store,
    ruleset: () => ruleset,
    verify: async (signed) => (tampered.has(signed.payment_id) ? undefined : byId.get(signed.payment_id)),
    ready: async () => undefined,
    intact: async () => true,
    publish: async (screened) => {
      if (h.failPublish.delete(screened.payment_id)) throw new Error('broker refused');
      h.published.push(screened);
    },
    screenOne: async (signed): Promise<ScreenPaymentResult> => {
      h.one.push(signed.payment_id);
      return { kind: 'SIGNATURE_INVALID', paymentId: signed.payment_id };
    },
    decided: (screened) => h.decided.push(screened),
    now: () => new Date(T0 + 3_600_000),
  });
  return h;
}

const items = (payments: PaymentInstruction[]): ScreeningBatchItem[] => payments.map((p) => ({ signed: signedOf(p), key: p.payer.fingerprint }));
const decisionOf = (r: ScreeningBatchResult | undefined) => (r && 'kind' in r && r.kind === 'DECIDED' ? r.decision : r && 'error' in r ? `error: ${r.error.message}` : r?.kind);

/** One by one through the rules engine, as the per-payment path does: screen, then mark the payee after an approval. */
async function oneByOne(payments: PaymentInstruction[]) {
  const engine = new FraudEngine(new InMemoryVelocityStore(), blocklists());
  const out = [];
  for (const p of payments) {
    const s = await engine.screen(rules, p);
    await engine.decided(p, s.decision, s.payeeKnown);
    out.push({ decision: s.decision, score: s.score, rules: s.reasons.map((r) => r.rule) });
  }
  return out;
}

const stream = (n: number): PaymentInstruction[] => paymentStream(n, { startMs: T0, seed: 7, payers: 5, merchants: ['m-1', 'm-2', 'm-3', 'm-blocked'] });

describe('ScreenBatch', () => {
  it('decides a batch exactly as one-by-one screening in offset order (velocity, duplicates, first payee, card testing)', async () => {
    const payments = stream(80);
    const expected = await oneByOne(payments);
    expect(new Set(expected.map((e) => e.decision))).toEqual(new Set(['APPROVE', 'REVIEW', 'DECLINE']));
    expect(expected.some((e) => e.rules.includes('first_payee.large'))).toBe(true);
    expect(expected.some((e) => e.rules.includes('duplicate.120s'))).toBe(true);

    for (const size of [1, 7, 80]) {
      const h = harness(payments);
      for (let i = 0; i < payments.length; i += size) await h.batch.screen(items(payments.slice(i, i + size)));
      const got = payments.map((p) => h.published.find((s) => s.payment_id === p.payment_id));
      expect(got.map((s) => ({ decision: s?.decision, score: s?.score, rules: s?.reasons.map((r) => r.rule) }))).toEqual(expected);
    }
  });

  it('two payments of one payer in one batch: the second counts the first and finds the payee known after its approval', async () => {
    const card = { fingerprint: fingerprintOf('twice') };
    const first = instruction({ at: T0, card, minor: '150000', merchant: 'm-9' });
    const second = instruction({ at: T0 + 1_000, card, minor: '160000', merchant: 'm-9' });
    const h = harness([first, second]);
    await h.batch.screen(items([first, second]));
    const [a, b] = h.published;
    // the first payment to m-9 above the limit scores first_payee; once approved, the second does not
    expect(a?.reasons.map((r) => r.rule)).toEqual(['first_payee.large']);
    expect(a?.decision).toBe('APPROVE');
    expect(b?.reasons).toEqual([]);
    // and the second payment saw two payments of the card in the minute (a third later sees three)
    const third = instruction({ at: T0 + 2_000, card, minor: '500', merchant: 'm-8' });
    const fourth = instruction({ at: T0 + 2_500, card, minor: '600', merchant: 'm-8' });
    const h2 = harness([first, second, third, fourth]);
    await h2.batch.screen(items([first, second, third, fourth]));
    expect(h2.published[3]?.reasons.map((r) => r.rule)).toEqual(['velocity.card.1m']);
    expect(h2.published[3]?.reasons[0]?.observed).toMatchObject({ count: 4 });
  });

  it('a redelivered batch counts nothing twice and publishes the stored decisions again', async () => {
    const card = { fingerprint: fingerprintOf('redelivered') };
    const payments = [0, 1, 2].map((i) => instruction({ at: T0 + i * 1_000, card, minor: String(1_000 + i), merchant: 'm-4' }));
    const h = harness(payments);
    const firstTime = await h.batch.screen(items(payments));
    const again = await h.batch.screen(items(payments));
    expect(firstTime.map(decisionOf)).toEqual(['APPROVE', 'APPROVE', 'APPROVE']);
    expect(again).toEqual(payments.map((p) => ({ kind: 'DUPLICATE', paymentId: p.payment_id })));
    expect(h.decided).toHaveLength(3); // metrics count a decision once
    expect(h.published.map((s) => s.payment_id)).toEqual([...payments, ...payments].map((p) => p.payment_id));
    // velocity recorded once per payment: a fourth payment sees 4 in the minute, and is the one over the limit
    const fourth = instruction({ at: T0 + 3_000, card, minor: '9', merchant: 'm-5' });
    const h2 = harness([...payments, fourth]);
    await h2.batch.screen(items(payments));
    await h2.batch.screen(items(payments));
    await h2.batch.screen(items([fourth]));
    expect(h2.published.at(-1)?.reasons[0]?.observed).toMatchObject({ count: 4 });
  });

  it('a failed event fails the later events of its key in the call (not other keys); the retry decides them as one by one', async () => {
    const a = { fingerprint: fingerprintOf('a') };
    const b = { fingerprint: fingerprintOf('b') };
    const payments = [
      instruction({ at: T0, card: a, minor: '100' }),
      instruction({ at: T0 + 1_000, card: a, minor: '101' }),
      instruction({ at: T0 + 1_500, card: b, minor: '102' }),
      instruction({ at: T0 + 2_000, card: a, minor: '103' }),
    ];
    const h = harness(payments);
    h.store.failOn.add(payments[1]?.payment_id ?? '');
    const results = await h.batch.screen(items(payments));
    expect(results.map(decisionOf)).toEqual(['APPROVE', 'error: injected failure for ' + payments[1]?.payment_id, 'APPROVE', `error: ${AFTER_FAILED_OF_KEY}`]);
    expect(h.published.map((s) => s.payment_id)).toEqual([payments[0]?.payment_id, payments[2]?.payment_id]);
    // the consumer retries the failed ones, in offset order
    const retried = await h.batch.screen(items([payments[1], payments[3]].filter((p): p is PaymentInstruction => !!p)));
    expect(retried.map(decisionOf)).toEqual(['APPROVE', 'APPROVE']);
    expect(h.decided.map((s) => s.payment_id).sort()).toEqual(payments.map((p) => p.payment_id).sort());
  });

  it('a publish that fails is an error for that event only; the retry publishes the stored decision', async () => {
    const payments = [instruction({ at: T0, card: { fingerprint: fingerprintOf('p1') } }), instruction({ at: T0, card: { fingerprint: fingerprintOf('p2') } })];
    const h = harness(payments);
    h.failPublish.add(payments[0]?.payment_id ?? '');
    const results = await h.batch.screen(items(payments));
    expect(results.map(decisionOf)).toEqual(['error: broker refused', 'APPROVE']);
    expect(await h.batch.screen(items(payments.slice(0, 1)))).toEqual([{ kind: 'DUPLICATE', paymentId: payments[0]?.payment_id }]);
    expect(h.published.map((s) => s.payment_id)).toEqual([payments[1]?.payment_id, payments[0]?.payment_id]);
  });

  it('hands an invalid signature and a payment id repeated in the batch to the per-payment path, after the rest', async () => {
    const [p1, p2, p3] = [0, 1, 2].map((i) => instruction({ at: T0 + i, card: { fingerprint: fingerprintOf(`x${i}`) } }));
    if (!p1 || !p2 || !p3) throw new Error('no payments');
    const h = harness([p1, p2, p3], new Set([p2.payment_id]));
    const results = await h.batch.screen(items([p1, p2, p3, p1]));
    expect(h.one).toEqual([p2.payment_id, p1.payment_id]);
    expect(results.map(decisionOf)).toEqual(['APPROVE', 'SIGNATURE_INVALID', 'APPROVE', 'SIGNATURE_INVALID']);
    expect(h.published.map((s) => s.payment_id)).toEqual([p1.payment_id, p3.payment_id]);
  });

  it('opens a review for a REVIEW and makes a redelivered REVIEW record permanent', async () => {
    const p = instruction({ at: T0, card: { fingerprint: fingerprintOf('big') }, minor: '250000' });
    const h = harness([p]);
    expect((await h.batch.screen(items([p]))).map(decisionOf)).toEqual(['REVIEW']);
    expect(h.store.reviews.get(p.payment_id)?.screened.decision).toBe('REVIEW');
    const final: PaymentScreened = { ...(h.published[0] as PaymentScreened), decision: 'APPROVE', review: { analyst: 'analyst-1', decided_at: new Date(T0).toISOString() } };
    h.store.reviews.set(p.payment_id, { screened: h.published[0] as PaymentScreened, final });
    await h.batch.screen(items([p]));
    expect(h.store.persisted).toEqual([p.payment_id]);
    // the automatic decision again, then the analyst's
    expect(h.published.map((s) => s.decision)).toEqual(['REVIEW', 'REVIEW', 'APPROVE']);
  });
});
