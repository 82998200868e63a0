import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InboundPayment, PaymentRejected, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { INGEST_CONFIG, IngestConfig } from '../config';
import { IdempotencyStore, bodyHash } from './idempotency.store';
import { SubmitPaymentResult, SubmitPaymentUseCase } from './submit-payment.use-case';

/**
 * Upstreams may publish signed payments to the inbound topic instead of POSTing them: the same checks apply, and a
 * refusal goes to the rejections topic with the reason and the upstream's reference (never silently dropped).
 */
@Controller()
export class InboundPaymentsHandler {
  private readonly idempotency: IdempotencyStore;

  constructor(
    private readonly submitPayment: SubmitPaymentUseCase,
    private readonly runtime: MessagingRuntime,
    @Inject(INGEST_CONFIG) config: IngestConfig,
  ) {
    this.idempotency = new IdempotencyStore(runtime.redis, config.idempotencyTtlS);
  }

  @EventPattern(TOPICS.paymentsInbound.name)
  async onInboundPayment(@Payload() event: ConsumedEvent<InboundPayment>): Promise<void> {
    const { jws, idempotency_key: idempotencyKey } = event.data;
    const auth = await this.submitPayment.authenticate(jws);
    if (!auth.ok) return this.reject(auth.result, idempotencyKey, event.envelope.id);
    const upstreamId = auth.value.upstream.id;
    // Redelivery of this very message: the idempotency key defaults to the message's event id.
    const key = idempotencyKey ?? `kafka:${event.envelope.id}`;
    const hash = bodyHash(jws);
    const claim = await this.idempotency.claim(upstreamId, key, hash);
    if (claim.kind === 'REPLAY') return; // already accepted (or rejected) and published
    if (claim.kind === 'CONFLICT') {
      return this.reject({ kind: 'REJECTED', reason: 'idempotency_conflict', detail: 'idempotency key reused with a different payment', upstreamId }, idempotencyKey, event.envelope.id);
    }
    if (claim.kind === 'IN_PROGRESS') throw new Error('idempotency key held by a concurrent request; retrying');
    let result: SubmitPaymentResult;
    try {
      result = await this.submitPayment.accept(auth.value, event.envelope.traceparent);
    } catch (err) {
      await this.idempotency.release(upstreamId, key);
      throw err;
    }
    if (result.kind === 'REJECTED') await this.reject(result, idempotencyKey, event.envelope.id);
    await this.idempotency.complete(upstreamId, key, hash, { status: result.kind === 'ACCEPTED' ? 202 : 400, headers: {}, body: result.kind });
  }

  private async reject(result: SubmitPaymentResult, idempotencyKey: string | undefined, eventId: string): Promise<void> {
    if (result.kind !== 'REJECTED') return;
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
