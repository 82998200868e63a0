import { z } from 'zod';
import { EXAMPLE_PAYLOADS } from '../examples/examples';
import { SecurityAlertSchema } from '../security/security-alert';
import { SettlementBatchReportSchema, SignedSettlementBatchSchema } from '../settlement/settlement-batch';
import { PaymentContextSchema, ProtectedPayerSchema } from './parties';
import {
  DecisionSchema,
  PaymentAcceptedSchema,
  PaymentIdSchema,
  PaymentInstructionSchema,
  PaymentRejectedSchema,
  PaymentScreenedSchema,
  PaymentSettledSchema,
  PaymentSignedSchema,
  RejectionReasonSchema,
} from './payment-events';

function issuePaths(schema: z.ZodType, value: unknown): string[] {
  return (schema.safeParse(value).error?.issues ?? []).map((i) => i.path.join('.'));
}

function omit<T extends object>(value: T, key: keyof T): Partial<T> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

const accepted = EXAMPLE_PAYLOADS.paymentsAccepted;
const screened = EXAMPLE_PAYLOADS.paymentsScreened;
const settled = EXAMPLE_PAYLOADS.paymentsSettled;
const rejected = EXAMPLE_PAYLOADS.paymentsRejected;

describe('PaymentIdSchema', () => {
  it('accepts UUIDv7 (and other RFC 9562 versions) and refuses anything else', () => {
    expect(PaymentIdSchema.safeParse('01933b6e-8f2a-7c41-9d5e-3b0f6a2c8e17').success).toBe(true);
    for (const id of ['', 'not-a-uuid', '01933b6e8f2a7c419d5e3b0f6a2c8e17', '01933b6e-8f2a-7c41-1d5e-3b0f6a2c8e17']) expect(PaymentIdSchema.safeParse(id).success).toBe(false);
  });
});

describe('PaymentAcceptedSchema', () => {
  it('accepts the example and normalises money to the wire string', () => {
    const parsed = PaymentAcceptedSchema.parse({ ...accepted, amount: { minor: 1050, currency: 'EUR' } });
    expect(parsed.amount).toEqual({ minor: '1050', currency: 'EUR' });
  });

  it('is a tolerant reader: unknown top-level fields are dropped, not refused', () => {
    const parsed = PaymentAcceptedSchema.parse({ ...accepted, added_in_a_later_minor_version: true });
    expect(parsed).not.toHaveProperty('added_in_a_later_minor_version');
  });

  it('never carries a card number: the payer is protected (fingerprint, masked, JWE)', () => {
    const withPan = { ...accepted, payer: { type: 'card', card: { number: '4111111111111111', expiry_month: 9, expiry_year: 2027 } } };
    expect(issuePaths(PaymentAcceptedSchema, withPan)[0]).toMatch(/^payer/);
    // unknown keys on the protected payer are stripped, so a stray PAN field would not travel on
    const parsed = PaymentAcceptedSchema.parse({ ...accepted, payer: { ...accepted.payer, number: '4111111111111111' } });
    expect(parsed.payer).not.toHaveProperty('number');
  });

  it.each([
    ['payer.masked', { ...accepted.payer, masked: '4111111111111111' }],
    ['payer.bin', { ...accepted.payer, bin: '411111' }],
    ['payer.masked', { ...accepted.payer, masked: '411111******1111' }],
    ['payer.fingerprint', { ...accepted.payer, fingerprint: 'short' }],
    ['payer.expiry', { ...accepted.payer, expiry: '09/27' }],
  ])('checks the protected card payer: %s', (path, payer) => {
    expect(issuePaths(PaymentAcceptedSchema, { ...accepted, payer })).toEqual([path]);
  });

  it('accepts a protected account payer', () => {
    const payer = { type: 'account', fingerprint: 'fp_0123456789abcdef', masked: '******3000', country: 'DE', protected_jwe: 'jwe' };
    expect(PaymentAcceptedSchema.safeParse({ ...accepted, payer }).success).toBe(true);
    expect(ProtectedPayerSchema.safeParse({ ...payer, masked: 'DE89370400440532013000' }).success).toBe(false);
  });

  it.each(['payment_id', 'upstream_id', 'upstream_reference', 'accepted_at', 'amount', 'payer', 'payee', 'upstream_verification'] as const)('requires %s', (field) => {
    expect(issuePaths(PaymentAcceptedSchema, omit(accepted, field))).toEqual([field]);
  });

  it('requires RFC 3339 timestamps with an offset', () => {
    expect(issuePaths(PaymentAcceptedSchema, { ...accepted, accepted_at: '2025-03-01T09:15:02' })).toEqual(['accepted_at']);
    expect(PaymentAcceptedSchema.safeParse({ ...accepted, accepted_at: '2025-03-01T10:15:02+01:00' }).success).toBe(true);
  });

  it('accepts a zero amount (it is not a submission) but not a negative one', () => {
    expect(PaymentAcceptedSchema.safeParse({ ...accepted, amount: { minor: '0', currency: 'EUR' } }).success).toBe(true);
    expect(issuePaths(PaymentAcceptedSchema, { ...accepted, amount: { minor: '-1', currency: 'EUR' } })).toEqual(['amount.minor']);
  });

  it('keeps the context strict, as in the submission', () => {
    expect(PaymentContextSchema.safeParse({ ip: '203.0.113.7', extra: 1 }).success).toBe(false);
  });
});

