// An operator approves or declines a payment fraud-check put in REVIEW. Viewers may not; every attempt, allowed or
// not, is audited with its outcome. fraud-check publishes the final decision, which settlement then acts on.
import { Inject, Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { Operator, mayAct } from '../auth/operator-directory';
import { CONSOLE_INTEGRATIONS, ConsoleIntegrations, IntegrationError, ReviewDecision } from '../integrations/ports';

export interface DecideReviewCommand {
  readonly operator: Operator;
  readonly paymentId: string;
  readonly decision: ReviewDecision;
  readonly note?: string;
  readonly requestId: string;
}

export type DecideReviewResult =
  | { kind: 'DECIDED' }
  | { kind: 'ALREADY_DECIDED' }
  | { kind: 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE' | 'FAILED'; detail: string };

@Injectable()
export class DecideReviewUseCase {
  constructor(
    private readonly audit: AuditTrail,
    @Inject(CONSOLE_INTEGRATIONS) private readonly integrations: ConsoleIntegrations,
  ) {}

  async execute(command: DecideReviewCommand): Promise<DecideReviewResult> {
    const result = await this.decide(command);
    await this.audit.record({
      request_id: command.requestId,
      at: new Date().toISOString(),
      operator: command.operator.username,
      role: command.operator.role,
      action: command.decision === 'APPROVE' ? 'review.approve' : 'review.decline',
      target: command.paymentId,
      outcome: result.kind.toLowerCase(),
      detail: 'detail' in result ? result.detail : command.note,
    });
    return result;
  }

  private async decide(command: DecideReviewCommand): Promise<DecideReviewResult> {
    if (!mayAct(command.operator.role)) return { kind: 'FORBIDDEN', detail: `${command.operator.role}s cannot decide reviews` };
    const reviews = this.integrations.reviews;
    if (!reviews) return { kind: 'UNAVAILABLE', detail: 'REVIEW decisions need FRAUD_ADMIN_URL and FRAUD_ADMIN_TOKEN' };
    try {
      const outcome = await reviews.decide({ paymentId: command.paymentId, decision: command.decision, operator: command.operator.username, note: command.note, requestId: command.requestId });
      switch (outcome) {
        case 'decided':
          return { kind: 'DECIDED' };
        case 'already_decided':
          return { kind: 'ALREADY_DECIDED' };
        case 'conflict':
          return { kind: 'CONFLICT', detail: 'this payment was already decided the other way' };
        case 'not_found':
          return { kind: 'NOT_FOUND', detail: 'no payment in REVIEW with this id' };
      }
    } catch (err) {
      if (err instanceof IntegrationError) return { kind: 'FAILED', detail: err.message };
      throw err;
    }
  }
}
