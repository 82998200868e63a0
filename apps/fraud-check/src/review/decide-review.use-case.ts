// An analyst's decision on a payment in REVIEW: recorded once (with its audit entry, in one script), then the
// payment continues as a new screened event carrying the analyst's decision (`review`), which settlement posts
// when it is APPROVE. Deciding again with the same decision is a no-op that publishes the same event again
// (healing a crash between recording and publishing); the other decision is refused.
import { Injectable } from '@nestjs/common';
import { PaymentScreened } from '@payrail/contracts';
import { AdminCall } from '../admin/operator.guard';
import { RedisAuditLog } from '../audit/audit-log';
import { FraudEngine } from '../engine/fraud-engine';
import { decodeInstructionPayload } from '../screening/instruction-payload';
import { ScreenedPublisher } from '../screening/screened.publisher';
import { RedisReviewQueue } from './review-queue.store';

export interface ReviewDecisionCommand {
  paymentId: string;
  decision: 'APPROVE' | 'DECLINE';
  note?: string;
}

export type ReviewDecisionResult =
  | { kind: 'DECIDED' | 'ALREADY_DECIDED'; screened: PaymentScreened }
  | { kind: 'CONFLICT'; screened: PaymentScreened }
  | { kind: 'NOT_FOUND' };

@Injectable()
export class DecideReviewUseCase {
  constructor(
    private readonly reviews: RedisReviewQueue,
    private readonly publisher: ScreenedPublisher,
    private readonly engine: FraudEngine,
    private readonly auditLog: RedisAuditLog,
  ) {}

  async execute(call: AdminCall, command: ReviewDecisionCommand): Promise<ReviewDecisionResult> {
    const audit = call.audit(command.paymentId, `${command.decision}${command.note ? `: ${command.note}` : ''}`);
    const record = await this.reviews.get(command.paymentId);
    if (!record) {
      await this.auditLog.record({ ...audit, outcome: 'not_found' });
      return { kind: 'NOT_FOUND' };
    }
    const final: PaymentScreened = {
      ...record.screened,
      decision: command.decision,
      // the analyst's decision is when the payment continues (settlement batches it by this time)
      screened_at: call.at,
      review: { analyst: call.operator.id, decided_at: call.at, note: command.note },
    };
    const outcome = await this.reviews.decide(command.paymentId, command.decision, final, audit);
    await this.auditLog.recorded({ ...audit, outcome });
    if (outcome === 'not_found') return { kind: 'NOT_FOUND' };
    const recorded = outcome === 'decided' ? final : ((await this.reviews.get(command.paymentId))?.final ?? final);
    if (outcome === 'conflict') return { kind: 'CONFLICT', screened: recorded };
    const instruction = decodeInstructionPayload(recorded.instruction_jws);
    if (instruction) await this.engine.decided(instruction, recorded.decision);
    await this.publisher.publish(recorded);
    return { kind: outcome === 'decided' ? 'DECIDED' : 'ALREADY_DECIDED', screened: recorded };
  }
}
