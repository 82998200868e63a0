// Payment instructions for fraud-check tests: a plausible card payment, overridable field by field.
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { PaymentInstruction, PaymentInstructionSchema } from '@payrail/contracts';

export interface InstructionOverrides {
  paymentId?: string;
  at?: string | number;
  minor?: string;
  currency?: PaymentInstruction['amount']['currency'];
  merchant?: string;
  mcc?: string;
  card?: { fingerprint?: string; bin?: string; country?: string };
  account?: { fingerprint?: string; country?: string };
  context?: PaymentInstruction['context'] | null;
}

/** A UUIDv7, as ingest gives payments. */
export function paymentId(): string {
  return uuidv7();
}

export function fingerprintOf(label: string): string {
  return Buffer.from(`fp-${label}`.padEnd(32, '.')).toString('base64url');
}

export function instruction(o: InstructionOverrides = {}): PaymentInstruction {
  const at = o.at === undefined ? new Date().toISOString() : typeof o.at === 'number' ? new Date(o.at).toISOString() : o.at;
  const payer: PaymentInstruction['payer'] = o.account
    ? { type: 'account', fingerprint: o.account.fingerprint ?? fingerprintOf('account-1'), masked: '******3000', country: o.account.country, protected_jwe: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.e.i.c.t' }
    : {
        type: 'card',
        fingerprint: o.card?.fingerprint ?? fingerprintOf('card-1'),
        masked: `${o.card?.bin ?? '4111'}${'*'.repeat(12 - (o.card?.bin ?? '4111').length)}1111`,
        bin: o.card?.bin ?? '4111',
        country: o.card?.country,
        expiry: '2029-01',
        protected_jwe: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.e.i.c.t',
      };
  return PaymentInstructionSchema.parse({
    payment_id: o.paymentId ?? paymentId(),
    upstream_id: 'psp-alpha',
    upstream_reference: `ref-${randomUUID().slice(0, 8)}`,
    accepted_at: at,
    signed_at: at,
    amount: { minor: o.minor ?? '1050', currency: o.currency ?? 'EUR' },
    payer,
    payee: { merchant_id: o.merchant ?? 'm-1', mcc: o.mcc ?? '5814' },
    context: o.context === null ? undefined : (o.context ?? { ip: '203.0.113.7', country: 'DE', device_id: 'device-1' }),
    upstream_verification: { kid: 'k', alg: 'ES256', jti: randomUUID(), iat: 1 },
  });
}

/**
 * A seeded stream of payments with repeated payers, payees, IPs, devices and amounts (velocity, duplicates, first
 * payees, card testing), one every 1.5 s from `startMs`: the same stream for the same options.
 */
export function paymentStream(n: number, o: { startMs: number; seed: number; payers: number; merchants: readonly string[] }): PaymentInstruction[] {
  let seed = o.seed;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, (_, i) =>
    instruction({
      at: o.startMs + i * 1_500,
      card: { fingerprint: fingerprintOf(`payer-${Math.floor(random() * o.payers)}`) },
      merchant: o.merchants[Math.floor(random() * o.merchants.length)] ?? 'm-1',
      minor: ['150', '250', '150000', '120000', '5000', '250000'][Math.floor(random() * 6)] ?? '150',
      context: { ip: `203.0.113.${Math.floor(random() * 3)}`, country: 'DE', device_id: `device-${Math.floor(random() * 3)}` },
    }),
  );
}
