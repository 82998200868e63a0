import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { MessagingModule } from '@payrail/messaging-nest';
import { loggerParams } from '@payrail/platform';
import { SIGNING_CONFIG, SigningConfig } from './config';
import { SigningKeyRing } from './keys/signing-key-ring';
import { SigningKeysLifecycle } from './keys/signing-keys.provider';
import { JwksController } from './keys/jwks.controller';
import { InstructionsHandler } from './instructions/instructions.handler';
import { SignInstructionUseCase } from './instructions/sign-instruction.use-case';
import { ReportsHandler } from './reports/reports.handler';
import { SignReportUseCase } from './reports/sign-report.use-case';
import { SIGNING_PRODUCER_LINGER_MS } from './consumers';
import { HandOffSeals } from './seals/hand-off-seals';

@Module({})
export class SigningAppModule {
  /** `keys` and `seals` were opened and checked before Nest started (a bad key file stops the process with exit code 78). */
  static forRoot(config: SigningConfig, keys: SigningKeyRing, seals: HandOffSeals): DynamicModule {
    return {
      module: SigningAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams('signing', config.logLevel)),
        // signing keeps no state: no Redis (redelivered payments are re-signed; fraud-check de-duplicates)
        MessagingModule.forRoot({ service: 'signing', kafka: config.kafka, producerLingerMs: SIGNING_PRODUCER_LINGER_MS }),
      ],
      controllers: [JwksController, InstructionsHandler, ReportsHandler],
      providers: [
        { provide: SIGNING_CONFIG, useValue: config },
        { provide: SigningKeyRing, useValue: keys },
        { provide: HandOffSeals, useValue: seals },
        SigningKeysLifecycle,
        SignInstructionUseCase,
        SignReportUseCase,
      ],
    };
  }
}
