// Finding card and account numbers in text: the exact numbers a test submitted, and anything that looks like a
// card number (a Luhn-valid run of 13-19 digits starting with 3, 4, 5 or 6, the card schemes' first digits).
// Digit runs that continue a decimal fraction or another number, or sit inside a hex id, are not candidates
// (timestamps start with 1 or 2).
import { luhnValid } from '@payrail/crypto';

/** Where a text came from ("kafka:payrail.payments.accepted.v1/3@17", "redis:payrail:payment:{id}", "log:ingest.log:12"). */
export interface WrittenText {
  where: string;
  text: string;
}

export interface PlaintextFinding {
  where: string;
  kind: 'known-card' | 'known-account' | 'card-like';
  /** Masked (first 6, last 4): a failing test must not print the number either. */
  masked: string;
}

// A card-like run of digits, except the value of an amount in minor units ("minor", "amount_minor", "sum_minor",
// ...: a velocity sum above 10^12 is a 13-digit number and passes the Luhn check one time in ten).
const CARD_LIKE = /(?<![\d.])(?<!minor":")(?<!minor":)[3-6]\d{12,18}(?!\d)/g;

// Lower-case hex identifiers of 16 characters or more with at least one letter (W3C trace and span ids in log
// lines): a digit run inside one is part of an id, not a number. The known numbers are still looked for everywhere.
const HEX_ID = /(?<![0-9A-Za-z])(?=[0-9a-f]*[a-f])[0-9a-f]{16,}(?![0-9A-Za-z])/g;

function mask(value: string): string {
  return value.length <= 10 ? '*'.repeat(value.length) : `${value.slice(0, 6)}${'*'.repeat(value.length - 10)}${value.slice(-4)}`;
}

/** Every plaintext card or account number in the texts: the known ones anywhere, card-like ones anywhere. */
export function findPlaintextNumbers(texts: Iterable<WrittenText>, known: { cards: readonly string[]; accounts: readonly string[] }): PlaintextFinding[] {
  const findings: PlaintextFinding[] = [];
  for (const { where, text } of texts) {
    for (const card of known.cards) if (text.includes(card)) findings.push({ where, kind: 'known-card', masked: mask(card) });
    for (const account of known.accounts) if (text.includes(account)) findings.push({ where, kind: 'known-account', masked: mask(account) });
    for (const match of text.replace(HEX_ID, (id) => ' '.repeat(id.length)).matchAll(CARD_LIKE)) {
      if (luhnValid(match[0]) && !known.cards.includes(match[0])) findings.push({ where, kind: 'card-like', masked: mask(match[0]) });
    }
  }
  return findings;
}
