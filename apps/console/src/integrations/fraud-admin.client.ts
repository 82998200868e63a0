// ReviewQueuePort over fraud-check's admin HTTP API (FRAUD_ADMIN_URL; docs/fraud-check-admin.openapi.yaml),
// authenticated with the console's own token (FRAUD_ADMIN_TOKEN[_FILE] here), whose line in fraud-check's
// FRAUD_OPERATORS_FILE grants exactly what the console needs: reviews:read, reviews:decide and act-for-operators
// (never blocklist:write or audit:read):
//   GET  {FRAUD_ADMIN_URL}/admin/v1/reviews?offset=N&limit=N   (oldest first; the console shows the newest page)
//        200 {"total","offset","reviews":[{"payment_id","merchant_id","amount":{"minor","currency"},"score","reasons":[{"rule","score"}],"screened_at",...}]}
//   POST {FRAUD_ADMIN_URL}/admin/v1/reviews/{payment_id}/decision   {"decision":"APPROVE"|"DECLINE","note"?}
//        X-Payrail-On-Behalf-Of: <console username>
//        200 {"outcome":"decided"|"already_decided",...}, 404 not (or no longer) in review, 409 decided the other way
// fraud-check records the decision, in its audit and in the decision it publishes, as "<console token id>:<username>"
// (console:a.smith): the person who clicked, vouched for by the console's token.
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

/** The header naming the person the console acts for (fraud-check accepts it from act-for-operators tokens only). */
export const ON_BEHALF_HEADER = 'x-payrail-on-behalf-of';

export class FraudAdminReviewQueue implements ReviewQueuePort {
  readonly source = 'fraud-check admin API';
  /** The queue's total at the previous call: where its last page probably still is. */
  private lastTotal = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /**
   * The newest `limit` pending reviews (fraud-check pages its queue oldest first: when it holds more, the last page
   * is asked for), so that a payment that just went to REVIEW is on the page, with the queue's total. The last page
   * is asked for where the previous call found it; only when the total has moved is it asked for again.
   */
  async pending(limit: number): Promise<{ total: number; reviews: PendingReview[] }> {
    const lastPage = (total: number): number => Math.max(0, total - limit);
    const guess = lastPage(this.lastTotal);
    let body = await this.page(guess, limit);
    if (guess !== lastPage(body.total)) body = await this.page(lastPage(body.total), limit);
    this.lastTotal = body.total;
    return {
      total: body.total,
      reviews: body.reviews.map((r) => ({ payment_id: r.payment_id, merchant_id: r.merchant_id, amount: amountView(r.amount), score: r.score, rules: r.reasons.map((x) => x.rule), screened_at: r.screened_at })),
    };
  }

  private async page(offset: number, limit: number): Promise<z.output<typeof PendingSchema>> {
    const res = await callJson(this.source, `${this.baseUrl}/admin/v1/reviews?offset=${offset}&limit=${limit}`, { token: this.token }, this.fetchImpl);
    if (res.status !== 200) throw new IntegrationError(this.source, `listing reviews answered ${res.status}${refusal(res.status)}`);
    return parseBody(this.source, PendingSchema, res.body);
  }

  async decide(command: ReviewDecisionCommand): Promise<ReviewDecisionOutcome> {
    const res = await callJson(
      this.source,
      `${this.baseUrl}/admin/v1/reviews/${encodeURIComponent(command.paymentId)}/decision`,
      {
        method: 'POST',
        token: this.token,
        body: { decision: command.decision, ...(command.note ? { note: command.note } : {}) },
        headers: { 'x-request-id': command.requestId, [ON_BEHALF_HEADER]: command.operator },
      },
      this.fetchImpl,
    );
    if (res.status === 404) return 'not_found';
    if (res.status === 409) return 'conflict';
    if (res.status !== 200) throw new IntegrationError(this.source, `deciding a review answered ${res.status}${refusal(res.status)}`);
    return parseBody(this.source, DecisionSchema, res.body).outcome;
  }
}

function refusal(status: number): string {
  if (status === 401) return ' (the console token is not in FRAUD_OPERATORS_FILE)';
  if (status === 403) return ' (the console token needs the scopes reviews:read, reviews:decide and act-for-operators in FRAUD_OPERATORS_FILE)';
  return '';
}
