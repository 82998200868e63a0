// The framework-free stores and the rules engine as NestJS providers, all on the service's one Redis connection.
import { Provider } from '@nestjs/common';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { OperatorDirectory } from './admin/operators';
import { KafkaAuditJournal } from './audit/audit-journal';
import { RedisAuditLog } from './audit/audit-log';
import { BlocklistJournal, KafkaBlocklistJournal } from './blocklist/blocklist-journal';
import { RedisBlocklistStore } from './blocklist/redis-blocklist.store';
import { FRAUD_CHECK_CONFIG, FraudCheckConfig } from './config';
import { FraudEngine } from './engine/fraud-engine';
import { RedisReviewQueue } from './review/review-queue.store';
import { RedisVelocityStore } from './velocity/redis-velocity.store';

export const FRAUD_STORE_PROVIDERS: Provider[] = [
  { provide: RedisVelocityStore, inject: [MessagingRuntime], useFactory: (rt: MessagingRuntime) => new RedisVelocityStore(rt.redis) },
  { provide: RedisBlocklistStore, inject: [MessagingRuntime, FRAUD_CHECK_CONFIG], useFactory: (rt: MessagingRuntime, c: FraudCheckConfig) => new RedisBlocklistStore(rt.redis, c.auditMaxEntries) },
  { provide: RedisReviewQueue, inject: [MessagingRuntime, FRAUD_CHECK_CONFIG], useFactory: (rt: MessagingRuntime, c: FraudCheckConfig) => new RedisReviewQueue(rt.redis, c.auditMaxEntries) },
  // every audit entry and blocklist change also goes to Kafka, where they survive a Redis loss
  { provide: RedisAuditLog, inject: [MessagingRuntime, FRAUD_CHECK_CONFIG], useFactory: (rt: MessagingRuntime, c: FraudCheckConfig) => new RedisAuditLog(rt.redis, c.auditMaxEntries, new KafkaAuditJournal(rt.producer, rt.kafka)) },
  { provide: BlocklistJournal, inject: [MessagingRuntime], useFactory: (rt: MessagingRuntime) => new KafkaBlocklistJournal(rt.producer, rt.kafka) },
  { provide: FraudEngine, inject: [RedisVelocityStore, RedisBlocklistStore], useFactory: (v: RedisVelocityStore, b: RedisBlocklistStore) => new FraudEngine(v, b) },
  { provide: OperatorDirectory, inject: [FRAUD_CHECK_CONFIG], useFactory: (c: FraudCheckConfig) => new OperatorDirectory(c.operators) },
];
