import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { instruction } from '../../test/payments';
import { VelocityObservation, WindowTotals } from '../velocity/velocity';
import { FraudSignals, NO_SIGNALS, evaluate } from './evaluate';
import { RuleSet, RuleSetError, duplicateLookbackMs, parseRuleSet } from './ruleset';

const DEFAULT_FILE = join(__dirname, '../../rules/ruleset.json');
const { ruleset: defaults } = parseRuleSet(readFileSync(DEFAULT_FILE, 'utf8'), DEFAULT_FILE);

function set(rules: unknown[], extra: Record<string, unknown> = {}): RuleSet {
  return parseRuleSet(JSON.stringify({ version: 't.1', thresholds: { review: 50, decline: 100 }, rules, ...extra }), 'test').ruleset;
}

function totals(t: Partial<WindowTotals> = {}): WindowTotals {
  return { count: 1, sumMinor: 0n, distinctPayers: 0, smallPayments: 0, ...t };
}

function observation(o: Partial<VelocityObservation> & { h1?: Partial<WindowTotals> } = {}): VelocityObservation {
  return { watermarkMs: 0, firstPaymentToPayee: false, windows: { '1m': totals(), '1h': totals(o.h1), '24h': totals() }, ...o };
}

describe('the default rule set', () => {
  it('parses, and approves an ordinary payment with no reasons, recording its version', () => {
    expect(defaults.version).toMatch(/^\d{4}-\d{2}-\d{2}\.\d+$/);
    expect(evaluate(defaults, instruction({ minor: '1050' }))).toEqual({ decision: 'APPROVE', score: 0, reasons: [], rulesetVersion: defaults.version });
  });

  it('puts an amount above the review limit in REVIEW with the observed amount', () => {
    const v = evaluate(defaults, instruction({ minor: '200001' }));
    expect(v.decision).toBe('REVIEW');
    expect(v.reasons).toEqual([{ rule: 'amount.review_limit', code: 'amount_limit', score: 50, observed: { amount_minor: '200001', limit_minor: '200000', currency: 'EUR' } }]);
  });

  it('declines above the hard limit and for the static BIN list, comparing amounts as integers', () => {
    expect(evaluate(defaults, instruction({ minor: '1000001' })).decision).toBe('DECLINE');
    expect(evaluate(defaults, instruction({ card: { bin: '4000' } })).decision).toBe('DECLINE');
    // "9" > "10" as strings; never as amounts
    expect(evaluate(defaults, instruction({ minor: '9' })).decision).toBe('APPROVE');
  });

  it('gives each currency its own limit (JPY has no minor unit)', () => {
    expect(evaluate(defaults, instruction({ minor: '250000', currency: 'JPY' })).decision).toBe('APPROVE');
    expect(evaluate(defaults, instruction({ minor: '35000000', currency: 'JPY' })).decision).toBe('REVIEW');
  });

  it('keeps a large first payment with a country mismatch in REVIEW (the demo and e2e rely on it)', () => {
    const p = instruction({ minor: '250000', account: { country: 'DE' }, context: { country: 'FR' } });
    const v = evaluate(defaults, p, { velocity: { account: observation({ firstPaymentToPayee: true }) }, blocklistHits: [] });
    expect(v.reasons.map((r) => r.rule)).toEqual(['amount.review_limit', 'first_payee.large', 'geo.ip_country_mismatch']);
    expect(v.decision).toBe('REVIEW');
  });
});

