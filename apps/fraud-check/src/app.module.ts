import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { FraudMetrics, OperatorAccessMetrics, OperatorSurface } from '@payrail/messaging';
import { MessagingModule, MessagingRuntime } from '@payrail/messaging-nest';
import { ClientThrottle, loggerParams } from '@payrail/platform';
import { OperatorGuard } from './admin/operator.guard';
import { AuditController } from './audit/audit.controller';
import { BlocklistController } from './blocklist/blocklist.controller';
import { ManageBlocklistUseCase } from './blocklist/manage-blocklist.use-case';
import { FRAUD_CHECK_CONFIG, FraudCheckConfig } from './config';
import { FRAUD_STORE_PROVIDERS } from './fraud-stores';
import { DecideReviewUseCase } from './review/decide-review.use-case';
import { ReviewQueriesUseCase } from './review/review-queries.use-case';
import { ReviewsController } from './review/reviews.controller';
import { OperationsRecoveryService } from './recovery/operations-recovery.service';
import { RecoveryGate } from './recovery/recovery-gate';
import { RuleSetProvider } from './rules/ruleset.provider';
import { RulesController } from './rules/rules.controller';
import { PayrailSignatures } from './screening/payrail-signatures.provider';
import { ScreenPaymentUseCase } from './screening/screen-payment.use-case';
import { ScreenBatchUseCase } from './screening/screen-batch.use-case';
import { ScreenedPublisher } from './screening/screened.publisher';
import { DecisionSeals } from './screening/decision-seals';
import { ScreeningHandler } from './screening/screening.handler';

@Module({})
export class FraudCheckAppModule {
  static forRoot(config: FraudCheckConfig): DynamicModule {
    return {
      module: FraudCheckAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams('fraud-check', config.logLevel)),
        // decisions are latency-bound (each handler waits for its ack) and batch anyway while the previous send is in
        // flight (one at a time): a short linger saves its full length on every decision at low and medium load
        MessagingModule.forRoot({ service: 'fraud-check', kafka: config.kafka, redis: config.redis, producerLingerMs: 1 }),
      ],
      controllers: [ScreeningHandler, BlocklistController, ReviewsController, AuditController, RulesController],
      providers: [
        { provide: FRAUD_CHECK_CONFIG, useValue: config },
        ...FRAUD_STORE_PROVIDERS,
        RuleSetProvider,
        PayrailSignatures,
        { provide: DecisionSeals, useFactory: () => DecisionSeals.open(config.eventSealKeysFile) },
        ScreenedPublisher,
        { provide: FraudMetrics, useFactory: (runtime: MessagingRuntime) => new FraudMetrics(runtime.metrics.registry), inject: [MessagingRuntime] },
        { provide: OperatorAccessMetrics, useFactory: (runtime: MessagingRuntime) => new OperatorAccessMetrics(runtime.metrics.registry), inject: [MessagingRuntime] },
        // the admin API's failed-authentication throttle per client address, checked before any token is compared
        { provide: ClientThrottle, useFactory: (access: OperatorAccessMetrics) => new ClientThrottle<OperatorSurface>({ failures: config.authFailureThrottle }, access), inject: [OperatorAccessMetrics] },
        ScreenPaymentUseCase,
        ScreenBatchUseCase,
        ManageBlocklistUseCase,
        ReviewQueriesUseCase,
        DecideReviewUseCase,
        OperatorGuard,
        OperationsRecoveryService,
        // screening waits at this gate while Redis is restored after a loss
        { provide: RecoveryGate, inject: [OperationsRecoveryService], useFactory: (recovery: OperationsRecoveryService) => recovery.gate },
      ],
    };
  }
}
