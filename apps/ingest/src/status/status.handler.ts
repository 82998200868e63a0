import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS } from '@payrail/contracts';
import { type ConsumedEvent, type EventResult, refuseForgedEvent } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { PaymentStatusStore } from './payment-status.store';
import { StatusEvidence } from './status-evidence';
import { ApplyStatusBatch } from './status-batch.use-case';

/**
 * Keeps the status read model in step with the downstream stages, a consumed batch at a time (ApplyStatusBatch:
 * every signature and seal of the batch verified, one Redis pipeline of idempotent writes, per-payment order kept).
 * Only what its producer made changes what an upstream is told: anything else is dead-lettered with a security alert.
 */
@Controller()
export class PaymentStatusHandler {
  private readonly apply: ApplyStatusBatch;

  constructor(status: PaymentStatusStore, evidence: StatusEvidence, runtime: MessagingRuntime) {
    this.apply = new ApplyStatusBatch(evidence, status, ({ topic, paymentId, check }) =>
      refuseForgedEvent(runtime.producer, { service: 'ingest', topic: topic.name, subject: paymentId, paymentId, reason: check.reason, kid: check.kid }),
    );
  }

  @EventPattern(TOPICS.paymentsSigned.name, { batch: true })
  onSigned(@Payload() events: ConsumedEvent[]): Promise<EventResult[]> {
    return this.apply.execute(events);
  }

  @EventPattern(TOPICS.paymentsScreened.name, { batch: true })
  onScreened(@Payload() events: ConsumedEvent[]): Promise<EventResult[]> {
    return this.apply.execute(events);
  }

  @EventPattern(TOPICS.paymentsSettled.name, { batch: true })
  onSettled(@Payload() events: ConsumedEvent[]): Promise<EventResult[]> {
    return this.apply.execute(events);
  }
}
