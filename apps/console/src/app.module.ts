import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { loggerParams } from '@payrail/platform';
import { METRICS_EXPOSITION, MetricsController } from '@payrail/messaging-nest';
import { ActionsController } from './actions/actions.controller';
import { DecideReviewUseCase } from './actions/decide-review.use-case';
import { ReplayDeadLetterUseCase } from './actions/replay-dead-letter.use-case';
import { OperatorAuditJournal } from '@payrail/messaging';
import { AuditRecovery } from './audit/audit-recovery.service';
import { AuditTrail } from './audit/audit-trail';
import { ConsoleAuth } from './auth/console-auth.service';
import { SessionController } from './auth/session.controller';
import { SessionGuard } from './auth/session.guard';
import { CONSOLE_CONFIG, ConsoleConfig } from './config';
import { ConsoleRuntime } from './console.runtime';
import { HealthController } from './health/health.controller';
import { consoleIntegrations } from './integrations/integrations';
import { CONSOLE_INTEGRATIONS } from './integrations/ports';
import { ConsoleState } from './live/console-state.service';
import { StreamController } from './live/stream.controller';
import { PageController } from './web/page.controller';

@Module({})
export class ConsoleAppModule {
  static forRoot(config: ConsoleConfig): DynamicModule {
    return {
      module: ConsoleAppModule,
      imports: [LoggerModule.forRoot(loggerParams('console', config.logLevel))],
      controllers: [HealthController, MetricsController, PageController, SessionController, StreamController, ActionsController],
      providers: [
        { provide: CONSOLE_CONFIG, useValue: config },
        ConsoleRuntime,
        // GET /metrics: refused sign-ins and actions (payrail_operator_access_refused_total), the audit producer, the process
        { provide: METRICS_EXPOSITION, inject: [ConsoleRuntime], useFactory: (runtime: ConsoleRuntime) => runtime.metrics },
        { provide: CONSOLE_INTEGRATIONS, inject: [ConsoleRuntime], useFactory: (runtime: ConsoleRuntime) => consoleIntegrations(config, runtime) },
        { provide: AuditTrail, inject: [ConsoleRuntime], useFactory: (runtime: ConsoleRuntime) => new AuditTrail(runtime.redis, config.auditMaxEntries, new OperatorAuditJournal(runtime.producer, runtime.kafka, 'console')) },
        AuditRecovery,
        ConsoleAuth,
        SessionGuard,
        ConsoleState,
        DecideReviewUseCase,
        ReplayDeadLetterUseCase,
      ],
    };
  }
}
