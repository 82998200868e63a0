import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { OperatorAccessMetrics, OperatorSurface, SettlementMetrics } from '@payrail/messaging';
import { MessagingModule, MessagingRuntime } from '@payrail/messaging-nest';
import { ClientThrottle, loggerParams } from '@payrail/platform';
import { AccountsController } from './accounts/accounts.controller';
import { BatchCloser } from './batches/batch-closer.service';
import { CloseBatchesUseCase } from './batches/close-batches.use-case';
import { RecordSignedBatchUseCase } from './batches/record-signed-batch.use-case';
import { SettlementQueries } from './batches/settlement-queries';
import { SettlementsController } from './batches/settlements.controller';
import { SignedBatchesHandler } from './batches/signed-batches.handler';
import { SETTLEMENT_CONFIG, SettlementConfig } from './config';
import { OperatorAuthGuard } from './http/operator-auth.guard';
import { InvariantMonitor } from './invariants/invariant-monitor.service';
import { Ledger } from './ledger/ledger.provider';
import { PayrailSignatures } from './posting/payrail-signatures.provider';
import { SettlementSeals } from './posting/settlement-seals';
import { postScreenedBatchProvider } from './posting/posting.providers';
import { PostingHandler } from './posting/posting.handler';

@Module({})
export class SettlementAppModule {
  static forRoot(config: SettlementConfig): DynamicModule {
    return {
      module: SettlementAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams('settlement', config.logLevel)),
        MessagingModule.forRoot({ service: 'settlement', kafka: config.kafka, redis: config.redis }),
      ],
      controllers: [PostingHandler, SignedBatchesHandler, SettlementsController, AccountsController],
      providers: [
        { provide: SETTLEMENT_CONFIG, useValue: config },
        Ledger,
        { provide: SettlementMetrics, useFactory: (runtime: MessagingRuntime) => new SettlementMetrics(runtime.metrics.registry), inject: [MessagingRuntime] },
        { provide: OperatorAccessMetrics, useFactory: (runtime: MessagingRuntime) => new OperatorAccessMetrics(runtime.metrics.registry), inject: [MessagingRuntime] },
        // the operators API's failed-authentication throttle per client address, checked before any token is compared
        { provide: ClientThrottle, useFactory: (access: OperatorAccessMetrics) => new ClientThrottle<OperatorSurface>({ failures: config.authFailureThrottle }, access), inject: [OperatorAccessMetrics] },
        PayrailSignatures,
        { provide: SettlementSeals, useFactory: () => SettlementSeals.open(config.seals) },
        postScreenedBatchProvider,
        CloseBatchesUseCase,
        BatchCloser,
        RecordSignedBatchUseCase,
        SettlementQueries,
        InvariantMonitor,
        OperatorAuthGuard,
      ],
    };
  }
}
