// What the admin HTTP API accepts and answers, once: the controllers parse requests with these schemas, the
// OpenAPI document (docs/fraud-check-admin.openapi.yaml) is generated from them, and the integration tests parse
// real responses with them, so the document cannot drift from the service.
import { z } from 'zod';
import { CountryCodeSchema, freeText, CurrencyCodeSchema, DecisionReasonSchema, MerchantIdSchema, MinorUnitsSchema, PaymentContextSchema, PaymentIdSchema } from '@payrail/contracts';
import { BLOCKLISTS } from '../blocklist/blocklist';
import { RuleSetSchema } from '../rules/ruleset';

// ---- requests ----------------------------------------------------------------------------------------------

export const BlocklistParams = z.object({ list: z.enum(BLOCKLISTS, { error: `must be one of ${BLOCKLISTS.join(', ')}` }) });
export const BlocklistPageQuery = z.strictObject({
  cursor: z.string().regex(/^[0-9]+$/, 'must be a cursor returned by a previous page').default('0').describe('next_cursor of the previous page; 0 (or absent) starts'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
/** Documented shape; the value is checked by its list's own rule (BLOCKLIST_VALUE_SCHEMAS). */
export const BlocklistEntryBody = z.strictObject({
  value: z.string().describe('card / account: the keyed fingerprint (never the number); bin: 1-5 leading digits (matches cards starting with them); ip: IPv4 or IPv6; country: ISO 3166-1 alpha-2; merchant: merchant id'),
  reason: freeText(z.string().min(1).max(300)).optional(),
});

export const ReviewParams = z.object({ paymentId: PaymentIdSchema });
export const ReviewPageQuery = z.strictObject({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export const ReviewDecisionBody = z.strictObject({
  decision: z.enum(['APPROVE', 'DECLINE'], { error: 'must be APPROVE or DECLINE' }),
  note: freeText(z.string().min(1).max(500)).optional(),
});

export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.string().regex(/^[0-9]+-[0-9]+$/, 'must be an entry id from a previous page').optional().describe('next_before of the previous page'),
});

// ---- responses ---------------------------------------------------------------------------------------------

const Timestamp = z.iso.datetime({ offset: true });
const Money = z.object({ minor: MinorUnitsSchema, currency: CurrencyCodeSchema });

export const BlocklistEntrySchema = z.object({ value: z.string(), reason: z.string().optional(), added_by: z.string(), added_at: Timestamp });
export const BlocklistPage = z.object({ list: z.enum(BLOCKLISTS), entries: z.array(BlocklistEntrySchema), next_cursor: z.string().nullable() });
export const BlocklistAdded = z.object({ list: z.enum(BLOCKLISTS), outcome: z.enum(['created', 'updated']), entry: BlocklistEntrySchema });
export const BlocklistRemoved = z.object({ list: z.enum(BLOCKLISTS), outcome: z.literal('removed'), value: z.string() });

/** What analysts see of a payment in review: never the card or account number. */
export const ReviewSummarySchema = z.object({
  payment_id: PaymentIdSchema,
  upstream_id: z.string(),
  merchant_id: MerchantIdSchema,
  mcc: z.string(),
  amount: Money,
  payer: z.object({ type: z.enum(['card', 'account']), fingerprint: z.string(), masked: z.string(), bin: z.string().optional(), country: CountryCodeSchema.optional() }),
  context: PaymentContextSchema.optional(),
  accepted_at: Timestamp,
  score: z.number().int(),
  reasons: z.array(DecisionReasonSchema),
  ruleset_version: z.string(),
  screened_at: Timestamp,
});
export type ReviewSummary = z.infer<typeof ReviewSummarySchema>;

const AnalystReview = z.object({ analyst: z.string(), decided_at: Timestamp, note: z.string().optional() });
export const ReviewPage = z.object({ total: z.number().int(), offset: z.number().int(), reviews: z.array(ReviewSummarySchema) });
export const ReviewViewSchema = z.object({
  status: z.enum(['pending', 'decided']),
  payment: ReviewSummarySchema,
  outcome: z.object({ decision: z.enum(['APPROVE', 'DECLINE']), analyst: z.string(), decided_at: Timestamp, note: z.string().optional() }).optional(),
});
export type ReviewView = z.infer<typeof ReviewViewSchema>;
export const ReviewDecided = z.object({
  payment_id: PaymentIdSchema,
  outcome: z.enum(['decided', 'already_decided']).describe('already_decided: the same decision was taken before; nothing changed'),
  decision: z.enum(['APPROVE', 'DECLINE']),
  review: AnalystReview,
  screened_at: Timestamp,
});

export const AuditEntrySchema = z.object({
  id: z.string().describe('Redis stream entry id'),
  request_id: z.string(),
  at: Timestamp,
  operator: z.string().describe('operator id, or anonymous'),
  role: z.enum(['read', 'write', 'none']),
  action: z.string(),
  target: z.string(),
  outcome: z.string(),
  detail: z.string().optional(),
});
export const AuditPage = z.object({ entries: z.array(AuditEntrySchema), next_before: z.string().nullable() });

export const RulesView = z.object({
  version: z.string(),
  sha256: z.string(),
  loaded_at: Timestamp,
  last_refused_reload: z.object({ at: Timestamp, reason: z.string() }).nullable(),
  ruleset: RuleSetSchema,
});

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string(),
  errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional(),
});
