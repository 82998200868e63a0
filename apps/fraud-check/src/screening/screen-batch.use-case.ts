// The NestJS side of batch screening (screen-batch.ts): the service's ports wired into ScreenBatch. The per-payment
// ScreenPaymentUseCase stays for what is screened one by one (invalid signatures, a payment id repeated within a
// batch) and for the decision restore's callers.
import { Injectable } from '@nestjs/common';
import { FraudMetrics } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { RecoveryGate } from '../recovery/recovery-gate';
import { RuleSetProvider } from '../rules/ruleset.provider';
import { RedisVelocityStore } from '../velocity/redis-velocity.store';
import { PayrailSignatures, verifiedInstruction } from './payrail-signatures.provider';
import { RedisScreeningBatchStore } from './redis-screening-batch.store';
import { ScreenBatch, ScreeningBatchItem, ScreeningBatchResult } from './screen-batch';
import { ScreenPaymentUseCase } from './screen-payment.use-case';
import { ScreenedPublisher } from './screened.publisher';

@Injectable()
export class ScreenBatchUseCase {
  private readonly batch: ScreenBatch;

  constructor(signatures: PayrailSignatures, rules: RuleSetProvider, velocity: RedisVelocityStore, publisher: ScreenedPublisher, runtime: MessagingRuntime, metrics: FraudMetrics, recovery: RecoveryGate, one: ScreenPaymentUseCase) {
    this.batch = new ScreenBatch({
      store: new RedisScreeningBatchStore(runtime.redis, velocity),
      ruleset: () => rules.current(),
      verify: (signed) => verifiedInstruction(signatures, signed),
      ready: () => recovery.ready(),
      intact: () => recovery.intact(),
      publish: (screened, trace) => publisher.publish(screened, trace),
      screenOne: (signed, trace) => one.execute(signed, trace),
      decided: (screened) => metrics.decided(screened.decision, screened.reasons.map((r) => r.rule)),
    });
  }

  /** One result per item, same order (screen-batch.ts). */
  execute(items: readonly ScreeningBatchItem[]): Promise<ScreeningBatchResult[]> {
    return this.batch.screen(items);
  }
}
