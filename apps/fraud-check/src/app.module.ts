import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { MessagingModule } from '@payrail/messaging-nest';
import { loggerParams } from '@payrail/platform';
import { FRAUD_CHECK_CONFIG, FraudCheckConfig } from './config';
import { RuleSetProvider } from './rules/ruleset.provider';
import { PayrailSignatures } from './screening/payrail-signatures.provider';
import { ScreenPaymentUseCase } from './screening/screen-payment.use-case';
import { ScreeningHandler } from './screening/screening.handler';

@Module({})
export class FraudCheckAppModule {
  static forRoot(config: FraudCheckConfig): DynamicModule {
    return {
      module: FraudCheckAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams('fraud-check', config.logLevel)),
        MessagingModule.forRoot({ service: 'fraud-check', kafka: config.kafka, redis: config.redis }),
      ],
      controllers: [ScreeningHandler],
      providers: [{ provide: FRAUD_CHECK_CONFIG, useValue: config }, RuleSetProvider, PayrailSignatures, ScreenPaymentUseCase],
    };
  }
}
