// SettlementLedgerPort over settlement's HTTP API (SETTLEMENT_URL, optional bearer SETTLEMENT_TOKEN[_FILE]):
//   GET {SETTLEMENT_URL}/v1/settlements/batches?limit=N
//       200 {"batches":[{"batch_id","merchant_id","currency","status","payment_count","gross","fees","net","closed_at"?,"kid"?}]}
//   GET {SETTLEMENT_URL}/v1/accounts
//       200 {"accounts":[{"merchant_id","currency","balances":{"merchant_payable":{"minor","currency"},"fee_revenue":...,"clearing":...}}]}
// Amounts are {"minor": decimal string (balances may be negative), "currency"}.
import { z } from 'zod';
import { amountView } from '../flow/flow-statistics';
import { callJson, parseBody } from './http-json';
import { IntegrationError, LedgerBalance, LedgerBatch, SettlementLedgerPort } from './ports';

const Money = z.object({ minor: z.string().regex(/^-?[0-9]+$/), currency: z.string().length(3) });

const BatchesSchema = z.object({
  batches: z.array(
    z.object({
      batch_id: z.string().min(1),
      merchant_id: z.string().min(1),
      currency: z.string().length(3),
      status: z.string().min(1),
      payment_count: z.number().int().nonnegative(),
      gross: Money,
      fees: Money,
      net: Money,
      closed_at: z.string().optional(),
      kid: z.string().optional(),
    }),
  ),
});

const AccountsSchema = z.object({
  accounts: z.array(z.object({ merchant_id: z.string().min(1), currency: z.string().length(3), balances: z.record(z.string(), Money) })),
});

export class SettlementLedgerClient implements SettlementLedgerPort {
  readonly source = 'settlement API';

  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async batches(limit: number): Promise<LedgerBatch[]> {
    const res = await callJson(this.source, `${this.baseUrl}/v1/settlements/batches?limit=${limit}`, { token: this.token }, this.fetchImpl);
    if (res.status !== 200) throw new IntegrationError(this.source, `listing batches answered ${res.status}`);
    return parseBody(this.source, BatchesSchema, res.body).batches.map((b) => ({
      batch_id: b.batch_id,
      merchant_id: b.merchant_id,
      currency: b.currency,
      status: b.status,
      payments: b.payment_count,
      gross: amountView(b.gross),
      fees: amountView(b.fees),
      net: amountView(b.net),
      closed_at: b.closed_at,
      kid: b.kid,
    }));
  }

  async balances(): Promise<LedgerBalance[]> {
    const res = await callJson(this.source, `${this.baseUrl}/v1/accounts`, { token: this.token }, this.fetchImpl);
    if (res.status !== 200) throw new IntegrationError(this.source, `listing accounts answered ${res.status}`);
    return parseBody(this.source, AccountsSchema, res.body).accounts.map((a) => ({
      merchant_id: a.merchant_id,
      currency: a.currency,
      accounts: Object.fromEntries(Object.entries(a.balances).map(([name, m]) => [name, amountView(m)])),
    }));
  }
}
