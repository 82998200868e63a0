// Card numbers belong in payer.card.number only, where ingest encrypts them. Anywhere else a number written by
// an upstream or an operator (a description, a reference, a device id, a note) would travel and be stored in
// clear, so every free-text field refuses text that contains one.
import { z } from 'zod';

/** Digits with at most a few spaces or dashes between them ("4111 1111-1111 1111"). */
const DIGIT_RUN = /\d(?:[\s-]{0,3}\d)*/g;

/** Luhn (mod 10) check of a string of digits: card numbers pass it, most other long digit strings do not. */
export function luhnCheck(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let v = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return sum % 10 === 0;
}

// Identifiers that are hexadecimal by construction (UUIDs such as a jti or an Idempotency-Key, 24+ character hex
// ids with a letter): one in a few dozen would otherwise hold 12 digits in a row that pass Luhn by chance. A card
// number written into such an identifier on purpose is not what this check is for.
const UUID = /(?<![0-9A-Za-z])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9A-Za-z])/gi;
const HEX_ID = /(?<![0-9A-Za-z])(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{24,}(?![0-9A-Za-z])/g;

/**
 * True when the text holds 12-19 consecutive digits (spaces or dashes allowed between them) that pass the Luhn
 * check, outside UUIDs and long hex ids. Every window of a longer run is tried: "4111 1111 1111 1111 7" still hides a
 * card number.
 */
export function containsCardNumber(text: string): boolean {
  const withoutIds = text.replace(UUID, ' ').replace(HEX_ID, ' ');
  for (const run of withoutIds.matchAll(DIGIT_RUN)) {
    const digits = run[0].replace(/[\s-]/g, '');
    for (let length = 12; length <= Math.min(19, digits.length); length++) {
      for (let start = 0; start + length <= digits.length; start++) if (luhnCheck(digits.slice(start, start + length))) return true;
    }
  }
  return false;
}

/** The refusal message: names the rule, never the number. */
export const CARD_NUMBER_IN_TEXT = 'must not contain a card number (a Luhn-valid run of 12-19 digits): card numbers go in payer.card.number only';

/** A free-text field: the given string schema, refusing text that contains a card number. */
export function freeText<S extends z.ZodType<string>>(schema: S): S {
  return schema.refine((text) => !containsCardNumber(text), { error: CARD_NUMBER_IN_TEXT }) as S;
}

/** The text with every digit run that holds a card number replaced (error messages that may quote their input). */
export function redactCardNumbers(text: string): string {
  return text.replace(DIGIT_RUN, (run) => (containsCardNumber(run) ? '[card number removed]' : run));
}
