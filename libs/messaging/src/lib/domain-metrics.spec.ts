import { Registry } from 'prom-client';
import { DOMAIN_METRIC_NAMES, FraudMetrics, OperatorAccessMetrics, SettlementMetrics, SigningKeyMetrics, type SigningKeyState } from './domain-metrics';
import { seriesValue, seriesValues } from './metrics-exposition';

describe('domain metrics', () => {
  it('operator surfaces: refusals before authentication, by surface and reason', async () => {
    const registry = new Registry();
    const access = new OperatorAccessMetrics(registry);
    access.refusedAccess('console', 'denied');
    access.refusedAccess('console', 'denied');
    access.refusedAccess('fraud_admin', 'unauthenticated');
    const text = await registry.metrics();
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'console', reason: 'denied' })).toBe(2);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'fraud_admin', reason: 'unauthenticated' })).toBe(1);
  });

  it('fraud-check: one decision, one hit per distinct rule that fired', async () => {
    const registry = new Registry();
    const fraud = new FraudMetrics(registry);
    fraud.decided('REVIEW', ['amount.limit', 'first_payee', 'amount.limit']);
    fraud.decided('APPROVE', []);
    fraud.verificationFailed('payment_instruction');
    const text = await registry.metrics();
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.fraudDecisions, { decision: 'REVIEW' })).toBe(1);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.fraudDecisions, { decision: 'APPROVE' })).toBe(1);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.fraudRuleHits, { rule: 'amount.limit', decision: 'REVIEW' })).toBe(1);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.fraudRuleHits, { rule: 'first_payee', decision: 'REVIEW' })).toBe(1);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.signatureFailures, { document: 'payment_instruction' })).toBe(1);
  });

  it('settlement: postings by currency and outcome, closes by reason, violations per invariant from the last check', async () => {
    const registry = new Registry();
    const settlement = new SettlementMetrics(registry);
    settlement.posted('EUR', 'posted');
    settlement.posted('EUR', 'posted');
    settlement.posted('JPY', 'duplicate');
    settlement.batchClosed('size');
    settlement.batchClosed('cutoff', 3);
    settlement.invariantsChecked([{ invariant: 'posted_twice' }, { invariant: 'posted_twice' }]);
    settlement.invariantsChecked([{ invariant: 'balance_sum' }]);
    const text = await registry.metrics();
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.ledgerPostings, { currency: 'EUR', outcome: 'posted' })).toBe(2);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.ledgerPostings, { currency: 'JPY', outcome: 'duplicate' })).toBe(1);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.batchCloses, { reason: 'size' })).toBe(1);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.batchCloses, { reason: 'cutoff' })).toBe(3);
    // the gauge is the last check's result: a violation that went away reads 0
    const violations = Object.fromEntries(seriesValues(text, DOMAIN_METRIC_NAMES.invariantViolations).map((s) => [s.labels['invariant'], s.value]));
    expect(violations).toEqual({ balance_sum: 1, posted_twice: 0, held_posted: 0, batch_totals: 0, accounts_vs_batches: 0 });
  });

  it('signing: the events of a rotation (add, activate, retire, remove) and the keys per state at scrape time', async () => {
    const registry = new Registry();
    let current = new Map<string, SigningKeyState>([['k1', 'active']]);
    const keys = new SigningKeyMetrics(registry, () => current);
    const step = (next: [string, SigningKeyState][]) => {
      const before = current;
      current = new Map(next);
      keys.reloaded(before, current);
    };
    step([['k1', 'active'], ['k2', 'verify-only']]); // add
    step([['k1', 'verify-only'], ['k2', 'active']]); // activate
    step([['k1', 'retired'], ['k2', 'active']]); // retire
    step([['k2', 'active']]); // remove a retired key: no event
    step([['k2', 'active'], ['k3', 'verify-only']]); // add again
    step([['k3', 'active']]); // activate k3 and drop k2 without retiring it first: k2 counts as retired
    const text = await registry.metrics();
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.keyRotationEvents, { event: 'added' })).toBe(2);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.keyRotationEvents, { event: 'activated' })).toBe(2);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.keyRotationEvents, { event: 'retired' })).toBe(2);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.signingKeys, { state: 'active' })).toBe(1);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.signingKeys, { state: 'verify-only' })).toBe(0);
    current = new Map([['k3', 'active'], ['k2', 'retired']]); // read at scrape time, no reload needed
    expect(seriesValue(await registry.metrics(), DOMAIN_METRIC_NAMES.signingKeys, { state: 'retired' })).toBe(1);
  });

  it('reads a series from the text exposition, the service label left out of the match', () => {
    const text = ['# HELP x_total x', '# TYPE x_total counter', 'x_total{service="s",rule="a.b",decision="REVIEW"} 3', 'x_total{service="s",rule="c",decision="REVIEW"} 1', 'x_total_other 9'].join('\n');
    expect(seriesValue(text, 'x_total', { rule: 'a.b', decision: 'REVIEW' })).toBe(3);
    expect(seriesValue(text, 'x_total', { rule: 'none', decision: 'REVIEW' })).toBe(0);
    expect(seriesValues(text, 'x_total')).toHaveLength(2);
  });
});
