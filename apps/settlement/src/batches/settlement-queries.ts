// The read side of the operators API: ledger state mapped to the API's shapes (http/api.schemas.ts).
import { Injectable } from '@nestjs/common';
import { ACCOUNTS, BatchState, CurrencyBalances, batchReport, parseBatchId } from '@payrail/ledger';
import { Ledger } from '../ledger/ledger.provider';
import type { BatchDetail, BatchList, BatchSummary, LedgerTotals, MerchantAccounts } from '../http/api.schemas';

export interface BatchListQuery {
  merchant_id: string;
  status?: BatchSummary['status'];
  currency?: string;
  limit: number;
  offset: number;
}

@Injectable()
export class SettlementQueries {
  constructor(private readonly ledger: Ledger) {}

  async listBatches(q: BatchListQuery): Promise<BatchList> {
    const repo = this.ledger.repository;
    let items: BatchSummary[];
    let total: number;
    if (!q.status && !q.currency) {
      total = await repo.batchCount(q.merchant_id);
      const ids = await repo.batchIds(q.merchant_id, q.offset, q.limit);
      items = (await Promise.all(ids.map((id) => repo.batch(q.merchant_id, id)))).flatMap((b) => (b ? [summary(b)] : []));
    } else {
      const all = (await Promise.all((await repo.batchIds(q.merchant_id)).map((id) => repo.batch(q.merchant_id, id)))).flatMap((b) => (b ? [b] : []));
      const matching = all.filter((b) => (!q.status || b.status === q.status) && (!q.currency || b.currency === q.currency));
      total = matching.length;
      items = matching.slice(q.offset, q.offset + q.limit).map(summary);
    }
    const next = q.offset + q.limit;
    return { merchant_id: q.merchant_id, items, total, offset: q.offset, limit: q.limit, ...(next < total ? { next_offset: next } : {}) };
  }

  async batch(batchId: string): Promise<BatchDetail | undefined> {
    const parsed = parseBatchId(batchId);
    if (!parsed) return undefined;
    const repo = this.ledger.repository;
    const batch = await repo.batch(parsed.merchantId, batchId);
    if (!batch) return undefined;
    const paymentIds = await repo.batchPaymentIds(parsed.merchantId, batchId);
    return {
      ...summary(batch),
      payment_ids: paymentIds,
      ...(batch.state === 'closed' ? { report: batchReport(batch, paymentIds) } : {}),
      ...(batch.reportJws && batch.kid && batch.signedAt ? { signed_report: { kid: batch.kid, report_jws: batch.reportJws, signed_at: batch.signedAt } } : {}),
    };
  }

  async merchantAccounts(merchantId: string): Promise<MerchantAccounts | undefined> {
    const repo = this.ledger.repository;
    if (!(await repo.isMerchant(merchantId))) return undefined;
    return { merchant_id: merchantId, balances: (await repo.balances(merchantId)).map(balanceRow) };
  }

  async ledgerTotals(): Promise<LedgerTotals> {
    const repo = this.ledger.repository;
    const merchants = await repo.merchants();
    const totals = new Map<string, CurrencyBalances>();
    for (const m of merchants) {
      for (const b of await repo.balances(m)) {
        const t = totals.get(b.currency) ?? { currency: b.currency, clearing: 0n, merchant_payable: 0n, fee_revenue: 0n };
        for (const a of ACCOUNTS) t[a] += b[a];
        totals.set(b.currency, t);
      }
    }
    return { merchants: merchants.length, balances: [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency)).map(balanceRow) };
  }
}

function money(minor: bigint, currency: string): { minor: string; currency: string } {
  return { minor: minor.toString(), currency };
}

function balanceRow(b: CurrencyBalances): MerchantAccounts['balances'][number] {
  return {
    currency: b.currency,
    clearing: money(b.clearing, b.currency),
    merchant_payable: money(b.merchant_payable, b.currency),
    fee_revenue: money(b.fee_revenue, b.currency),
    sum: money(b.clearing + b.merchant_payable + b.fee_revenue, b.currency),
  } as MerchantAccounts['balances'][number];
}

function summary(b: BatchState): BatchSummary {
  return {
    batch_id: b.batchId,
    merchant_id: b.merchantId,
    currency: b.currency,
    status: b.status,
    window: { start: b.windowStart, end: b.windowEnd },
    opened_at: b.openedAt,
    ...(b.closedAt ? { closed_at: b.closedAt } : {}),
    ...(b.closeReason ? { close_reason: b.closeReason } : {}),
    payment_count: b.count,
    gross: money(b.gross, b.currency),
    fees: money(b.fees, b.currency),
    net: money(b.net, b.currency),
    links: { self: `/v1/settlements/batches/${encodeURIComponent(b.batchId)}` },
  } as BatchSummary;
}
