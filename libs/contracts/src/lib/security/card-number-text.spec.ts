import fc from 'fast-check';
import { z } from 'zod';
import { BlocklistChangedSchema } from '../operations/blocklist-change';
import { InboundPaymentSchema, PaymentSubmissionSchema, SignedSubmissionClaimsSchema } from '../payments/payment-submission';
import { CARD_NUMBER_IN_TEXT, containsCardNumber, freeText, luhnCheck } from './card-number-text';

const CARDS = ['4111111111111111', '378282246310005', '6011111111111117', '5555555555554444', '6011111111111111117'];

/** The Luhn check digit that makes `body` + digit valid. */
function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnCheck(`${body}${d}`)) return `${body}${d}`;
  throw new Error('unreachable');
}
function group(digits: string, separator: string): string {
  return digits.replace(/(\d{4})(?=\d)/g, `$1${separator}`);
}

describe('containsCardNumber', () => {
  it.each(CARDS)('finds %s plain, spaced, dashed and inside text', (card) => {
    expect(containsCardNumber(card)).toBe(true);
    expect(containsCardNumber(`paid with ${group(card, ' ')} thanks`)).toBe(true);
    expect(containsCardNumber(`ref:${group(card, '-')}`)).toBe(true);
    expect(containsCardNumber(`x${card}y`)).toBe(true);
  });

  it('finds a card number hidden in a longer run of digits', () => {
    expect(containsCardNumber('4111 1111 1111 1111 7')).toBe(true);
    expect(containsCardNumber('00000411111111111111119')).toBe(true);
  });

  it('lets ordinary text, short numbers and Luhn-invalid runs through', () => {
    for (const text of ['Order 100231', 'inv-2025-0042', '2026-12-05T23:00:00Z', 'device 7f3a9c2e-11b4', '4111 1111 1112', '1234 5678 9012', '41111111111'])
      expect(containsCardNumber(text)).toBe(false);
  });

  it('does not mistake UUIDs and long hex ids for card numbers (property)', () => {
    fc.assert(fc.property(fc.uuid(), (uuid) => expect(containsCardNumber(`jti ${uuid}`)).toBe(false)));
    fc.assert(fc.property(fc.stringMatching(/^[0-9a-f]{32}$/).filter((h) => /[a-f]/.test(h)), (id) => expect(containsCardNumber(id)).toBe(false)));
    expect(containsCardNumber('41111111-1111-1111-aaaa-000000000000')).toBe(false);
  });

  it('finds every Luhn-valid 12-19 digit number wherever it sits in text (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9][0-9]{10,17}$/), fc.constantFrom('', ' ', '-'), fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (body, separator, before, after) => {
        const card = withCheckDigit(body);
        expect(containsCardNumber(`${before.replace(/\d/g, 'x')} ${group(card, separator)} ${after.replace(/\d/g, 'x')}`)).toBe(true);
      }),
    );
  });

  it('never refuses text without 12 digits in a row (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }).filter((t) => !/\d(?:[\s-]{0,3}\d){11}/.test(t)), (text) => expect(containsCardNumber(text)).toBe(false)));
  });
});

describe('free-text fields refuse card numbers, naming the field and never echoing the number', () => {
  const submission = {
    upstream_reference: 'order-100231',
    amount: { minor: '1050', currency: 'EUR' },
    payer: { type: 'card', card: { number: '4111111111111111', expiry_month: 9, expiry_year: 2027 } },
    payee: { merchant_id: 'm-4711', mcc: '5411' },
    description: 'Order 100231',
    context: { device_id: 'dev-1' },
  };
  const issues = (schema: z.ZodType, value: unknown) => (schema.safeParse(value).error?.issues ?? []).map((i) => ({ path: i.path.join('.'), message: i.message }));

  it.each([
    ['description', { ...submission, description: 'card 4111 1111 1111 1111' }],
    ['upstream_reference', { ...submission, upstream_reference: 'ord-4111111111111111' }],
    ['context.device_id', { ...submission, context: { device_id: '4111-1111-1111-1111' } }],
    ['payee.merchant_id', { ...submission, payee: { merchant_id: 'm4111111111111111', mcc: '5411' } }],
  ])('payment submission %s', (path, value) => {
    const found = issues(PaymentSubmissionSchema, value);
    expect(found).toEqual([{ path, message: CARD_NUMBER_IN_TEXT }]);
    expect(JSON.stringify(found)).not.toMatch(/4111/);
  });

  it('the signed claims jti and the inbound idempotency key', () => {
    expect(issues(SignedSubmissionClaimsSchema, { jti: 'jti-378282246310005', iat: 1, payment: submission })).toEqual([{ path: 'jti', message: CARD_NUMBER_IN_TEXT }]);
    expect(issues(InboundPaymentSchema, { jwe: 'h.k.iv.ct.tag', idempotency_key: 'k 4111111111111111' })).toEqual([{ path: 'idempotency_key', message: CARD_NUMBER_IN_TEXT }]);
  });

  it("an operator's blocklist reason", () => {
    const change = { entry_id: 'bin:4111', list: 'bin', value: '4111', change: 'put', reason: 'fraud on 4111111111111111', changed_by: 'op', changed_at: '2026-12-05T00:00:00Z', request_id: 'r1' };
    expect(issues(BlocklistChangedSchema, change)).toEqual([{ path: 'reason', message: CARD_NUMBER_IN_TEXT }]);
  });

  it('keeps the string schema it wraps', () => {
    const note = freeText(z.string().max(5));
    expect(note.safeParse('abcdef').success).toBe(false);
    expect(note.parse('abc')).toBe('abc');
  });
});
