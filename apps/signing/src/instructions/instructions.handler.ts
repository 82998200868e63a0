import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { PaymentAccepted, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent } from '@payrail/messaging';
import { SignInstructionUseCase } from './sign-instruction.use-case';

@Controller()
export class InstructionsHandler {
  constructor(private readonly signInstruction: SignInstructionUseCase) {}

  @EventPattern(TOPICS.paymentsAccepted.name)
  async onPaymentAccepted(@Payload() event: ConsumedEvent<PaymentAccepted>): Promise<void> {
    await this.signInstruction.execute(event.data, { traceparent: event.envelope.traceparent });
  }
}