describe('PaymentInstructionSchema', () => {
  it('is the accepted payment plus signed_at', () => {
    const instruction = { ...accepted, signed_at: '2025-03-01T09:15:02.250Z' };
    expect(PaymentInstructionSchema.parse(instruction).signed_at).toBe('2025-03-01T09:15:02.250Z');
    expect(issuePaths(PaymentInstructionSchema, accepted)).toEqual(['signed_at']);
    // the accepted payment's fields but ingest's seal (the instruction carries Payrail's signature instead)
    expect(Object.keys(PaymentInstructionSchema.shape)).toEqual([...Object.keys(PaymentAcceptedSchema.shape).filter((k) => k !== 'seal'), 'signed_at']);
  });
});

describe('PaymentSignedSchema', () => {
  it('requires the payment id, kid and JWS', () => {
    expect(PaymentSignedSchema.parse(EXAMPLE_PAYLOADS.paymentsSigned)).toEqual(EXAMPLE_PAYLOADS.paymentsSigned);
    expect(issuePaths(PaymentSignedSchema, { payment_id: accepted.payment_id, kid: '', instruction_jws: '' })).toEqual(['kid', 'instruction_jws']);
  });
});

describe('PaymentScreenedSchema', () => {
  it.each(DecisionSchema.options)('accepts the decision %s', (decision) => {
    expect(PaymentScreenedSchema.safeParse({ ...screened, decision }).success).toBe(true);
  });

  it('refuses other decisions and fractional scores', () => {
    expect(issuePaths(PaymentScreenedSchema, { ...screened, decision: 'approve' })).toEqual(['decision']);
    expect(issuePaths(PaymentScreenedSchema, { ...screened, score: 1.5 })).toEqual(['score']);
    expect(issuePaths(PaymentScreenedSchema, { ...screened, reasons: [{ rule: '', score: 1 }] })).toEqual(['reasons.0.rule']);
    expect(issuePaths(PaymentScreenedSchema, { ...screened, reasons: [{ rule: 'r', score: 1, observed: { nested: { a: 1 } } }] })).toEqual(['reasons.0.observed.nested']);
  });

  it('carries an analyst review when a REVIEW was decided', () => {
    const review = { analyst: 'a.smith', decided_at: '2025-03-01T11:00:00Z', note: 'customer confirmed' };
    expect(PaymentScreenedSchema.parse({ ...screened, decision: 'DECLINE', review }).review).toEqual(review);
    expect(issuePaths(PaymentScreenedSchema, { ...screened, review: { ...review, note: 'x'.repeat(501) } })).toEqual(['review.note']);
  });
});

describe('PaymentSettledSchema', () => {
  it('carries amount, fee and net as money', () => {
    const parsed = PaymentSettledSchema.parse(settled);
    expect(BigInt(parsed.amount.minor) - BigInt(parsed.fee.minor)).toBe(BigInt(parsed.net.minor));
    expect(issuePaths(PaymentSettledSchema, { ...settled, fee: { minor: 26.25, currency: 'EUR' } })).toEqual(['fee.minor']);
    expect(issuePaths(PaymentSettledSchema, { ...settled, batch_id: '' })).toEqual(['batch_id']);
  });
});

describe('PaymentRejectedSchema', () => {
  it.each(RejectionReasonSchema.options)('accepts the reason %s', (reason) => {
    expect(PaymentRejectedSchema.safeParse({ ...rejected, reason }).success).toBe(true);
  });

  it('needs only reason, detail, time and channel (the upstream may be unknown)', () => {
    expect(PaymentRejectedSchema.safeParse({ reason: 'undecodable', detail: 'not JSON', rejected_at: '2025-03-01T09:16:40Z', channel: 'http' }).success).toBe(true);
    expect(issuePaths(PaymentRejectedSchema, { ...rejected, channel: 'smtp' })).toEqual(['channel']);
    expect(issuePaths(PaymentRejectedSchema, { ...rejected, detail: 'x'.repeat(1001) })).toEqual(['detail']);
    expect(issuePaths(PaymentRejectedSchema, { ...rejected, reason: 'other' })).toEqual(['reason']);
  });
});

describe('settlement batches', () => {
  const report = EXAMPLE_PAYLOADS.settlementBatchReports;

  it('accepts a closed batch report', () => {
    expect(SettlementBatchReportSchema.parse(report).net).toEqual({ minor: '1024', currency: 'EUR' });
    expect(issuePaths(SettlementBatchReportSchema, { ...report, close_reason: 'manual' })).toEqual(['close_reason']);
    expect(issuePaths(SettlementBatchReportSchema, { ...report, payment_count: -1 })).toEqual(['payment_count']);
    expect(issuePaths(SettlementBatchReportSchema, { ...report, payment_ids: ['nope'] })).toEqual(['payment_ids.0']);
  });

  it('accepts a signed batch', () => {
    expect(SignedSettlementBatchSchema.parse(EXAMPLE_PAYLOADS.settlementBatches).kid).toBe('payrail-signing-2025-03');
    expect(issuePaths(SignedSettlementBatchSchema, { ...EXAMPLE_PAYLOADS.settlementBatches, report_jws: '' })).toEqual(['report_jws']);
  });
});

describe('SecurityAlertSchema', () => {
  it('accepts the known alerts only', () => {
    const alert = EXAMPLE_PAYLOADS.securityAlerts;
    for (const kind of SecurityAlertSchema.shape.alert.options) expect(SecurityAlertSchema.safeParse({ ...alert, alert: kind }).success).toBe(true);
    expect(issuePaths(SecurityAlertSchema, { ...alert, alert: 'other' })).toEqual(['alert']);
    expect(SecurityAlertSchema.safeParse(omit(alert, 'payment_id')).success).toBe(true);
  });
});
