// Money as integer minor units (bigint) with an ISO 4217 currency. No floating point anywhere.
//
// Rounding rules (docs/money.md):
// - Amounts are exact integers of the currency's minor unit; parsing a decimal string with more fraction digits
//   than the currency's exponent is an error, never a silent rounding.
// - Where a computation must divide (fees in basis points, allocation), `mulDivRound` rounds half-up on the
//   absolute value (half away from zero), so refunds mirror charges; `allocate` splits without losing a minor unit.
// - On the wire amounts travel as a decimal string of minor units ("1050"), safe beyond 2^53.
import { CurrencyCode, currencyExponent, isCurrencyCode } from './currencies';

export class MoneyError extends Error {
  override readonly name = 'MoneyError';
}

/** Largest amount Payrail accepts: fits a signed 64-bit Redis counter with headroom for sums. */
export const MAX_MINOR_UNITS = 10n ** 15n;

export interface Money {
  readonly minor: bigint;
  readonly currency: CurrencyCode;
}

export function money(minor: bigint | number | string, currency: string): Money {
  if (!isCurrencyCode(currency)) throw new MoneyError(`unknown ISO 4217 currency: ${currency}`);
  return { minor: toMinor(minor), currency };
}

export function toMinor(value: bigint | number | string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new MoneyError('minor units must be a safe integer');
    return BigInt(value);
  }
  if (!/^-?(0|[1-9][0-9]*)$/.test(value)) throw new MoneyError('minor units must be an integer string');
  return BigInt(value);
}

function sameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) throw new MoneyError(`currency mismatch: ${a.currency} vs ${b.currency}`);
}

export function add(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return { minor: a.minor + b.minor, currency: a.currency };
}

export function subtract(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return { minor: a.minor - b.minor, currency: a.currency };
}

export function negate(a: Money): Money {
  return { minor: -a.minor, currency: a.currency };
}

export function isZero(a: Money): boolean {
  return a.minor === 0n;
}

export function compare(a: Money, b: Money): -1 | 0 | 1 {
  sameCurrency(a, b);
  return a.minor < b.minor ? -1 : a.minor > b.minor ? 1 : 0;
}

/** round(value * numerator / denominator), half away from zero, in integers only. */
export function mulDivRound(value: bigint, numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new MoneyError('denominator must be positive');
  const product = value * numerator;
  const negative = product < 0n;
  const abs = negative ? -product : product;
  const quotient = abs / denominator;
  const remainder = abs % denominator;
  const rounded = remainder * 2n >= denominator ? quotient + 1n : quotient;
  return negative ? -rounded : rounded;
}

/**
 * Splits an amount by integer ratios without losing or creating a minor unit: each share is first rounded toward
 * zero, then the leftover minor units go one each to the shares with the largest remainders (ties: the earlier
 * share first). A zero ratio never receives anything; equal ratios give shares that differ by at most one minor
 * unit, the larger ones first. Negative amounts split as the mirror image of the positive amount.
 */
export function allocate(a: Money, ratios: readonly bigint[]): Money[] {
  const total = ratios.reduce((s, r) => s + r, 0n);
  if (ratios.length === 0 || total <= 0n || ratios.some((r) => r < 0n)) throw new MoneyError('ratios must be non-negative with a positive sum');
  const negative = a.minor < 0n;
  const amount = negative ? -a.minor : a.minor;
  const shares = ratios.map((r) => (amount * r) / total);
  const remainders = ratios.map((r) => (amount * r) % total);
  let leftover = amount - shares.reduce((s, x) => s + x, 0n);
  // leftover < number of non-zero remainders, so only shares with a remainder (never a zero ratio) get a unit
  const order = remainders
    .map((remainder, index) => ({ remainder, index }))
    .sort((x, y) => (x.remainder > y.remainder ? -1 : x.remainder < y.remainder ? 1 : x.index - y.index));
  for (const { index } of order) {
    if (leftover === 0n) break;
    const current = shares[index];
    if (current === undefined) continue;
    shares[index] = current + 1n;
    leftover -= 1n;
  }
  return shares.map((minor) => ({ minor: negative ? -minor : minor, currency: a.currency }));
}

/** "12.50" EUR -> 1250n; refuses more fraction digits than the currency has (no silent rounding). */
export function parseDecimal(text: string, currency: string): Money {
  if (!isCurrencyCode(currency)) throw new MoneyError(`unknown ISO 4217 currency: ${currency}`);
  const exponent = currencyExponent(currency);
  const match = /^(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(text.trim());
  if (!match) throw new MoneyError(`not a decimal amount: ${text}`);
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > exponent) throw new MoneyError(`${currency} has ${exponent} decimal places; got ${fraction.length}`);
  const minor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
  return { minor: sign ? -minor : minor, currency };
}

/** 1250n EUR -> "12.50" (no grouping, '.' separator: for logs, reports and APIs, not for display locales). */
export function formatDecimal(a: Money): string {
  const exponent = currencyExponent(a.currency);
  const negative = a.minor < 0n;
  const digits = (negative ? -a.minor : a.minor).toString().padStart(exponent + 1, '0');
  const body = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return negative ? `-${body}` : body;
}

/** The JSON form on Kafka and HTTP: minor units as a decimal string. */
export interface MoneyJson {
  minor: string;
  currency: CurrencyCode;
}

export function toJson(a: Money): MoneyJson {
  return { minor: a.minor.toString(), currency: a.currency };
}

export function fromJson(j: MoneyJson): Money {
  return money(j.minor, j.currency);
}
