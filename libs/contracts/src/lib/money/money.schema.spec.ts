import fc from 'fast-check';
import { CURRENCY_EXPONENTS } from './currencies';
import { MAX_MINOR_UNITS } from './money';
import { CurrencyCodeSchema, MinorUnitsSchema, MoneySchema, PaymentAmountSchema } from './money.schema';

function messages(result: { success: boolean; error?: { issues: { message: string }[] } }): string {
  return (result.error?.issues ?? []).map((i) => i.message).join('; ');
}

describe('MoneySchema', () => {
  it('accepts the wire string "1050" and the JSON integer 1050, both normalised to the string', () => {
    expect(MoneySchema.parse({ minor: '1050', currency: 'EUR' })).toEqual({ minor: '1050', currency: 'EUR' });
    expect(MoneySchema.parse({ minor: 1050, currency: 'EUR' })).toEqual({ minor: '1050', currency: 'EUR' });
    expect(MoneySchema.parse({ minor: 0, currency: 'JPY' })).toEqual({ minor: '0', currency: 'JPY' });
  });

  it('accepts every ISO 4217 code in the table', () => {
    for (const currency of Object.keys(CURRENCY_EXPONENTS)) expect(MoneySchema.safeParse({ minor: '1', currency }).success).toBe(true);
  });

  it('refuses a decimal number (10.5) with a reason that says minor units', () => {
    const result = MoneySchema.safeParse({ minor: 10.5, currency: 'EUR' });
    expect(result.success).toBe(false);
    expect(messages(result)).toContain('must be integer minor units');
  });

  it.each(['10.50', '10.5', '1e3', '', ' 1050', '1050 ', '01050', '+1050', '0x1A', '１０５０'])('refuses the string %j', (minor) => {
    const result = MoneySchema.safeParse({ minor, currency: 'EUR' });
    expect(result.success).toBe(false);
    expect(messages(result)).toContain('integer minor units');
  });

  it.each([-1, '-1', -0.5, '-0'])('refuses the negative amount %j', (minor) => {
    expect(MoneySchema.safeParse({ minor, currency: 'EUR' }).success).toBe(false);
  });

  it.each(['XXX', 'eur', 'EURO', '', 'BTC'])('refuses the unknown currency %j', (currency) => {
    const result = MoneySchema.safeParse({ minor: '1050', currency });
    expect(result.success).toBe(false);
    expect(messages(result)).toBe('must be an ISO 4217 currency code such as EUR');
  });

  it('accepts exactly MAX_MINOR_UNITS and refuses one more, as string or number', () => {
    expect(MoneySchema.parse({ minor: MAX_MINOR_UNITS.toString(), currency: 'EUR' }).minor).toBe('1000000000000000');
    expect(MoneySchema.parse({ minor: Number(MAX_MINOR_UNITS), currency: 'EUR' }).minor).toBe('1000000000000000');
    for (const minor of [(MAX_MINOR_UNITS + 1n).toString(), Number(MAX_MINOR_UNITS) + 1, '9999999999999999']) {
      const result = MoneySchema.safeParse({ minor, currency: 'EUR' });
      expect(result.success).toBe(false);
      expect(messages(result)).toBe(`must not exceed ${MAX_MINOR_UNITS} minor units`);
    }
  });

  it('refuses amounts far over the maximum and JSON numbers that lost precision beyond 2^53', () => {
    expect(MoneySchema.safeParse({ minor: '12345678901234567890', currency: 'EUR' }).success).toBe(false);
    // JSON.parse turns 9007199254740993 into 9007199254740992: refused, never silently rounded
    const parsed: unknown = JSON.parse('{"minor":9007199254740993,"currency":"EUR"}');
    expect(MoneySchema.safeParse(parsed).success).toBe(false);
    expect(MoneySchema.safeParse({ minor: Number.MAX_SAFE_INTEGER + 2, currency: 'EUR' }).success).toBe(false);
    expect(MoneySchema.safeParse({ minor: Number.POSITIVE_INFINITY, currency: 'EUR' }).success).toBe(false);
    expect(MoneySchema.safeParse({ minor: Number.NaN, currency: 'EUR' }).success).toBe(false);
  });

  it('refuses other types and missing fields', () => {
    for (const value of [{ minor: 1050n, currency: 'EUR' }, { minor: null, currency: 'EUR' }, { minor: '1050' }, { currency: 'EUR' }, '1050 EUR', null]) {
      expect(MoneySchema.safeParse(value).success).toBe(false);
    }
  });

  it('accepts any integer 0..MAX as string or number and agrees on the value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_MINOR_UNITS }), (minor) => {
        expect(MinorUnitsSchema.parse(minor.toString())).toBe(minor.toString());
        expect(MinorUnitsSchema.parse(Number(minor))).toBe(minor.toString());
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses any integer over MAX as a string', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MAX_MINOR_UNITS + 1n, max: 10n ** 40n }), (minor) => {
        expect(MinorUnitsSchema.safeParse(minor.toString()).success).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('CurrencyCodeSchema', () => {
  it('has the same codes as the exponent table', () => {
    expect([...CurrencyCodeSchema.options].sort()).toEqual(Object.keys(CURRENCY_EXPONENTS).sort());
  });
});

describe('PaymentAmountSchema', () => {
  it('is strictly positive', () => {
    expect(PaymentAmountSchema.parse({ minor: '1', currency: 'EUR' })).toEqual({ minor: '1', currency: 'EUR' });
    const zero = PaymentAmountSchema.safeParse({ minor: '0', currency: 'EUR' });
    expect(zero.success).toBe(false);
    expect(zero.error?.issues[0]).toMatchObject({ path: ['minor'], message: 'must be greater than zero' });
    expect(PaymentAmountSchema.safeParse({ minor: 0, currency: 'EUR' }).success).toBe(false);
  });

  it.each(['10.50', 'abc', '-5', '', 10.5, -5, null])('reports %j as invalid minor units (one issue) instead of throwing', (minor) => {
    const result = PaymentAmountSchema.safeParse({ minor, currency: 'EUR' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.message).toContain('must be integer minor units');
  });
});
