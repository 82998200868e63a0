import { z } from 'zod';
import { freeText } from '../security/card-number-text';

/** ISO 3166-1 alpha-2 country code. */
export const CountryCodeSchema = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code such as DE');

export const MerchantIdSchema = freeText(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 characters of letters, digits, ".", "_" or "-"'));

/** Merchant category code (ISO 18245). */
export const MccSchema = z.string().regex(/^[0-9]{4}$/, 'must be a 4-digit merchant category code');

export const PayeeSchema = z.object({
  merchant_id: MerchantIdSchema,
  mcc: MccSchema,
  country: CountryCodeSchema.optional(),
});
export type Payee = z.infer<typeof PayeeSchema>;

export const PaymentContextSchema = z
  .object({
    ip: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }).optional(),
    country: CountryCodeSchema.optional(),
    device_id: freeText(z.string().min(1).max(128)).optional(),
  })
  .strict();
export type PaymentContext = z.infer<typeof PaymentContextSchema>;

/** A masked card number: at most the first 6 and last 4 digits, never more than half of them. */
export const MaskedPanSchema = z
  .string()
  .regex(/^[0-9]{0,6}\*+[0-9]{4}$/, { error: 'must be leading digits, "*" and the last 4 digits', abort: true })
  .refine((m) => m.replace(/\*/g, '').length <= Math.floor(m.length / 2), 'must not show more than half the digits');

/**
 * A payer as Payrail carries it after ingest: never the card or account number, only its JWE (decryptable by
 * the data-protection key holder), a keyed fingerprint (for velocity and blocklists) and a masked form.
 */
export const ProtectedPayerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('card'),
    fingerprint: z.string().min(16),
    /** Leading digits, '*', last 4: never more than the first 6 and last 4, never more than half the digits. */
    masked: MaskedPanSchema,
    /** The card's leading digits as far as the mask shows them (2-5: 4 of a 16-digit card), not the full 6-8 digit BIN. */
    bin: z.string().regex(/^[0-9]{2,5}$/),
    country: CountryCodeSchema.optional(),
    expiry: z.string().regex(/^[0-9]{4}-[0-9]{2}$/),
    protected_jwe: z.string().min(1),
  }),
  z.object({
    type: z.literal('account'),
    fingerprint: z.string().min(16),
    masked: z.string().regex(/^\*+[A-Za-z0-9]{4}$/),
    country: CountryCodeSchema.optional(),
    protected_jwe: z.string().min(1),
  }),
]);
export type ProtectedPayer = z.infer<typeof ProtectedPayerSchema>;
