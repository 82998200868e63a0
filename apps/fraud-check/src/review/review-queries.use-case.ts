import { Injectable } from '@nestjs/common';
import type { ReviewView } from '../admin/admin-api.schemas';
import { AdminCall } from '../admin/operator.guard';
import { RedisAuditLog } from '../audit/audit-log';
import { RedisReviewQueue, ReviewSummary } from './review-queue.store';

/** What analysts read: the pending queue (oldest first) and one review; each read audited. */
@Injectable()
export class ReviewQueriesUseCase {
  constructor(
    private readonly reviews: RedisReviewQueue,
    private readonly auditLog: RedisAuditLog,
  ) {}

  async pending(call: AdminCall, offset: number, limit: number): Promise<{ total: number; reviews: ReviewSummary[] }> {
    const page = await this.reviews.pending(offset, limit);
    await this.auditLog.record({ ...call.audit('pending'), outcome: 'ok' });
    return page;
  }

  async find(call: AdminCall, paymentId: string): Promise<ReviewView | undefined> {
    const record = await this.reviews.get(paymentId);
    await this.auditLog.record({ ...call.audit(paymentId), outcome: record ? 'ok' : 'not_found' });
    if (!record) return undefined;
    const review = record.final?.review;
    return {
      status: record.status,
      payment: record.summary,
      outcome: record.final && review && record.final.decision !== 'REVIEW' ? { decision: record.final.decision, analyst: review.analyst, decided_at: review.decided_at, note: review.note } : undefined,
    };
  }
}
