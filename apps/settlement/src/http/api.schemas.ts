// What the settlement operators API returns, as zod schemas: the controllers build these shapes, and the OpenAPI
// document takes its response schemas from here (z.toJSONSchema), so the two cannot drift apart.
import { z } from 'zod';
import { CurrencyCodeSchema, MerchantIdSchema, MoneySchema, SettlementBatchReportSchema } from '@payrail/contracts';

const Timestamp = z.iso.datetime({ offset: true });

export const BatchSummarySchema = z.object({
  batch_id: z.string().describe('merchant.CURRENCY.window-start[.n], deterministic'),
  merchant_id: MerchantIdSchema,
  currency: z.string().length(3),
  status: z.enum(['open', 'closed', 'reported', 'signed']).describe('open: takes postings; closed: report not yet sent; reported: report sent for signing; signed: signed report recorded'),
  window: z.object({ start: Timestamp, end: Timestamp }).describe('the cutoff window of screening time the batch covers'),
  opened_at: Timestamp,
  closed_at: Timestamp.optional(),
  close_reason: z.enum(['cutoff', 'size']).optional(),
  payment_count: z.number().int().nonnegative(),
  gross: MoneySchema,
  fees: MoneySchema,
  net: MoneySchema,
  links: z.object({ self: z.string() }),
});
export type BatchSummary = z.infer<typeof BatchSummarySchema>;

export const BatchDetailSchema = BatchSummarySchema.extend({
  payment_ids: z.array(z.string()),
  report: SettlementBatchReportSchema.optional().describe('the unsigned report (closed batches)'),
  signed_report: z.object({ kid: z.string(), report_jws: z.string(), signed_at: Timestamp }).optional().describe("the report signed by Payrail's signing service (compact JWS)"),
});
export type BatchDetail = z.infer<typeof BatchDetailSchema>;

export const BatchListSchema = z.object({
  merchant_id: MerchantIdSchema,
  items: z.array(BatchSummarySchema),
  total: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  limit: z.number().int().positive(),
  next_offset: z.number().int().nonnegative().optional(),
});
export type BatchList = z.infer<typeof BatchListSchema>;

export const BalanceRowSchema = z.object({
  currency: z.string().length(3),
  clearing: MoneySchema,
  merchant_payable: MoneySchema,
  fee_revenue: MoneySchema,
  sum: MoneySchema.describe('always 0 in a balanced ledger'),
});

export const MerchantAccountsSchema = z.object({ merchant_id: MerchantIdSchema, balances: z.array(BalanceRowSchema) });
export type MerchantAccounts = z.infer<typeof MerchantAccountsSchema>;

export const LedgerTotalsSchema = z.object({ merchants: z.number().int().nonnegative(), balances: z.array(BalanceRowSchema) });
export type LedgerTotals = z.infer<typeof LedgerTotalsSchema>;

export const InvariantsSchema = z.object({
  checked_at: Timestamp,
  ok: z.boolean(),
  merchants: z.number().int(),
  batches: z.number().int(),
  postings: z.number().int(),
  currency_sums: z.record(z.string(), z.string()),
  violations: z.array(z.object({ invariant: z.string(), merchant_id: z.string(), currency: z.string().optional(), batch_id: z.string().optional(), payment_id: z.string().optional(), detail: z.string() })),
});
export type Invariants = z.infer<typeof InvariantsSchema>;

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional(),
});

export const BatchListQuerySchema = z.object({
  merchant_id: MerchantIdSchema,
  status: z.enum(['open', 'closed', 'reported', 'signed']).optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** OpenAPI 3.0 schema of a zod schema, in its wire form (money minor units as decimal strings). */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
    // the ISO 4217 list is validated where money enters Payrail; here it would repeat 150 codes per amount
    override: (ctx) => {
      if (ctx.zodSchema === CurrencyCodeSchema) {
        for (const k of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[k];
        Object.assign(ctx.jsonSchema, { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code' });
      }
    },
  }) as Record<string, unknown>;
}
