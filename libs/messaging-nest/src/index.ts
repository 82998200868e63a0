export * from './lib/messaging.runtime';
export * from './lib/messaging.module';
export * from './lib/payrail-kafka.transport';
export * from './lib/health.controller';
export * from './lib/metrics.controller';
