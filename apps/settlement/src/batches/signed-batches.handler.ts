import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { SignedSettlementBatch, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent } from '@payrail/messaging';
import { RecordSignedBatchUseCase } from './record-signed-batch.use-case';

@Controller()
export class SignedBatchesHandler {
  constructor(private readonly recordSigned: RecordSignedBatchUseCase) {}

  @EventPattern(TOPICS.settlementBatches.name)
  async onSignedBatch(@Payload() event: ConsumedEvent<SignedSettlementBatch>): Promise<void> {
    await this.recordSigned.execute(event.data);
  }
}