describe('rule types', () => {
  it('amount_limit per merchant category applies only to the categories it names', () => {
    const rules = set([{ id: 'mcc', type: 'amount_limit', score: 60, mcc: ['7995'], limits: { EUR: '5000' } }]);
    expect(evaluate(rules, instruction({ minor: '5001', mcc: '5814' })).reasons).toEqual([]);
    expect(evaluate(rules, instruction({ minor: '5001', mcc: '7995' })).reasons).toEqual([
      { rule: 'mcc', code: 'amount_limit', score: 60, observed: { amount_minor: '5001', limit_minor: '5000', currency: 'EUR', mcc: '7995' } },
    ]);
    expect(evaluate(rules, instruction({ minor: '5001', mcc: '7995', currency: 'USD' })).reasons).toEqual([]);
  });

  it('blocklist fires on a hit of its own list only, naming the list, value and field', () => {
    const rules = set([
      { id: 'bl.ip', type: 'blocklist', list: 'ip', score: 100 },
      { id: 'bl.card', type: 'blocklist', list: 'card', score: 100 },
    ]);
    const signals: FraudSignals = { velocity: {}, blocklistHits: [{ list: 'ip', value: '203.0.113.7', field: 'context.ip' }] };
    const v = evaluate(rules, instruction(), signals);
    expect(v.reasons).toEqual([{ rule: 'bl.ip', code: 'blocklisted', score: 100, observed: { list: 'ip', value: '203.0.113.7', field: 'context.ip' } }]);
    expect(v.decision).toBe('DECLINE');
  });

  it('velocity counts and sums per dimension and window; the sum is compared in the payment currency as bigint', () => {
    const rules = set([
      { id: 'v.count', type: 'velocity', dimension: 'card', window: '1h', max_count: 3, score: 50 },
      { id: 'v.sum', type: 'velocity', dimension: 'card', window: '1h', max_sum: { EUR: '9007199254740993' }, score: 50 },
      { id: 'v.ip', type: 'velocity', dimension: 'ip', window: '1h', max_count: 1, score: 10 },
    ]);
    const under = { velocity: { card: observation({ h1: { count: 3, sumMinor: 9007199254740993n } }) }, blocklistHits: [] };
    expect(evaluate(rules, instruction(), under).reasons).toEqual([]);
    const over = { velocity: { card: observation({ h1: { count: 4, sumMinor: 9007199254740994n } }) }, blocklistHits: [] };
    expect(evaluate(rules, instruction(), over).reasons).toEqual([
      { rule: 'v.count', code: 'velocity_limit', score: 50, observed: { window: '1h', count: 4, max_count: 3 } },
      { rule: 'v.sum', code: 'velocity_limit', score: 50, observed: { window: '1h', count: 4, sum_minor: '9007199254740994', max_sum_minor: '9007199254740993', currency: 'EUR' } },
    ]);
    // no IP in the payment: the IP rule has nothing to look at
    expect(evaluate(rules, instruction({ context: null }), over).reasons.map((r) => r.rule)).not.toContain('v.ip');
  });

  it('card_testing fires on too many distinct payers or too many small payments from one IP/device', () => {
    const rules = set([{ id: 'ct', type: 'card_testing', dimension: 'device', window: '1h', max_distinct_payers: 5, max_small_payments: 8, score: 60 }], { small_amount: { EUR: '300' } });
    const at = (distinctPayers: number, smallPayments: number) => evaluate(rules, instruction(), { velocity: { device: observation({ h1: { distinctPayers, smallPayments } }) }, blocklistHits: [] });
    expect(at(5, 8).reasons).toEqual([]);
    expect(at(6, 0).reasons[0]?.observed).toEqual({ window: '1h', distinct_payers: 6, small_payments: 0, max_distinct_payers: 5, max_small_payments: 8 });
    expect(at(1, 9).decision).toBe('REVIEW');
  });

  it('first_payee fires for a first payment above the limit only', () => {
    const rules = set([{ id: 'fp', type: 'first_payee', limits: { EUR: '100000' }, score: 30 }]);
    const signals = (first: boolean): FraudSignals => ({ velocity: { card: observation({ firstPaymentToPayee: first }) }, blocklistHits: [] });
    expect(evaluate(rules, instruction({ minor: '100001' }), signals(true)).reasons).toEqual([
      { rule: 'fp', code: 'first_payee', score: 30, observed: { merchant_id: 'm-1', amount_minor: '100001', limit_minor: '100000', currency: 'EUR' } },
    ]);
    expect(evaluate(rules, instruction({ minor: '100001' }), signals(false)).reasons).toEqual([]);
    expect(evaluate(rules, instruction({ minor: '100000' }), signals(true)).reasons).toEqual([]);
  });

  it('country_mismatch compares the IP country with the card or account country when both are known', () => {
    const rules = set([{ id: 'geo', type: 'country_mismatch', score: 20 }]);
    expect(evaluate(rules, instruction({ card: { country: 'DE' }, context: { country: 'NG' } })).reasons).toEqual([
      { rule: 'geo', code: 'country_mismatch', score: 20, observed: { ip_country: 'NG', payer_country: 'DE', payer_type: 'card' } },
    ]);
    expect(evaluate(rules, instruction({ card: { country: 'DE' }, context: { country: 'DE' } })).reasons).toEqual([]);
    expect(evaluate(rules, instruction({ card: {}, context: { country: 'NG' } })).reasons).toEqual([]);
    const cardsOnly = set([{ id: 'geo', type: 'country_mismatch', score: 20, payer_types: ['card'] }]);
    expect(evaluate(cardsOnly, instruction({ account: { country: 'DE' }, context: { country: 'NG' } })).reasons).toEqual([]);
  });

  it('duplicate fires when the same payer paid the same payee and amount within N seconds', () => {
    const rules = set([{ id: 'dup', type: 'duplicate', within_s: 120, score: 60 }]);
    const at = Date.parse('2026-12-01T10:02:00Z');
    const p = instruction({ at });
    const signals = (earlierMs: number): FraudSignals => ({ velocity: { card: observation({ duplicateOf: { paymentId: 'p-0', atMs: earlierMs } }) }, blocklistHits: [] });
    expect(evaluate(rules, p, signals(at - 120_000)).reasons).toEqual([{ rule: 'dup', code: 'duplicate', score: 60, observed: { duplicate_of: 'p-0', ms_apart: 120_000, within_s: 120 } }]);
    expect(evaluate(rules, p, signals(at - 120_001)).reasons).toEqual([]);
    expect(evaluate(rules, p, NO_SIGNALS).reasons).toEqual([]);
    expect(duplicateLookbackMs(rules)).toBe(120_000);
  });

  it('adds the scores of every rule that fires and decides by the thresholds', () => {
    const rules = set([
      { id: 'a', type: 'amount_limit', score: 30, limits: { EUR: '100' } },
      { id: 'b', type: 'amount_limit', score: 30, limits: { EUR: '200' } },
      { id: 'c', type: 'amount_limit', score: 40, limits: { EUR: '300' } },
    ]);
    expect(evaluate(rules, instruction({ minor: '150' })).decision).toBe('APPROVE');
    expect(evaluate(rules, instruction({ minor: '250' }))).toMatchObject({ decision: 'REVIEW', score: 60 });
    expect(evaluate(rules, instruction({ minor: '350' }))).toMatchObject({ decision: 'DECLINE', score: 100 });
  });
});

