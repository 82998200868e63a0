import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { MessagingModule } from '@payrail/messaging-nest';
import { loggerParams } from '@payrail/platform';
import { SIGNING_CONFIG, SigningConfig } from './config';
import { SigningKeys } from './keys/signing-keys.provider';
import { JwksController } from './keys/jwks.controller';
import { InstructionsHandler } from './instructions/instructions.handler';
import { SignInstructionUseCase } from './instructions/sign-instruction.use-case';
import { ReportsHandler } from './reports/reports.handler';
import { SignReportUseCase } from './reports/sign-report.use-case';

@Module({})
export class SigningAppModule {
  static forRoot(config: SigningConfig): DynamicModule {
    return {
      module: SigningAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams('signing', config.logLevel)),
        // signing keeps no state: no Redis (redelivered payments are re-signed; fraud-check de-duplicates)
        MessagingModule.forRoot({ service: 'signing', kafka: config.kafka }),
      ],
      controllers: [JwksController, InstructionsHandler, ReportsHandler],
      providers: [
        { provide: SIGNING_CONFIG, useValue: config },
        SigningKeys,
        SignInstructionUseCase,
        SignReportUseCase,
      ],
    };
  }
}
