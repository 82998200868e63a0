// A closed settlement batch report as settlement publishes it, for the signing tests.
import { randomUUID } from 'node:crypto';
import { SettlementBatchReport } from '@payrail/contracts';

export function settlementBatchReport(merchantId = 'm-4711'): SettlementBatchReport {
  return {
    batch_id: `${merchantId}-EUR-${randomUUID()}`,
    merchant_id: merchantId,
    currency: 'EUR',
    opened_at: '2026-11-29T10:00:00.000Z',
    closed_at: '2026-11-29T11:00:00.000Z',
    close_reason: 'cutoff',
    payment_count: 2,
    gross: { minor: '3000', currency: 'EUR' },
    fees: { minor: '65', currency: 'EUR' },
    net: { minor: '2935', currency: 'EUR' },
    payment_ids: [randomUUID(), randomUUID()],
  };
}
