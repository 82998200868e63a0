// SettlementLedgerPort over settlement's operators API (SETTLEMENT_URL, bearer SETTLEMENT_API_TOKEN[_FILE], the console's own client token with ledger:read;
// docs/settlement.md, docs/settlement.openapi.yaml):
//   GET {SETTLEMENT_URL}/v1/settlements/batches?merchant_id=M&limit=N
//       200 {"merchant_id","items":[{"batch_id","merchant_id","currency","status","window":{"start","end"},"opened_at","closed_at"?,"payment_count","gross","fees","net",...}],"total",...}
//   GET {SETTLEMENT_URL}/v1/accounts                 200 {"merchants","balances":[{"currency","clearing","merchant_payable","fee_revenue","sum"}]}
//   GET {SETTLEMENT_URL}/v1/accounts/{merchant_id}   200 {"merchant_id","balances":[...]}, 404 no ledger state yet
// Batches are listed per merchant, so the console asks for the merchants it has seen pay (newest first).
// Amounts are {"minor": decimal string (balances may be negative), "currency"}.
import { z } from 'zod';
import { amountView } from '../flow/flow-statistics';
import { callJson, parseBody } from './http-json';
import { IntegrationError, LedgerBalance, LedgerBatch, SettlementLedgerPort } from './ports';

const Money = z.object({ minor: z.string().regex(/^-?[0-9]+$/), currency: z.string().length(3) });

const BatchListSchema = z.object({
  items: z.array(
    z.object({
      batch_id: z.string().min(1),
      merchant_id: z.string().min(1),
      currency: z.string().length(3),
      status: z.string().min(1),
      opened_at: z.string(),
      closed_at: z.string().optional(),
      payment_count: z.number().int().nonnegative(),
      gross: Money,
      fees: Money,
      net: Money,
    }),
  ),
});

const BalanceRow = z.object({ currency: z.string().length(3), clearing: Money, merchant_payable: Money, fee_revenue: Money });
const TotalsSchema = z.object({ balances: z.array(BalanceRow) });
const MerchantSchema = z.object({ merchant_id: z.string().min(1), balances: z.array(BalanceRow) });

function balance(merchantId: string | undefined, row: z.infer<typeof BalanceRow>): LedgerBalance {
  return {
    merchant_id: merchantId,
    currency: row.currency,
    accounts: { merchant_payable: amountView(row.merchant_payable), fee_revenue: amountView(row.fee_revenue), clearing: amountView(row.clearing) },
  };
}

export class SettlementLedgerClient implements SettlementLedgerPort {
  readonly source = 'settlement API';

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async batches(merchantIds: readonly string[], limit: number): Promise<LedgerBatch[]> {
    const pages = await Promise.all(
      merchantIds.map(async (merchantId) => {
        const url = `${this.baseUrl}/v1/settlements/batches?merchant_id=${encodeURIComponent(merchantId)}&limit=${limit}`;
        const res = await callJson(this.source, url, { token: this.token }, this.fetchImpl);
        if (res.status !== 200) throw new IntegrationError(this.source, `listing batches answered ${res.status}${refusal(res.status)}`);
        return parseBody(this.source, BatchListSchema, res.body).items;
      }),
    );
    return pages
      .flat()
      .sort((a, b) => b.opened_at.localeCompare(a.opened_at) || a.batch_id.localeCompare(b.batch_id))
      .slice(0, limit)
      .map((b) => ({
        batch_id: b.batch_id,
        merchant_id: b.merchant_id,
        currency: b.currency,
        status: b.status,
        payments: b.payment_count,
        gross: amountView(b.gross),
        fees: amountView(b.fees),
        net: amountView(b.net),
        closed_at: b.closed_at,
      }));
  }

  async balances(merchantIds: readonly string[]): Promise<LedgerBalance[]> {
    const totals = await callJson(this.source, `${this.baseUrl}/v1/accounts`, { token: this.token }, this.fetchImpl);
    if (totals.status !== 200) throw new IntegrationError(this.source, `reading the ledger totals answered ${totals.status}${refusal(totals.status)}`);
    const perMerchant = await Promise.all(
      merchantIds.map(async (merchantId) => {
        const res = await callJson(this.source, `${this.baseUrl}/v1/accounts/${encodeURIComponent(merchantId)}`, { token: this.token }, this.fetchImpl);
        if (res.status === 404) return []; // seen paying, nothing posted yet
        if (res.status !== 200) throw new IntegrationError(this.source, `reading the accounts of ${merchantId} answered ${res.status}${refusal(res.status)}`);
        const body = parseBody(this.source, MerchantSchema, res.body);
        return body.balances.map((row) => balance(body.merchant_id, row));
      }),
    );
    return [...parseBody(this.source, TotalsSchema, totals.body).balances.map((row) => balance(undefined, row)), ...perMerchant.flat()];
  }
}

function refusal(status: number): string {
  return status === 401 ? ' (SETTLEMENT_API_TOKEN is not a client in SETTLEMENT_API_CLIENTS_FILE of settlement)' : '';
}
