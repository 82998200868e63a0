import fc from 'fast-check';
import { z } from 'zod';
import { InboundPaymentSchema, PayerSubmissionSchema, PaymentSubmission, PaymentSubmissionSchema, SignedSubmissionClaimsSchema } from './payment-submission';

type SubmissionInput = z.input<typeof PaymentSubmissionSchema>;

const CARD_SUBMISSION: SubmissionInput = {
  upstream_reference: 'order-100231',
  amount: { minor: '1050', currency: 'EUR' },
  payer: { type: 'card', card: { number: '4111111111111111', expiry_month: 9, expiry_year: 2027, country: 'DE' } },
  payee: { merchant_id: 'm-4711', mcc: '5411', country: 'DE' },
  description: 'Order 100231',
  context: { ip: '203.0.113.7', country: 'DE', device_id: 'dev-1' },
};

const ACCOUNT_SUBMISSION: SubmissionInput = {
  upstream_reference: 'inv-2025-0042',
  amount: { minor: 250000, currency: 'JPY' },
  payer: { type: 'account', account: { number: 'DE89370400440532013000', country: 'DE' } },
  payee: { merchant_id: 'shop.example_1', mcc: '5732' },
};

/** The first issue's path and message, for readable assertions. */
function firstIssue(value: unknown): { path: string; message: string } | undefined {
  const result = PaymentSubmissionSchema.safeParse(value);
  const issue = result.error?.issues[0];
  return issue && { path: issue.path.join('.'), message: issue.message };
}

function withCard(card: Record<string, unknown>): unknown {
  return { ...CARD_SUBMISSION, payer: { type: 'card', card: { expiry_month: 9, expiry_year: 2027, ...card } } };
}

