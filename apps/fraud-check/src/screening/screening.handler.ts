import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { PaymentSigned, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent, EventResult } from '@payrail/messaging';
import { ScreenBatchUseCase } from './screen-batch.use-case';

/**
 * Signed payment instructions, a fetched partition batch at a time (in offset order): screened together
 * (screen-batch.ts), one result per event. A redelivery answers `duplicate`; an error is retried by the consumer
 * (with the later events of the same payer), then dead-lettered.
 */
@Controller()
export class ScreeningHandler {
  constructor(private readonly screenBatch: ScreenBatchUseCase) {}

  @EventPattern(TOPICS.paymentsSigned.name, { batch: true })
  async onPaymentsSigned(@Payload() events: ConsumedEvent<PaymentSigned>[]): Promise<EventResult[]> {
    const results = await this.screenBatch.execute(events.map((e) => ({ signed: e.data, key: e.key, traceparent: e.envelope.traceparent })));
    return results.map((r): EventResult => ('error' in r ? { error: r.error } : r.kind === 'DUPLICATE' ? 'duplicate' : 'ok'));
  }
}
