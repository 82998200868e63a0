// Display masking for logs and UIs. PCI DSS allows at most the first six and last four digits of a PAN.

const SEPARATORS = /[\s-]/g;

function digitsOnly(s: string): string | undefined {
  const d = s.replace(SEPARATORS, '');
  return /^\d+$/.test(d) ? d : undefined;
}

/** Luhn (mod 10) check of a card number: 8-19 digits, spaces and hyphens ignored. */
export function luhnValid(pan: string): boolean {
  if (typeof pan !== 'string') return false;
  const d = digitsOnly(pan);
  if (d === undefined || d.length < 8 || d.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let v = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return sum % 10 === 0;
}

/**
 * First 6 and last 4 digits, the rest '*' (separators dropped). Shorter numbers (under 13 digits) show only the
 * last 4, and anything that is not a digit string is masked entirely: masking must never be the leak.
 */
export function maskPan(pan: string): string {
  if (typeof pan !== 'string') return '';
  const d = digitsOnly(pan);
  if (d === undefined) return '*'.repeat(pan.length);
  if (d.length <= 4) return '*'.repeat(d.length);
  if (d.length < 13) return '*'.repeat(d.length - 4) + d.slice(-4);
  return d.slice(0, 6) + '*'.repeat(d.length - 10) + d.slice(-4);
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
