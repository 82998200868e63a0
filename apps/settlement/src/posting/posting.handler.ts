import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { PaymentScreened, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent, EventResult } from '@payrail/messaging';
import { PostScreenedBatchUseCase } from './post-screened-batch.use-case';

@Controller()
export class PostingHandler {
  constructor(private readonly postBatch: PostScreenedBatchUseCase) {}

  /** A fetched partition batch of screened payments at once: one script per merchant, one produce for the settled. */
  @EventPattern(TOPICS.paymentsScreened.name, { batch: true })
  async onPaymentsScreened(@Payload() events: ConsumedEvent<PaymentScreened>[]): Promise<readonly EventResult[]> {
    return this.postBatch.execute(events);
  }
}
