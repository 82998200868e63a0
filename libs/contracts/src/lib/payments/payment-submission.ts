// What an upstream submits: the JWS payload of POST /v1/payments or of a message on the inbound topic.
import { z } from 'zod';
import { PaymentAmountSchema } from '../money/money.schema';
import { freeText } from '../security/card-number-text';
import { CountryCodeSchema, PayeeSchema, PaymentContextSchema } from './parties';

const PanSchema = z.string().regex(/^[0-9]{12,19}$/, 'must be 12-19 digits');

export const CardPayerSchema = z
  .object({
    type: z.literal('card'),
    card: z
      .object({
        number: PanSchema,
        expiry_month: z.number().int().min(1).max(12),
        expiry_year: z.number().int().min(2000).max(2100),
        country: CountryCodeSchema.optional(),
      })
      .strict(),
  })
  .strict();

export const AccountPayerSchema = z
  .object({
    type: z.literal('account'),
    account: z
      .object({
        // IBAN (ISO 13616) or a domestic account number
        number: z.string().regex(/^[A-Z0-9]{6,34}$/, 'must be 6-34 upper-case letters or digits (IBAN or domestic number)'),
        country: CountryCodeSchema.optional(),
      })
      .strict(),
  })
  .strict();

export const PayerSubmissionSchema = z.discriminatedUnion('type', [CardPayerSchema, AccountPayerSchema], {
  error: 'payer.type must be "card" or "account"',
});

export type PayerSubmission = z.infer<typeof PayerSubmissionSchema>;

export const PaymentSubmissionSchema = z
  .object({
    upstream_reference: freeText(z.string().min(1).max(64).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')),
    amount: PaymentAmountSchema,
    payer: PayerSubmissionSchema,
    payee: PayeeSchema,
    description: freeText(z.string().max(140)).optional(),
    context: PaymentContextSchema.optional(),
  })
  .strict();
export type PaymentSubmission = z.infer<typeof PaymentSubmissionSchema>;

/** The claims set an upstream signs: freshness (`iat`), replay guard (`jti`) and the payment. */
/** The `typ` header of an upstream's JWS over a payment (RFC 8725 3.11 explicit typing; docs/upstreams.md). */
export const SIGNED_PAYMENT_JWS_TYPE = 'payrail-payment+jws';
/** The `typ` header of an upstream's JWS authenticating a read (GET /v1/payments/{id}: {htm, htu, iat}). */
export const SIGNED_REQUEST_JWS_TYPE = 'payrail-request+jws';

export const SignedSubmissionClaimsSchema = z
  .object({
    jti: freeText(z.string().min(8).max(128)),
    iat: z.number().int().positive(),
    payment: PaymentSubmissionSchema,
  })
  .strict();
export type SignedSubmissionClaims = z.infer<typeof SignedSubmissionClaimsSchema>;

/**
 * The `cty` of the JWE an upstream publishes to the inbound topic: its plaintext is the upstream's compact JWS over a
 * payment (typ SIGNED_PAYMENT_JWS_TYPE), a JWS nested in a JWE (docs/upstreams.md).
 */
export const INBOUND_PAYMENT_JWE_CONTENT_TYPE = 'payrail-payment+jws';
/** Where ingest publishes (public port) the key upstreams encrypt inbound payments to. */
export const INBOUND_JWKS_PATH = '/.well-known/payrail-inbound-jwks.json';
/** Dead-letter reason of an inbound message holding a signed payment that is not encrypted to Payrail. */
export const INBOUND_NOT_ENCRYPTED = 'inbound_not_encrypted';

const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Inbound topic message value: the upstream's compact JWS encrypted to Payrail's inbound key (`jwe`), plus an
 * optional idempotency key. `jws` (a signed payment not encrypted, as upstreams published before) is in the schema
 * only so ingest can refuse it with its own reason (dead-lettered as `inbound_not_encrypted`, its value sealed).
 */
export const InboundPaymentSchema = z
  .object({
    jwe: z.string().min(1).max(96 * 1024).regex(COMPACT_JWE, 'must be a compact JWE (five base64url segments)').optional(),
    jws: z.string().min(1).max(64 * 1024).optional().describe('Refused: a signed payment not encrypted to Payrail (dead-lettered as inbound_not_encrypted). Send jwe.'),
    idempotency_key: freeText(z.string().min(1).max(255)).optional(),
  })
  .strict()
  .refine((v) => (v.jwe === undefined) !== (v.jws === undefined), { message: 'exactly one of jwe (the signed payment encrypted to Payrail) and jws (refused) is required', path: ['jwe'] });
export type InboundPayment = z.infer<typeof InboundPaymentSchema>;