describe('PaymentSubmissionSchema', () => {
  it('accepts a card submission and normalises the amount to the wire string', () => {
    const parsed: PaymentSubmission = PaymentSubmissionSchema.parse(CARD_SUBMISSION);
    expect(parsed.amount).toEqual({ minor: '1050', currency: 'EUR' });
    expect(parsed.payer).toEqual(CARD_SUBMISSION.payer);
  });

  it('accepts an account submission with the minimal fields', () => {
    expect(PaymentSubmissionSchema.parse(ACCOUNT_SUBMISSION).amount).toEqual({ minor: '250000', currency: 'JPY' });
  });

  describe('card number', () => {
    it('checks digits and length only: Luhn is checked by ingest, not by the schema', () => {
      expect(PaymentSubmissionSchema.safeParse(withCard({ number: '4111111111111112' })).success).toBe(true); // fails Luhn
      expect(PaymentSubmissionSchema.safeParse(withCard({ number: '000000000000' })).success).toBe(true);
    });

    it('accepts any 12 to 19 digits', () => {
      fc.assert(
        fc.property(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 12, maxLength: 19 }), (number) => {
          expect(PaymentSubmissionSchema.safeParse(withCard({ number })).success).toBe(true);
        }),
        { numRuns: 1000 },
      );
    });

    it.each(['41111111111', '41111111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '411111111111111a', '', '４１１１１１１１１１１１１１１１'])(
      'refuses %j as 12-19 digits',
      (number) => {
        expect(firstIssue(withCard({ number }))).toEqual({ path: 'payer.card.number', message: 'must be 12-19 digits' });
      },
    );

    it('refuses a numeric (non-string) card number', () => {
      expect(firstIssue(withCard({ number: 4111111111111111 }))?.path).toBe('payer.card.number');
    });
  });

  it.each([
    [0, 'payer.card.expiry_month'],
    [13, 'payer.card.expiry_month'],
    [1.5, 'payer.card.expiry_month'],
  ])('refuses expiry_month %s', (month, path) => {
    expect(firstIssue(withCard({ number: '4111111111111111', expiry_month: month }))?.path).toBe(path);
  });

  it('refuses an expiry year outside 2000..2100', () => {
    expect(firstIssue(withCard({ number: '4111111111111111', expiry_year: 1999 }))?.path).toBe('payer.card.expiry_year');
    expect(firstIssue(withCard({ number: '4111111111111111', expiry_year: 27 }))?.path).toBe('payer.card.expiry_year');
  });

  it.each(['de89370400440532013000', 'DE89 3704 0044 0532 0130 00', 'DE891', 'A'.repeat(35)])('refuses the account number %j', (number) => {
    const value = { ...ACCOUNT_SUBMISSION, payer: { type: 'account', account: { number } } };
    expect(firstIssue(value)).toEqual({ path: 'payer.account.number', message: 'must be 6-34 upper-case letters or digits (IBAN or domestic number)' });
  });

  it('refuses an unknown payer type with a clear reason', () => {
    expect(firstIssue({ ...CARD_SUBMISSION, payer: { type: 'wallet', wallet: { id: 'x' } } })).toEqual({ path: 'payer.type', message: 'payer.type must be "card" or "account"' });
  });

  it('is strict: unknown fields are refused at every level of the submission', () => {
    expect(firstIssue({ ...CARD_SUBMISSION, extra: 1 })?.message).toMatch(/unrecognized key/i);
    expect(firstIssue(withCard({ number: '4111111111111111', cvv: '123' }))?.path).toBe('payer.card');
    expect(firstIssue({ ...CARD_SUBMISSION, payer: { ...CARD_SUBMISSION.payer, extra: true } })?.path).toBe('payer');
    expect(firstIssue({ ...CARD_SUBMISSION, context: { user_agent: 'x' } })?.path).toBe('context');
  });

  it.each([
    [{ minor: '0', currency: 'EUR' }, 'must be greater than zero'],
    [{ minor: 10.5, currency: 'EUR' }, 'must be integer minor units'],
    [{ minor: '10.50', currency: 'EUR' }, 'must be integer minor units'],
    [{ minor: '-1050', currency: 'EUR' }, 'must be integer minor units'],
    [{ minor: '1050', currency: 'XXX' }, 'must be an ISO 4217 currency code'],
    [{ minor: '1000000000000001', currency: 'EUR' }, 'must not exceed'],
  ])('refuses the amount %j', (amount, message) => {
    const issue = firstIssue({ ...CARD_SUBMISSION, amount });
    expect(issue?.path.startsWith('amount')).toBe(true);
    expect(issue?.message).toContain(message);
  });

  it.each(['', 'has space', 'tab\there', 'ü-umlaut', 'x'.repeat(65)])('refuses the upstream_reference %j', (upstream_reference) => {
    expect(firstIssue({ ...CARD_SUBMISSION, upstream_reference })?.path).toBe('upstream_reference');
  });

  it('accepts printable ASCII references up to 64 characters', () => {
    expect(PaymentSubmissionSchema.safeParse({ ...CARD_SUBMISSION, upstream_reference: '~!#$%&*()_+{}|:"<>?' }).success).toBe(true);
    expect(PaymentSubmissionSchema.safeParse({ ...CARD_SUBMISSION, upstream_reference: 'x'.repeat(64) }).success).toBe(true);
  });

  it.each([
    ['payee.merchant_id', { merchant_id: '-starts-with-dash', mcc: '5411' }],
    ['payee.merchant_id', { merchant_id: 'x'.repeat(65), mcc: '5411' }],
    ['payee.mcc', { merchant_id: 'm-1', mcc: '541' }],
    ['payee.country', { merchant_id: 'm-1', mcc: '5411', country: 'de' }],
  ])('refuses an invalid %s', (path, payee) => {
    expect(firstIssue({ ...CARD_SUBMISSION, payee })?.path).toBe(path);
  });

  it('limits the description to 140 characters', () => {
    expect(PaymentSubmissionSchema.safeParse({ ...CARD_SUBMISSION, description: 'x'.repeat(140) }).success).toBe(true);
    expect(firstIssue({ ...CARD_SUBMISSION, description: 'x'.repeat(141) })?.path).toBe('description');
  });

  it('checks the context ip address', () => {
    expect(PaymentSubmissionSchema.safeParse({ ...CARD_SUBMISSION, context: { ip: '2001:db8::1' } }).success).toBe(true);
    expect(firstIssue({ ...CARD_SUBMISSION, context: { ip: '999.1.1.1' } })).toEqual({ path: 'context.ip', message: 'must be an IPv4 or IPv6 address' });
  });

  it('requires upstream_reference, amount, payer and payee', () => {
    for (const field of ['upstream_reference', 'amount', 'payer', 'payee'] as const) {
      const value: Record<string, unknown> = { ...CARD_SUBMISSION };
      delete value[field];
      expect(firstIssue(value)?.path).toBe(field);
    }
  });
});

