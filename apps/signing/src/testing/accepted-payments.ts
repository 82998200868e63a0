// Accepted payments as ingest publishes them, for the signing tests and benchmark: realistic size (a ~400-byte
// JWE of the card number, upstream verification facts) and many payers, so the topic's keys spread the load
// over the partitions the way real traffic does.
import { randomBytes, randomUUID } from 'node:crypto';
import { PaymentAccepted } from '@payrail/contracts';

export interface AcceptedPaymentOptions {
  /** How many distinct payers (message keys) the payments are spread over. Default 5,000. */
  payers?: number;
  /** Minor units; default a few euros varying with i. */
  minor?: string;
}

const b64u = (bytes: number) => randomBytes(bytes).toString('base64url');

/** A stand-in for the data-protection JWE: only its shape and size matter to signing. */
function protectedJwe(): string {
  return `${b64u(190)}.${b64u(40)}.${b64u(12)}.${b64u(24)}.${b64u(16)}`;
}

export function acceptedPayment(i: number, opts: AcceptedPaymentOptions = {}): PaymentAccepted {
  const payer = i % (opts.payers ?? 5_000);
  return {
    payment_id: randomUUID(),
    upstream_id: 'psp-alpha',
    upstream_reference: `order-${i}-${b64u(6)}`,
    accepted_at: new Date().toISOString(),
    amount: { minor: opts.minor ?? String(100 + (i % 9_000)), currency: 'EUR' },
    payer: {
      type: 'card',
      fingerprint: `fp_${payer.toString(36).padStart(8, '0')}${'0'.repeat(32)}`,
      masked: '4111********1111',
      bin: '4111',
      country: 'DE',
      expiry: '2029-09',
      protected_jwe: protectedJwe(),
    },
    payee: { merchant_id: `m-${i % 50}`, mcc: '5411', country: 'DE' },
    description: `Order ${i}`,
    // one address per payer: fraud-check's IP velocity and card-testing rules see ordinary shoppers
    context: { ip: `10.${(payer >> 16) & 255}.${(payer >> 8) & 255}.${payer & 255}`, country: 'DE' },
    upstream_verification: { kid: 'psp-alpha-2026', alg: 'ES256', jti: randomUUID(), iat: Math.floor(Date.now() / 1000) },
  };
}
