import { z } from 'zod';
import { MoneySchema } from '../money/money.schema';
import { MerchantIdSchema } from '../payments/parties';
import { EventSealSchema } from '../security/event-seal';

/** A closed settlement batch: what Payrail owes one merchant in one currency, net of fees. */
export const SettlementBatchReportSchema = z.object({
  batch_id: z.string().min(1),
  merchant_id: MerchantIdSchema,
  currency: z.string().length(3),
  opened_at: z.iso.datetime({ offset: true }),
  closed_at: z.iso.datetime({ offset: true }),
  close_reason: z.enum(['cutoff', 'size']),
  payment_count: z.number().int().nonnegative(),
  gross: MoneySchema,
  fees: MoneySchema,
  net: MoneySchema,
  payment_ids: z.array(z.string().uuid()),
  /** settlement's seal (EVENT_SEAL_TYPES.settlementBatchReport): signing signs only a report whose seal verifies. */
  seal: EventSealSchema.optional(),
});
export type SettlementBatchReport = z.infer<typeof SettlementBatchReportSchema>;

/** The `typ` header of Payrail's JWS over a settlement batch report: never mistaken for a payment instruction. */
export const SETTLEMENT_BATCH_JWS_TYPE = 'payrail-settlement-batch+jws';

/** signing -> merchants/treasury: the batch report with Payrail's JWS over its canonical form. */
export const SignedSettlementBatchSchema = z.object({
  batch_id: z.string().min(1),
  merchant_id: MerchantIdSchema,
  kid: z.string().min(1),
  report_jws: z.string().min(1),
});
export type SignedSettlementBatch = z.infer<typeof SignedSettlementBatchSchema>;
