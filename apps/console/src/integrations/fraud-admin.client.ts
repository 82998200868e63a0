// ReviewQueuePort over fraud-check's admin HTTP API (FRAUD_ADMIN_URL), authenticated with the console's own
// operator token (role "write"; FRAUD_ADMIN_TOKEN[_FILE]). The person who decided travels as the analyst:
//   GET  {FRAUD_ADMIN_URL}/v1/admin/reviews?limit=N
//        200 {"total": n, "reviews": [{"payment_id","merchant_id","amount":{"minor","currency"},"score","reasons":[{"rule"}],"screened_at"}]}
//   POST {FRAUD_ADMIN_URL}/v1/admin/reviews/{payment_id}/decision   {"decision":"APPROVE"|"DECLINE","note"?}
//        headers X-Request-Id (de-duplication), X-Payrail-On-Behalf-Of (the analyst)
//        200 {"outcome":"decided"|"already_decided"}, 404 not found, 409 decided the other way
import { z } from 'zod';
import { amountView } from '../flow/flow-statistics';
import { callJson, parseBody } from './http-json';
import { IntegrationError, PendingReview, ReviewDecisionCommand, ReviewDecisionOutcome, ReviewQueuePort } from './ports';

const Money = z.object({ minor: z.string().regex(/^[0-9]+$/), currency: z.string().length(3) });

const PendingSchema = z.object({
  total: z.number().int().nonnegative(),
  reviews: z.array(
    z.object({
      payment_id: z.string().min(1),
      merchant_id: z.string().min(1),
      amount: Money,
      score: z.number(),
      reasons: z.array(z.object({ rule: z.string() })),
      screened_at: z.string(),
    }),
  ),
});

const DecisionSchema = z.object({ outcome: z.enum(['decided', 'already_decided']) });

export class FraudAdminReviewQueue implements ReviewQueuePort {
  readonly source = 'fraud-check admin API';

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async pending(limit: number): Promise<{ total: number; reviews: PendingReview[] }> {
    const res = await callJson(this.source, `${this.baseUrl}/v1/admin/reviews?limit=${limit}`, { token: this.token }, this.fetchImpl);
    if (res.status !== 200) throw new IntegrationError(this.source, `listing reviews answered ${res.status}`);
    const body = parseBody(this.source, PendingSchema, res.body);
    return {
      total: body.total,
      reviews: body.reviews.map((r) => ({ payment_id: r.payment_id, merchant_id: r.merchant_id, amount: amountView(r.amount), score: r.score, rules: r.reasons.map((x) => x.rule), screened_at: r.screened_at })),
    };
  }

  async decide(command: ReviewDecisionCommand): Promise<ReviewDecisionOutcome> {
    const res = await callJson(
      this.source,
      `${this.baseUrl}/v1/admin/reviews/${encodeURIComponent(command.paymentId)}/decision`,
      {
        method: 'POST',
        token: this.token,
        body: { decision: command.decision, ...(command.note ? { note: command.note } : {}) },
        headers: { 'x-request-id': command.requestId, 'x-payrail-on-behalf-of': command.operator },
      },
      this.fetchImpl,
    );
    if (res.status === 404) return 'not_found';
    if (res.status === 409) return 'conflict';
    if (res.status !== 200) throw new IntegrationError(this.source, `deciding a review answered ${res.status}`);
    return parseBody(this.source, DecisionSchema, res.body).outcome;
  }
}
