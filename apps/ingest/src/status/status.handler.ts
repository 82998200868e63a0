import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { PaymentScreened, PaymentSettled, PaymentSigned, TOPICS, TopicContract } from '@payrail/contracts';
import type { SealCheck } from '@payrail/crypto';
import { type ConsumedEvent, refuseForgedEvent } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { PaymentStatusStore } from './payment-status.store';
import { StatusEvidence } from './status-evidence';

/**
 * Keeps the status read model in step with the downstream stages (idempotent writes: redelivery is harmless). Only
 * what its producer made changes what an upstream is told: anything else is dead-lettered with a security alert.
 */
@Controller()
export class PaymentStatusHandler {
  constructor(
    private readonly status: PaymentStatusStore,
    private readonly evidence: StatusEvidence,
    private readonly runtime: MessagingRuntime,
  ) {}

  @EventPattern(TOPICS.paymentsSigned.name)
  async onSigned(@Payload() event: ConsumedEvent<PaymentSigned>): Promise<void> {
    await this.refuseUnless(await this.evidence.checkSigned(event.data), TOPICS.paymentsSigned, event.data.payment_id);
    await this.status.recordSigned(event.data.payment_id, event.envelope.time);
  }

  @EventPattern(TOPICS.paymentsScreened.name)
  async onScreened(@Payload() event: ConsumedEvent<PaymentScreened>): Promise<void> {
    await this.refuseUnless(await this.evidence.checkScreened(event.data), TOPICS.paymentsScreened, event.data.payment_id);
    await this.status.recordScreenedEvent(event.data);
  }

  @EventPattern(TOPICS.paymentsSettled.name)
  async onSettled(@Payload() event: ConsumedEvent<PaymentSettled>): Promise<void> {
    await this.refuseUnless(await this.evidence.checkSettled(event.data), TOPICS.paymentsSettled, event.data.payment_id);
    await this.status.recordSettledEvent(event.data);
  }

  private async refuseUnless(check: SealCheck, topic: TopicContract, paymentId: string): Promise<void> {
    if (check.ok) return;
    await refuseForgedEvent(this.runtime.producer, { service: 'ingest', topic: topic.name, subject: paymentId, paymentId, reason: check.reason, kid: check.kid });
  }
}
