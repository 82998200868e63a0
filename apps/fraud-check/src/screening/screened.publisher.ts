import { Injectable } from '@nestjs/common';
import { PaymentScreened, TOPICS } from '@payrail/contracts';
import { MessagingRuntime } from '@payrail/messaging-nest';

/**
 * Publishes decisions on the screened topic keyed by merchant (settlement's ordering). Event ids are
 * deterministic: `<payment>:screened:auto` for the rule set's decision, `<payment>:screened:review` for an
 * analyst's decision on a REVIEW, so publishing either again is recognisable as the same event.
 */
@Injectable()
export class ScreenedPublisher {
  constructor(private readonly runtime: MessagingRuntime) {}

  publish(screened: PaymentScreened, trace: { traceparent?: string } = {}): Promise<void> {
    return this.runtime.producer.publish(TOPICS.paymentsScreened, screened, {
      key: screened.merchant_id,
      correlationId: screened.payment_id,
      eventId: `${screened.payment_id}:screened:${screened.review ? 'review' : 'auto'}`,
      subject: screened.payment_id,
      traceparent: trace.traceparent,
    });
  }
}