describe('PayerSubmissionSchema', () => {
  it('discriminates on type', () => {
    expect(PayerSubmissionSchema.parse(ACCOUNT_SUBMISSION.payer).type).toBe('account');
    expect(PayerSubmissionSchema.safeParse({ type: 'card', account: { number: 'DE89370400440532013000' } }).success).toBe(false);
  });
});

describe('SignedSubmissionClaimsSchema', () => {
  const claims = { jti: '7f3c9e2a-41d0-4b8e-9a51-0c2d7e6f1b93', iat: 1740820501, payment: CARD_SUBMISSION };

  it('accepts jti, iat and the payment', () => {
    expect(SignedSubmissionClaimsSchema.parse(claims).payment.amount.minor).toBe('1050');
  });

  it.each([
    ['jti', { ...claims, jti: 'short' }],
    ['jti', { ...claims, jti: 'x'.repeat(129) }],
    ['iat', { ...claims, iat: 0 }],
    ['iat', { ...claims, iat: 1740820501.5 }],
    ['iat', { ...claims, iat: '1740820501' }],
    ['payment.amount.minor', { ...claims, payment: { ...CARD_SUBMISSION, amount: { minor: '0', currency: 'EUR' } } }],
  ])('refuses an invalid %s', (path, value) => {
    expect(SignedSubmissionClaimsSchema.safeParse(value).error?.issues[0]?.path.join('.')).toBe(path);
  });

  it('is strict', () => {
    expect(SignedSubmissionClaimsSchema.safeParse({ ...claims, exp: 1 }).success).toBe(false);
  });
});

describe('InboundPaymentSchema', () => {
  const jwe = 'h.k.iv.ct.tag';
  it('accepts a compact JWE with an optional idempotency key', () => {
    expect(InboundPaymentSchema.parse({ jwe })).toEqual({ jwe });
    expect(InboundPaymentSchema.parse({ jwe, idempotency_key: 'k-1' })).toEqual({ jwe, idempotency_key: 'k-1' });
  });

  it('lets a plain JWS through to be refused by ingest with its own reason, never both or neither', () => {
    expect(InboundPaymentSchema.parse({ jws: 'a.b.c' })).toEqual({ jws: 'a.b.c' });
    expect(InboundPaymentSchema.safeParse({ jwe, jws: 'a.b.c' }).success).toBe(false);
    expect(InboundPaymentSchema.safeParse({ idempotency_key: 'k-1' }).success).toBe(false);
  });

  it('limits sizes, wants five segments and refuses unknown fields', () => {
    expect(InboundPaymentSchema.safeParse({ jwe: '' }).success).toBe(false);
    expect(InboundPaymentSchema.safeParse({ jwe: 'a.b.c' }).success).toBe(false);
    expect(InboundPaymentSchema.safeParse({ jwe: `${'x'.repeat(96 * 1024 - 8)}.a.b.c.d` }).success).toBe(true);
    expect(InboundPaymentSchema.safeParse({ jwe: `${'x'.repeat(96 * 1024 - 7)}.a.b.c.d` }).success).toBe(false);
    expect(InboundPaymentSchema.safeParse({ jws: 'x'.repeat(64 * 1024 + 1) }).success).toBe(false);
    expect(InboundPaymentSchema.safeParse({ jwe, idempotency_key: 'k'.repeat(256) }).success).toBe(false);
    expect(InboundPaymentSchema.safeParse({ jwe, idempotency_key: '' }).success).toBe(false);
    expect(InboundPaymentSchema.safeParse({ jwe, payment: {} }).success).toBe(false);
  });
});
