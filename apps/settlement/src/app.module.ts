import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { MessagingModule } from '@payrail/messaging-nest';
import { loggerParams } from '@payrail/platform';
import { SETTLEMENT_CONFIG, SettlementConfig } from './config';
import { PayrailSignatures } from './posting/payrail-signatures.provider';
import { PostPaymentUseCase } from './posting/post-payment.use-case';
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
      controllers: [PostingHandler],
      providers: [{ provide: SETTLEMENT_CONFIG, useValue: config }, PayrailSignatures, PostPaymentUseCase],
    };
  }
}
