import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { PaymentScreened, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent } from '@payrail/messaging';
import { PostPaymentUseCase } from './post-payment.use-case';

@Controller()
export class PostingHandler {
  constructor(private readonly postPayment: PostPaymentUseCase) {}

  @EventPattern(TOPICS.paymentsScreened.name)
  async onPaymentScreened(@Payload() event: ConsumedEvent<PaymentScreened>): Promise<void> {
    await this.postPayment.execute(event.data, { traceparent: event.envelope.traceparent });
  }
}
