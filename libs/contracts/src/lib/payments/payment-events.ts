// Events about one payment as it moves through Payrail. Payment ids are UUIDv7 (time-ordered).
import { z } from 'zod';
import { MoneySchema } from '../money/money.schema';
import { MerchantIdSchema, PayeeSchema, PaymentContextSchema, ProtectedPayerSchema } from './parties';
import { EventSealSchema } from '../security/event-seal';

export const PaymentIdSchema = z.string().uuid();
const Timestamp = z.iso.datetime({ offset: true });

/** ingest -> signing: an authenticated, validated, de-duplicated payment with card/account data protected. */
export const PaymentAcceptedSchema = z.object({
  payment_id: PaymentIdSchema,
  upstream_id: z.string().min(1),
  upstream_reference: z.string().min(1).max(64),
  accepted_at: Timestamp,
  amount: MoneySchema,
  payer: ProtectedPayerSchema,
  payee: PayeeSchema,
  description: z.string().max(140).optional(),
  context: PaymentContextSchema.optional(),
  /** What ingest verified about the upstream's signature: the chain signing records in the instruction. */
  upstream_verification: z.object({ kid: z.string(), alg: z.string(), jti: z.string(), iat: z.number().int() }),
  /** ingest's seal (EVENT_SEAL_TYPES.paymentAccepted): signing signs only an accepted payment whose seal verifies. */
  seal: EventSealSchema.optional(),
});
export type PaymentAccepted = z.infer<typeof PaymentAcceptedSchema>;

/** The signed payment instruction's JWS payload: the accepted payment plus signing facts. */
export const PaymentInstructionSchema = PaymentAcceptedSchema.omit({ seal: true }).extend({
  signed_at: Timestamp,
});
export type PaymentInstruction = z.infer<typeof PaymentInstructionSchema>;

/** The `typ` header of Payrail's JWS over a payment instruction (RFC 8725 3.11 explicit typing). */
export const PAYMENT_INSTRUCTION_JWS_TYPE = 'payrail-instruction+jws';

/** signing -> fraud-check: Payrail's JWS over the canonical (RFC 8785) payment instruction. */
export const PaymentSignedSchema = z.object({
  payment_id: PaymentIdSchema,
  kid: z.string().min(1),
  instruction_jws: z.string().min(1),
});
export type PaymentSigned = z.infer<typeof PaymentSignedSchema>;

export const DecisionSchema = z.enum(['APPROVE', 'REVIEW', 'DECLINE']);
export type Decision = z.infer<typeof DecisionSchema>;

/**
 * The stable reason codes an upstream is told with a decision (GET /v1/payments/{id}, docs/upstreams.md). They
 * name the kind of check that fired, never which rule, its limits or what it observed: an upstream must not be
 * able to tune its traffic (card testing) against the rule set. `risk_rule` stands for any check without a code.
 */
export const UpstreamReasonCodeSchema = z.enum([
  'amount_limit',
  'blocklisted',
  'velocity_limit',
  'card_testing',
  'first_payee',
  'country_mismatch',
  'duplicate',
  'signature_invalid',
  'risk_rule',
]);
export type UpstreamReasonCode = z.infer<typeof UpstreamReasonCodeSchema>;

/** A decision's reason codes as an upstream sees them: each code once, in the order of the code list. */
export function upstreamReasonCodes(reasons: readonly { code?: UpstreamReasonCode }[]): UpstreamReasonCode[] {
  const present = new Set(reasons.map((r) => r.code ?? 'risk_rule'));
  return UpstreamReasonCodeSchema.options.filter((code) => present.has(code));
}

export const DecisionReasonSchema = z.object({
  rule: z.string().min(1),
  /** What an upstream may be told about this reason (absent on decisions made before codes existed). */
  code: UpstreamReasonCodeSchema.optional(),
  score: z.number().int(),
  observed: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type DecisionReason = z.infer<typeof DecisionReasonSchema>;

/** fraud-check -> settlement (and status): the decision; APPROVE carries the instruction on for settlement. */
export const PaymentScreenedSchema = z.object({
  payment_id: PaymentIdSchema,
  merchant_id: MerchantIdSchema,
  amount: MoneySchema,
  decision: DecisionSchema,
  score: z.number().int(),
  reasons: z.array(DecisionReasonSchema),
  ruleset_version: z.string().min(1),
  screened_at: Timestamp,
  /** Set when an analyst decided a payment that was first put in REVIEW. */
  review: z.object({ analyst: z.string().min(1), decided_at: Timestamp, note: z.string().max(500).optional() }).optional(),
  instruction_jws: z.string().min(1),
  /** fraud-check's seal (EVENT_SEAL_TYPES.paymentScreened) over the decision, the analyst's review and the instruction. */
  seal: EventSealSchema.optional(),
});
export type PaymentScreened = z.infer<typeof PaymentScreenedSchema>;

/** settlement -> status (and a ledger rebuild): the payment's double-entry posting. */
export const PaymentSettledSchema = z.object({
  payment_id: PaymentIdSchema,
  merchant_id: MerchantIdSchema,
  amount: MoneySchema,
  fee: MoneySchema,
  net: MoneySchema,
  posted_at: Timestamp,
  batch_id: z.string().min(1),
  /** settlement's seal (EVENT_SEAL_TYPES.paymentSettled) over what the payment was told: batch, fee, net, time. */
  seal: EventSealSchema.optional(),
});
export type PaymentSettled = z.infer<typeof PaymentSettledSchema>;

export const RejectionReasonSchema = z.enum([
  'signature_invalid',
  'unknown_upstream',
  'stale',
  'replayed',
  'schema_invalid',
  'merchant_not_allowed',
  'idempotency_conflict',
  'rate_limited',
  'too_large',
  'undecodable',
]);
export type RejectionReason = z.infer<typeof RejectionReasonSchema>;

/** ingest -> upstreams: an inbound payment Payrail refused, correlated to the upstream's reference when known. */
export const PaymentRejectedSchema = z.object({
  upstream_id: z.string().optional(),
  upstream_reference: z.string().optional(),
  idempotency_key: z.string().max(255).optional(),
  reason: RejectionReasonSchema,
  detail: z.string().max(1000),
  rejected_at: Timestamp,
  channel: z.enum(['http', 'kafka']),
});
export type PaymentRejected = z.infer<typeof PaymentRejectedSchema>;
