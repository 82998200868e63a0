// The batch-closing loop: every BATCH_CLOSE_INTERVAL_S one instance (a Redis lease; the close script is
// idempotent anyway, so two instances closing at once would still close each batch once) closes due batches and
// publishes unsent reports. It also watches the ledger's epoch: when Redis lost its data the epoch is gone, and
// closing would report batches that miss their earlier payments, so the loop pauses until `payrail settlement
// rebuild` has restored the ledger from Kafka (and written a new epoch).
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { LedgerKeys } from '@payrail/ledger';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';
import { Ledger } from '../ledger/ledger.provider';
import { CloseBatchesUseCase } from './close-batches.use-case';

export type LedgerEpochState = 'unknown' | 'ok' | 'lost';

@Injectable()
export class BatchCloser implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private epoch: string | undefined;
  private epochState: LedgerEpochState = 'unknown';
  private readonly instance = randomUUID();

  constructor(
    private readonly ledger: Ledger,
    private readonly closeBatches: CloseBatchesUseCase,
    @Inject(SETTLEMENT_CONFIG) private readonly config: SettlementConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('batch-closer');
  }

  get ledgerEpoch(): LedgerEpochState {
    return this.epochState;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.epoch = await this.ledger.repository.ensureEpoch(randomUUID());
    this.epochState = 'ok';
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
      if (!(await this.epochHolds())) return;
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

  private async epochHolds(): Promise<boolean> {
    const current = await this.ledger.repository.epoch();
    if (!current) {
      if (this.epochState !== 'lost') this.logger.error({}, 'ledger epoch missing: Redis lost its data. Batch closing paused; run `payrail settlement rebuild` to restore the ledger from Kafka');
      this.epochState = 'lost';
      this.ledger.forgetHints();
      return false;
    }
    if (current !== this.epoch) {
      this.logger.warn({ previous: this.epoch, current }, 'ledger epoch changed (rebuilt from Kafka): batch closing resumes');
      this.ledger.forgetHints();
      this.epoch = current;
    }
    this.epochState = 'ok';
    return true;
  }
}
