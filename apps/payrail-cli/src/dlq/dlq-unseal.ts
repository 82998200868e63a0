// The key holder's replay of sealed dead letters (`payrail dlq replay --dlq-key FILE`). Dead letters of the inbound
// topic keep their value only as a JWE to the data-protection key (`pdlq` in its protected header). With that private
// key the operator opens it and publishes the original bytes again: for the inbound topic only when they are the
// upstream's encrypted payment ({"jwe": ...}), so a card number never travels in clear. A refused plain JWS stays
// sealed: the upstream must send it again, encrypted.
import { INBOUND_NOT_ENCRYPTED, InboundPaymentSchema, TOPICS } from '@payrail/contracts';
import { CryptoError, JweDecrypter, PayrailKeyStore } from '@payrail/crypto';
import type { DeadLetter, DeadLetterUnsealer } from '@payrail/messaging';

/** The protected-header member ingest sets on a sealed dead letter (never on a payer field's JWE). */
const DEAD_LETTER_SEAL_MEMBER = 'pdlq';

/** An unsealer with the data-protection private JWKS in `file` (throws, naming the file, when it holds no such key). */
export async function openDeadLetterUnsealer(file: string): Promise<DeadLetterUnsealer> {
  const decrypter = new JweDecrypter(await PayrailKeyStore.fromFile(file));
  return (letter) => unsealWith(decrypter, letter);
}

export async function unsealWith(decrypter: Pick<JweDecrypter, 'decryptWithHeader'>, letter: DeadLetter): Promise<{ value: Buffer } | { refused: string }> {
  if (letter.value === null) return { refused: 'no value to open' };
  let opened;
  try {
    opened = await decrypter.decryptWithHeader(letter.value.toString('utf8'));
  } catch (err) {
    if (err instanceof CryptoError) return { refused: `the sealed value does not open with the given key (${err.reason})` };
    throw err;
  }
  if (opened.protectedHeader[DEAD_LETTER_SEAL_MEMBER] !== 1) return { refused: 'the value is not a sealed dead letter (no pdlq in its protected header)' };
  if (letter.original.topic === TOPICS.paymentsInbound.name) {
    let parsed;
    try {
      parsed = InboundPaymentSchema.safeParse(JSON.parse(opened.plaintext.toString('utf8')));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success || parsed.data.jwe === undefined) {
      return { refused: `${INBOUND_NOT_ENCRYPTED}: the original is not the upstream's encrypted payment ({"jwe": ...}); it is never published again in clear: the upstream must send it again, encrypted` };
    }
  }
  return { value: opened.plaintext };
}
