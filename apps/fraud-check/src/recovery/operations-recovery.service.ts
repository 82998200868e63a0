// The NestJS side of OperationsRecovery: recovers before the service starts screening and serving the admin API
// (onApplicationBootstrap runs before listen and before the consumers start), then checks for a Redis loss on an
// interval; screening asks the gate, which checks at most every 500 ms and waits for the restore.
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { KafkaAuditJournal } from '../audit/audit-journal';
import { RedisAuditLog } from '../audit/audit-log';
import { KafkaBlocklistJournal } from '../blocklist/blocklist-journal';
import { RedisBlocklistStore } from '../blocklist/redis-blocklist.store';
import { FRAUD_CHECK_CONFIG, FraudCheckConfig } from '../config';
import { RedisReviewQueue } from '../review/review-queue.store';
import { DecisionSeals } from '../screening/decision-seals';
import { DecisionRestore } from './decision-restore';
import { OperationsRecovery, RecoveryReport } from './operations-recovery';
import { RECOVERY_RECHECK_MS, RecoveryGate } from './recovery-gate';
import { RedisRecoveryLease } from './recovery-lease';
import { KafkaScreenedHistory } from './screened-history';

/** How often a running instance looks for its Redis life marker when screening does not (idle). */
export const REDIS_LOSS_CHECK_MS = 15_000;
/** The newest entries put back into Redis after a loss (the admin API pages the recent trail; all of it is on Kafka). */
export const AUDIT_RESTORE_MAX = 10_000;

@Injectable()
export class OperationsRecoveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly recovery: OperationsRecovery;
  readonly gate: RecoveryGate;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    runtime: MessagingRuntime,
    blocklists: RedisBlocklistStore,
    auditLog: RedisAuditLog,
    reviews: RedisReviewQueue,
    seals: DecisionSeals,
    @Inject(FRAUD_CHECK_CONFIG) config: FraudCheckConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('operations-recovery');
    const blocklistTopic = new KafkaBlocklistJournal(runtime.producer, runtime.kafka);
    const auditTopic = new KafkaAuditJournal(runtime.producer, runtime.kafka);
    const screenedTopic = new KafkaScreenedHistory(runtime.kafka);
    const lease = new RedisRecoveryLease(runtime.redis, undefined, (err) => this.logger.warn({ err: err.message }, 'renewing the recovery lease failed'));
    this.recovery = new OperationsRecovery(
      {
        readLatestBlocklistChanges: () => blocklistTopic.readLatest(),
        readRecentAudit: (n) => auditTopic.readRecent(n),
        replayDecisions: (apply) => screenedTopic.replay(apply),
      },
      blocklists,
      auditLog,
      Math.min(config.auditMaxEntries, AUDIT_RESTORE_MAX),
      new DecisionRestore(runtime.redis, reviews, (event) => seals.check(event)),
      lease,
    );
    this.gate = new RecoveryGate(
      { intact: () => this.recovery.redisIntact(), restore: () => this.restoreIfLost() },
      {
        recheckMs: RECOVERY_RECHECK_MS,
        retryMs: 1_000,
        onError: (err) => this.logger.error({ err: err.message }, 'restoring after a Redis loss failed; screening waits and it is retried'),
      },
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    this.report(await this.recovery.recover(), 'start');
    this.timer = setInterval(() => void this.restoreIfLost().catch((err: Error) => this.logger.error({ err: err.message }, 'restoring after a Redis loss failed; retried at the next check')), REDIS_LOSS_CHECK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One restore at a time in this instance: the periodic check and screening join the one running. */
  private restoreIfLost(): Promise<void> {
    this.running ??= this.recovery
      .recoverIfLost()
      .then((report) => {
        if (report) this.report(report, 'redis-loss');
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private report(r: RecoveryReport, why: 'start' | 'redis-loss'): void {
    const d = r.decisions;
    const detail = {
      why,
      restored_by: r.restoredBy,
      blocklist_changes: r.blocklistChanges,
      blocklist_applied: r.blocklistApplied,
      undecodable: r.undecodable,
      audit_restored: Math.max(r.auditRestored, 0),
      ...(d ? { decision_events: d.events, decisions_restored: d.recorded, approvals_expired: d.expired, reviews_reopened: d.reviewsOpened, reviews_decided: d.reviewsDecided, reviews_missing: d.reviewsMissing, decisions_forged: d.forged } : {}),
    };
    if (r.restoredBy === 'none') this.logger.info(detail, 'blocklists replayed from Kafka');
    else if (why === 'start') this.logger.warn(detail, 'no Redis-life marker at start (new or emptied Redis): blocklists, audit trail, decisions and reviews restored from Kafka');
    else if (r.restoredBy === 'other') this.logger.error(detail, 'Redis lost its data: another instance restored it from Kafka');
    else this.logger.error(detail, 'Redis lost its data: blocklists, audit trail, decisions and reviews restored from Kafka');
  }
}
