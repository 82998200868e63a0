import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PaymentInstruction } from '@payrail/contracts';
import { RuleSetSchema, evaluate } from './ruleset';

const ruleset = RuleSetSchema.parse(JSON.parse(readFileSync(join(__dirname, '../../rules/ruleset.json'), 'utf8')));

function instruction(minor: string, currency: 'EUR' | 'JPY', bin = '411111'): PaymentInstruction {
  return {
    payment_id: '01936f3e-0000-7000-8000-000000000001',
    upstream_id: 'psp-alpha',
    upstream_reference: 'ref-1',
    accepted_at: '2026-11-29T10:00:00.000Z',
    signed_at: '2026-11-29T10:00:00.010Z',
    amount: { minor, currency },
    payer: { type: 'card', fingerprint: 'f'.repeat(43), masked: `${bin}******1111`, bin, expiry: '2029-01', protected_jwe: 'x' },
    payee: { merchant_id: 'm-1', mcc: '5814' },
    upstream_verification: { kid: 'k', alg: 'ES256', jti: 'j', iat: 1 },
  };
}

describe('rule set evaluation', () => {
  it('approves an ordinary payment with no reasons and records the rule set version', () => {
    const v = evaluate(ruleset, instruction('1050', 'EUR'));
    expect(v).toEqual({ decision: 'APPROVE', score: 0, reasons: [], rulesetVersion: ruleset.version });
  });

  it('puts an amount above the review limit in REVIEW with the observed amount', () => {
    const v = evaluate(ruleset, instruction('200001', 'EUR'));
    expect(v.decision).toBe('REVIEW');
    expect(v.reasons).toEqual([{ rule: 'amount.review_limit', score: 50, observed: { amount_minor: '200001', limit_minor: '200000', currency: 'EUR' } }]);
  });

  it('declines above the hard limit and for a blocked BIN, comparing amounts as integers', () => {
    expect(evaluate(ruleset, instruction('1000001', 'EUR')).decision).toBe('DECLINE');
    expect(evaluate(ruleset, instruction('100', 'EUR', '400000')).decision).toBe('DECLINE');
    // 9 > 10 as strings; never as amounts
    expect(evaluate(ruleset, instruction('9', 'EUR')).decision).toBe('APPROVE');
  });

  it('uses each currency its own limit (JPY has no minor unit)', () => {
    expect(evaluate(ruleset, instruction('250000', 'JPY')).decision).toBe('APPROVE');
    expect(evaluate(ruleset, instruction('35000000', 'JPY')).decision).toBe('REVIEW');
  });
});
