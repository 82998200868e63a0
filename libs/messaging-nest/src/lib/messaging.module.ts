import { DynamicModule, Global, Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { METRICS_EXPOSITION, MetricsController } from './metrics.controller';
import { MESSAGING_OPTIONS, MessagingModuleOptions, MessagingRuntime } from './messaging.runtime';

@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      controllers: options.metricsOnHttpPort === false ? [HealthController] : [HealthController, MetricsController],
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        MessagingRuntime,
        { provide: METRICS_EXPOSITION, inject: [MessagingRuntime], useFactory: (runtime: MessagingRuntime) => runtime.metrics },
      ],
      exports: [MessagingRuntime],
    };
  }
}
