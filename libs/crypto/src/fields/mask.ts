// Display masking for logs and UIs. PCI DSS allows at most the first six and last four digits of a PAN; Payrail
// also never shows more than half of its digits.

import { luhnCheck } from '@payrail/contracts';

const SEPARATORS = /[\s-]/g;

function digitsOnly(s: string): string | undefined {
  const d = s.replace(SEPARATORS, '');
  return /^\d+$/.test(d) ? d : undefined;
}

/** Luhn (mod 10) check of a card number: 8-19 digits, spaces and hyphens ignored. */
export function luhnValid(pan: string): boolean {
  if (typeof pan !== 'string') return false;
  const d = digitsOnly(pan);
  return d !== undefined && d.length >= 8 && d.length <= 19 && luhnCheck(d);
}

/**
 * How many leading digits a mask may show of a card number of `length` digits: PCI DSS allows at most the first 6
 * and last 4, and Payrail never shows more than half the digits (the last 4 come first), so a 16-digit number
 * shows 4 + 4, a 19-digit one 5 + 4, a 12- or 13-digit one 2 + 4, one under 8 digits nothing.
 */
export function maskedPrefixLength(length: number): number {
  if (length < 8) return 0;
  return Math.min(6, Math.floor(length / 2) - 4);
}

/** The leading digits of a card number that its mask shows (see maskedPrefixLength): '' when it is no digit string. */
export function panPrefix(pan: string): string {
  if (typeof pan !== 'string') return '';
  const d = digitsOnly(pan);
  return d === undefined ? '' : d.slice(0, maskedPrefixLength(d.length));
}

/**
 * The leading digits maskedPrefixLength allows, the last 4, the rest '*' (separators dropped): never more than the
 * first 6 and last 4, never more than half the digits. Under 8 digits, or anything that is not a digit string, is
 * masked entirely: masking must never be the leak.
 */
export function maskPan(pan: string): string {
  if (typeof pan !== 'string') return '';
  const d = digitsOnly(pan);
  if (d === undefined) return '*'.repeat(pan.length);
  if (d.length < 8) return '*'.repeat(d.length);
  const lead = maskedPrefixLength(d.length);
  return d.slice(0, lead) + '*'.repeat(d.length - lead - 4) + d.slice(-4);
}

/** Account numbers, IBANs: whitespace dropped, last 4 characters visible (none when 4 or fewer). */
export function maskAccount(acct: string): string {
  if (typeof acct !== 'string') return '';
  const s = acct.replace(/\s/g, '');
  if (s.length <= 4) return '*'.repeat(s.length);
  return '*'.repeat(s.length - 4) + s.slice(-4);
}

/** Digits of a number written with spaces or hyphens ("4111 1111-1111 1111"), or the string unchanged. */
export function normaliseIdentifier(value: string): string {
  if (!/^[\d\s-]+$/.test(value)) return value;
  return value.replace(SEPARATORS, '');
}