describe('parseRuleSet', () => {
  const valid = { version: 'v1', thresholds: { review: 50, decline: 100 }, rules: [] };
  const refuse = (value: unknown) => () => parseRuleSet(JSON.stringify(value), 'candidate.json');

  it('names the file and the offending field', () => {
    expect(refuse({ ...valid, thresholds: { review: 120, decline: 100 } })).toThrow(/candidate\.json: thresholds: review threshold must not exceed decline/);
    expect(refuse({ ...valid, rules: [{ id: 'x', type: 'amount_limit', score: 1, limits: { EURO: '1' } }] })).toThrow(/rules\.0\.limits/);
    expect(refuse({ ...valid, rules: [{ id: 'x', type: 'amount_limit', score: 1, limits: { EUR: '10.50' } }] })).toThrow(/integer minor units/);
    expect(refuse({ ...valid, rules: [{ id: 'x', type: 'velocity', dimension: 'card', window: '5m', max_count: 1, score: 1 }] })).toThrow(/rules\.0\.window/);
    expect(refuse({ ...valid, rules: [{ id: 'x', type: 'velocity', dimension: 'card', window: '1m', score: 1 }] })).toThrow(/max_count, max_sum or both/);
    expect(refuse({ ...valid, unknown: true })).toThrow(/unrecognized key/i);
    expect(() => parseRuleSet('{', 'candidate.json')).toThrow(RuleSetError);
  });

  it('refuses duplicate rule ids and small-payment card testing without small_amount', () => {
    const rule = { id: 'x', type: 'amount_limit', score: 1, limits: { EUR: '1' } };
    expect(refuse({ ...valid, rules: [rule, rule] })).toThrow(/rules\.1\.id: duplicate rule id x/);
    expect(refuse({ ...valid, rules: [{ id: 'ct', type: 'card_testing', dimension: 'ip', window: '1h', max_small_payments: 3, score: 1 }] })).toThrow(/needs the rule set small_amount/);
  });

  it('hashes the content canonically: member order does not change it, a value does', () => {
    const a = parseRuleSet(JSON.stringify(valid), 'a');
    const b = parseRuleSet(JSON.stringify({ rules: [], thresholds: { decline: 100, review: 50 }, version: 'v1' }), 'b');
    const c = parseRuleSet(JSON.stringify({ ...valid, thresholds: { review: 51, decline: 100 } }), 'c');
    expect(a.sha256).toBe(b.sha256);
    expect(a.sha256).not.toBe(c.sha256);
  });
});
