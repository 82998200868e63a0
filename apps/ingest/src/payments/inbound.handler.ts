import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InboundPayment, PaymentRejected, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { rejectionReason } from './problems';
import { PaymentRefusal, SubmitPaymentUseCase } from './submit-payment.use-case';

/**
 * Upstreams may publish signed payments to the inbound topic instead of POSTing them: the same checks apply (no
 * rate limit: the consumer sets the pace), and a refusal goes to the rejections topic with the reason and the
 * upstream's reference (never silently dropped).
 */
@Controller()
export class InboundPaymentsHandler {
  constructor(
    private readonly submitPayment: SubmitPaymentUseCase,
    private readonly runtime: MessagingRuntime,
  ) {}

  @EventPattern(TOPICS.paymentsInbound.name)
  async onInboundPayment(@Payload() event: ConsumedEvent<InboundPayment>): Promise<void> {
    const { jws, idempotency_key: idempotencyKey } = event.data;
    // a redelivery of this very message is a duplicate: without the upstream's key, the event id is the key
    const result = await this.submitPayment.execute({
      submission: { form: 'compact', jws },
      channel: 'kafka',
      idempotencyKey: idempotencyKey ?? `kafka:${event.envelope.id}`,
      traceparent: event.envelope.traceparent,
    });
    if (result.kind === 'ACCEPTED') return;
    // still running elsewhere: fail the message so the consumer retries it
    if (result.problem === 'idempotency-in-progress') throw new Error('idempotency key held by a concurrent request; retrying');
    await this.reject(result, idempotencyKey, event.envelope.id);
  }

  private async reject(result: PaymentRefusal, idempotencyKey: string | undefined, eventId: string): Promise<void> {
    const rejection: PaymentRejected = {
      upstream_id: result.upstreamId,
      upstream_reference: result.upstreamReference,
      idempotency_key: idempotencyKey,
      reason: rejectionReason(result.problem),
      detail: result.errors?.length ? `${result.detail} (${result.errors.map((e) => e.pointer).join(', ')})` : result.detail,
      rejected_at: new Date().toISOString(),
      channel: 'kafka',
    };
    await this.runtime.producer.publish(TOPICS.paymentsRejected, rejection, {
      key: result.upstreamId ?? 'unknown',
      correlationId: result.upstreamReference ?? eventId,
      eventId: `${eventId}:rejected`,
    });
  }
}
