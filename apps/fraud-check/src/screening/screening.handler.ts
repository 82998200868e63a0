import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { PaymentSigned, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent } from '@payrail/messaging';
import { ScreenPaymentUseCase } from './screen-payment.use-case';

@Controller()
export class ScreeningHandler {
  constructor(private readonly screenPayment: ScreenPaymentUseCase) {}

  @EventPattern(TOPICS.paymentsSigned.name)
  async onPaymentSigned(@Payload() event: ConsumedEvent<PaymentSigned>): Promise<void> {
    await this.screenPayment.execute(event.data, { traceparent: event.envelope.traceparent });
  }
}
