import { Injectable } from '@nestjs/common';
import { PaymentScreened, TOPICS } from '@payrail/contracts';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { DecisionSeals } from './decision-seals';

/**
 * Publishes decisions on the screened topic keyed by merchant (settlement's ordering). Event ids are
 * deterministic: `<payment>:screened:auto` for the rule set's decision, `<payment>:screened:review` for an
 * analyst's decision on a REVIEW, so publishing either again is recognisable as the same event. Every decision is
 * sealed as it is published (one signature): the stored record holds no seal, so a decision published again from it
 * (a redelivery, an analyst's decision on the stored REVIEW) is sealed over exactly what goes out.
 */
@Injectable()
export class ScreenedPublisher {
  constructor(
    private readonly runtime: MessagingRuntime,
    private readonly seals: DecisionSeals,
  ) {}

  publish(screened: PaymentScreened, trace: { traceparent?: string } = {}): Promise<void> {
    // sealed over the event as the contract reads it (what settlement verifies)
    return this.runtime.producer.publish(TOPICS.paymentsScreened, this.seals.seal(TOPICS.paymentsScreened.schema.parse(screened)), {
      key: screened.merchant_id,
      correlationId: screened.payment_id,
      eventId: `${screened.payment_id}:screened:${screened.review ? 'review' : 'auto'}`,
      subject: screened.payment_id,
      traceparent: trace.traceparent,
    });
  }
}
