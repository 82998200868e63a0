import { PaymentScreened } from '@payrail/contracts';
import { DECISION_TTL_S, decisionTtlS, fromDecisionRecord, restoredDecisionTtlS, toDecisionRecord } from './decision-record';

describe('decision record', () => {
  it('expires only APPROVE records: REVIEW and DECLINE are final for the life of the payment', () => {
    expect(decisionTtlS('APPROVE')).toBe(DECISION_TTL_S);
    expect(decisionTtlS('REVIEW')).toBeUndefined();
    expect(decisionTtlS('DECLINE')).toBeUndefined();
  });

  it('is stored without the signed instruction and put back from the redelivered message', () => {
    const screened: PaymentScreened = {
      payment_id: '01933b6e-8f2a-7c41-9d5e-3b0f6a2c8e17',
      merchant_id: 'm-4711',
      amount: { minor: '1050', currency: 'EUR' },
      decision: 'REVIEW',
      score: 60,
      reasons: [{ rule: 'duplicate', score: 60 }],
      ruleset_version: 'v1',
      screened_at: '2025-03-01T09:15:03.000Z',
      instruction_jws: 'eyJhbGciOiJFUzI1NiJ9.eyJwYXltZW50X2lkIjoiMDE5MzNiNmUifQ.c2ln',
    };
    const record = toDecisionRecord(screened);
    expect(record).not.toContain(screened.instruction_jws);
    expect(fromDecisionRecord(record, { instruction_jws: screened.instruction_jws })).toEqual(screened);
  });
});

describe('a decision record put back after a Redis loss', () => {
  const day = 86_400_000;
  const screenedAt = '2025-03-01T09:15:03.000Z';
  const at = Date.parse(screenedAt);

  it('keeps REVIEW and DECLINE for good, whenever they were decided', () => {
    expect(restoredDecisionTtlS('REVIEW', screenedAt, at + 400 * day)).toBeUndefined();
    expect(restoredDecisionTtlS('DECLINE', screenedAt, at + 400 * day)).toBeUndefined();
  });

  it('gives an APPROVE what is left of its 30 days, counted from when it was screened', () => {
    expect(restoredDecisionTtlS('APPROVE', screenedAt, at)).toBe(DECISION_TTL_S);
    expect(restoredDecisionTtlS('APPROVE', screenedAt, at + 10 * day + 500)).toBe(DECISION_TTL_S - 10 * 86_400);
    // a clock behind the decision never gives more than the policy
    expect(restoredDecisionTtlS('APPROVE', screenedAt, at - day)).toBe(DECISION_TTL_S);
  });

  it('does not put back an APPROVE that would already have expired', () => {
    expect(restoredDecisionTtlS('APPROVE', screenedAt, at + 30 * day)).toBe('expired');
    expect(restoredDecisionTtlS('APPROVE', screenedAt, at + 31 * day)).toBe('expired');
  });
});
