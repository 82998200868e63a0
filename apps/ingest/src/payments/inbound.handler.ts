import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InboundPayment, PaymentRejected, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { IdempotencyStore, bodyHash } from './idempotency.store';
import { PaymentRefusal, SubmitPaymentResult, SubmitPaymentUseCase } from './submit-payment.use-case';

/**
 * Upstreams may publish signed payments to the inbound topic instead of POSTing them: the same checks apply, and a
 * refusal goes to the rejections topic with the reason and the upstream's reference (never silently dropped).
 */
@Controller()
export class InboundPaymentsHandler {
  constructor(
    private readonly submitPayment: SubmitPaymentUseCase,
    private readonly runtime: MessagingRuntime,
    private readonly idempotency: IdempotencyStore,
  ) {}

  @EventPattern(TOPICS.paymentsInbound.name)
  async onInboundPayment(@Payload() event: ConsumedEvent<InboundPayment>): Promise<void> {
    const { jws, idempotency_key: idempotencyKey } = event.data;
    const auth = await this.submitPayment.authenticate(jws);
    if (!auth.ok) return this.reject(auth.result, idempotencyKey, event.envelope.id);
    const upstreamId = auth.value.upstream.id;
    // Redelivery of this very message: the idempotency key defaults to the message's event id.
    const key = idempotencyKey ?? `kafka:${event.envelope.id}`;
    const outcome = await this.idempotency.runOnce(upstreamId, key, bodyHash(jws), async () => {
      const result: SubmitPaymentResult = await this.submitPayment.accept(auth.value, event.envelope.traceparent);
      if (result.kind === 'REJECTED') await this.reject(result, idempotencyKey, event.envelope.id);
      return { status: result.kind === 'ACCEPTED' ? 202 : 400, headers: {}, body: result.kind };
    });
    if (outcome.kind === 'CONFLICT') {
      return this.reject({ kind: 'REJECTED', reason: 'idempotency_conflict', detail: 'idempotency key reused with a different payment', upstreamId }, idempotencyKey, event.envelope.id);
    }
    if (outcome.kind === 'IN_PROGRESS') throw new Error('idempotency key held by a concurrent request; retrying');
    // FRESH: accepted (or rejected) and published now; REPLAY: already done by an earlier delivery
  }

  private async reject(result: PaymentRefusal, idempotencyKey: string | undefined, eventId: string): Promise<void> {
    const rejection: PaymentRejected = {
      upstream_id: result.upstreamId,
      upstream_reference: result.upstreamReference,
      idempotency_key: idempotencyKey,
      reason: result.reason,
      detail: result.detail,
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
