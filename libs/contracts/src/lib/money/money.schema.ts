import { z } from 'zod';
import { CURRENCY_EXPONENTS, CurrencyCode } from './currencies';
import { MAX_MINOR_UNITS } from './money';

const codes = Object.keys(CURRENCY_EXPONENTS) as [CurrencyCode, ...CurrencyCode[]];

export const CurrencyCodeSchema = z.enum(codes, { error: 'must be an ISO 4217 currency code such as EUR' });

/** Minor units as a decimal-digit string (the wire form) or a safe JSON integer; normalised to the string. */
export const MinorUnitsSchema = z
  .union(
    [
      z.string().regex(/^(0|[1-9][0-9]{0,15})$/, 'must be integer minor units, e.g. "1050" for 10.50 EUR'),
      z
        .number()
        .int('must be integer minor units, not a decimal')
        .nonnegative('must be integer minor units, not negative')
        .max(Number.MAX_SAFE_INTEGER, 'must be a safe JSON integer; send larger amounts as a decimal string'),
    ],
    // zod reports a non-integer number as a type mismatch of both options, so the union itself must say why
    { error: 'must be integer minor units: a decimal string such as "1050" (10.50 EUR) or a JSON integer, not a decimal' },
  )
  .transform((v) => (typeof v === 'number' ? String(v) : v))
  .refine((v) => BigInt(v) <= MAX_MINOR_UNITS, `must not exceed ${MAX_MINOR_UNITS} minor units`);

export const MoneySchema = z.object({ minor: MinorUnitsSchema, currency: CurrencyCodeSchema });

/** A payment amount: strictly positive. */
export const PaymentAmountSchema = MoneySchema.refine(
  (m) => {
    // zod runs this refinement even when `minor` already failed (then it is still the raw input, e.g. "10.50"):
    // leave that to the issue already reported instead of throwing from BigInt()
    const minor: unknown = m.minor;
    return typeof minor !== 'string' || !/^[0-9]+$/.test(minor) || BigInt(minor) > 0n;
  },
  { message: 'must be greater than zero', path: ['minor'] },
);
