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

/** Inbound topic message value: the upstream's compact JWS plus optional idempotency key. */
export const InboundPaymentSchema = z
  .object({
    jws: z.string().min(1).max(64 * 1024),
    idempotency_key: freeText(z.string().min(1).max(255)).optional(),
  })
  .strict();
export type InboundPayment = z.infer<typeof InboundPaymentSchema>;
