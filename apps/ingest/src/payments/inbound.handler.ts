import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Counter } from 'prom-client';
import { InboundPayment, PaymentRejected, TOPICS } from '@payrail/contracts';
import { PermanentError, type ConsumedEvent } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { rejectionReason } from './problems';
import { PaymentRefusal } from './submit-payment.use-case';
import { INBOUND_REFUSALS, InboundRefusal, ReceiveInboundPaymentUseCase } from './inbound-payment.use-case';

/** Inbound messages refused before their signature was looked at, by reason (bounded: INBOUND_REFUSALS). */
export const INBOUND_REFUSED_METRIC = 'payrail_ingest_inbound_refused_total';

/**
 * A refused inbound message goes to ingest's dead-letter topic (its value sealed, as every dead letter of the inbound
 * topic): the message starts with the reason, so `payrail dlq list --reason inbound_not_encrypted` finds them.
 */
export class InboundPaymentRefusedError extends PermanentError {
  override readonly name = 'InboundPaymentRefusedError';
  constructor(refusal: InboundRefusal) {
    super(`${refusal.reason}: ${refusal.detail}`, refusal.reason);
  }
}

/**
 * Upstreams may publish signed payments, encrypted to Payrail, to the inbound topic instead of POSTing them: the
 * same checks apply (no rate limit: the consumer sets the pace), and a refusal of the payment goes to the rejections
 * topic with the reason and the upstream's reference (never silently dropped). A message that is not encrypted, or
 * does not decrypt, names no upstream anyone can trust: it is dead-lettered with the reason and counted.
 */
@Controller()
export class InboundPaymentsHandler {
  private readonly refused: Counter<'reason'>;

  constructor(
    private readonly receiveInbound: ReceiveInboundPaymentUseCase,
    private readonly runtime: MessagingRuntime,
  ) {
    this.refused = new Counter({
      name: INBOUND_REFUSED_METRIC,
      help: `Inbound-topic messages dead-lettered before their signature was checked, by reason (${INBOUND_REFUSALS.join(', ')}).`,
      labelNames: ['reason'],
      registers: [runtime.metrics.registry],
    });
    for (const reason of INBOUND_REFUSALS) this.refused.inc({ reason }, 0);
  }

  @EventPattern(TOPICS.paymentsInbound.name)
  async onInboundPayment(@Payload() event: ConsumedEvent<InboundPayment>): Promise<void> {
    const { idempotency_key: idempotencyKey } = event.data;
    // a redelivery of this very message is a duplicate: without the upstream's key, the event id is the key
    const received = await this.receiveInbound.execute({ message: event.data, eventId: event.envelope.id, traceparent: event.envelope.traceparent });
    if (received.kind === 'REFUSED') {
      this.refused.inc({ reason: received.reason });
      throw new InboundPaymentRefusedError(received);
    }
    const result = received.result;
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
