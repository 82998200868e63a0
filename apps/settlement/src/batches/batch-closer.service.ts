// The batch-closing loop: every BATCH_CLOSE_INTERVAL_S one instance (a Redis lease; the close script is
// idempotent anyway, so two instances closing at once would still close each batch once) closes due batches and
// publishes unsent reports. It closes nothing while the ledger is not live (Redis lost it and it is being
// restored from Kafka, see Ledger): closing then would report batches that miss their earlier payments.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { LedgerKeys } from '@payrail/ledger';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';
import { Ledger } from '../ledger/ledger.provider';
import { CloseBatchesUseCase } from './close-batches.use-case';

@Injectable()
export class BatchCloser implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly instance = randomUUID();

  constructor(
    private readonly ledger: Ledger,
    private readonly closeBatches: CloseBatchesUseCase,
    @Inject(SETTLEMENT_CONFIG) private readonly config: SettlementConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('batch-closer');
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.batch.closeIntervalS * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One round; never two at once in this process. Exposed for tests and the shutdown path. */
  tick(now = new Date()): Promise<void> {
    this.running ??= this.round(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(now: Date): Promise<void> {
    try {
      if (!(await this.ledger.isLive())) return;
      const ttlMs = Math.max(this.config.batch.closeIntervalS * 3_000, 30_000);
      if (!(await this.ledger.repository.tryLock(LedgerKeys.closerLock, this.instance, ttlMs))) return;
      try {
        await this.closeBatches.execute(now);
      } finally {
        await this.ledger.repository.releaseLock(LedgerKeys.closerLock, this.instance);
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'batch closing round failed; next round retries');
    }
  }
}
