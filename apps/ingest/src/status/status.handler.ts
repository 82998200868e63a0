import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { PaymentScreened, PaymentSettled, PaymentSigned, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent } from '@payrail/messaging';
import { PaymentStatusStore } from './payment-status.store';

/** Keeps the status read model in step with the downstream stages (idempotent writes: redelivery is harmless). */
@Controller()
export class PaymentStatusHandler {
  constructor(private readonly status: PaymentStatusStore) {}

  @EventPattern(TOPICS.paymentsSigned.name)
  async onSigned(@Payload() event: ConsumedEvent<PaymentSigned>): Promise<void> {
    await this.status.recordSigned(event.data.payment_id, event.envelope.time);
  }

  @EventPattern(TOPICS.paymentsScreened.name)
  async onScreened(@Payload() event: ConsumedEvent<PaymentScreened>): Promise<void> {
    const d = event.data;
    await this.status.recordScreened(d.payment_id, d.review?.decided_at ?? d.screened_at, {
      outcome: d.decision,
      score: d.score,
      reasons: d.reasons,
      ruleset_version: d.ruleset_version,
      review: d.review,
    });
  }

  @EventPattern(TOPICS.paymentsSettled.name)
  async onSettled(@Payload() event: ConsumedEvent<PaymentSettled>): Promise<void> {
    const d = event.data;
    await this.status.recordSettled(d.payment_id, d.posted_at, { batch_id: d.batch_id, fee: d.fee, net: d.net });
  }
}
