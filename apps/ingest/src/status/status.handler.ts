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
    await this.status.recordScreenedEvent(event.data);
  }

  @EventPattern(TOPICS.paymentsSettled.name)
  async onSettled(@Payload() event: ConsumedEvent<PaymentSettled>): Promise<void> {
    await this.status.recordSettledEvent(event.data);
  }
}
