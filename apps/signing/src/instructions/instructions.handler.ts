import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { PaymentAccepted, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent, EventResult } from '@payrail/messaging';
import { SignInstructionUseCase } from './sign-instruction.use-case';

/** Accepted payments, a fetched partition batch at a time: verified, signed and published together (executeBatch). */
@Controller()
export class InstructionsHandler {
  constructor(private readonly signInstruction: SignInstructionUseCase) {}

  @EventPattern(TOPICS.paymentsAccepted.name, { batch: true })
  async onPaymentsAccepted(@Payload() events: ConsumedEvent<PaymentAccepted>[]): Promise<EventResult[]> {
    const results = await this.signInstruction.executeBatch(events.map((e) => ({ accepted: e.data, traceparent: e.envelope.traceparent })));
    return results.map((r): EventResult => ('error' in r ? { error: r.error } : 'ok'));
  }
}
