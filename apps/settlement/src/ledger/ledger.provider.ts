// The service's ledger: one repository over the runtime's Redis connection, the in-process hints (current batch
// sequences, merchants already registered) that save round trips, and the ledger's life: the epoch the service
// posts in. Redis is a cache of facts that live on Kafka, so whenever the ledger is not there (the epoch key is
// missing: Redis lost its data, at boot or while running) the service restores it from Kafka itself, one instance
// at a time (restoreLedger, under a Redis lease) while the others wait, and posts nothing meanwhile: the posting
// script refuses any merchant whose epoch key is not the service's (NO_LEDGER), and the handler waits here.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { PaymentSettled } from '@payrail/contracts';
import { BatchCursorCache, BatchOperation, BatchOperationOutcome, LedgerRepository, PostingPlan, batchWindow, instructionVerifier, parseBatchId, postLiveBatch, restoreLedger } from '@payrail/ledger';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';
import { PayrailSignatures, payloadVerifier } from '../posting/payrail-signatures.provider';
import { SettlementSeals } from '../posting/settlement-seals';
import type { PostingLedger } from '../posting/post-screened-batch.use-case';

export type LedgerState = 'unknown' | 'live' | 'restoring';

/** Longer than a `settled` publish can be held up (kafkajs retries up to 30 s, plus its request timeout). */
export const CLOSING_HOLD_AFTER_RESTORE_MS = 75_000;

@Injectable()
export class Ledger implements OnApplicationBootstrap, PostingLedger {
  readonly repository: LedgerRepository;
  readonly cursors = new BatchCursorCache();
  private readonly registered = new Set<string>();
  private readonly instance = randomUUID();
  private current: LedgerState = 'unknown';
  private recovering: Promise<void> | undefined;

  constructor(
    private readonly runtime: MessagingRuntime,
    @Inject(SETTLEMENT_CONFIG) readonly config: SettlementConfig,
    private readonly signatures: PayrailSignatures,
    private readonly seals: SettlementSeals,
    private readonly logger: PinoLogger,
  ) {
    this.repository = new LedgerRepository(runtime.redis);
    this.logger.setContext('ledger');
  }

  get state(): LedgerState {
    return this.current;
  }

  /** Before the consumers start: the ledger is live, restored from Kafka first when Redis has none. */
  async onApplicationBootstrap(): Promise<void> {
    await this.recover();
  }

  /** Idempotent; the merchant's keys join the service's epoch (waits for a restore when the ledger is gone). */
  async registerMerchant(merchantId: string): Promise<void> {
    while (!this.registered.has(merchantId)) {
      const opening = await this.repository.openMerchant(merchantId);
      if (opening === 'OPEN') {
        if (this.registered.size > 100_000) this.registered.clear();
        this.registered.add(merchantId);
      } else if (opening === 'LOST') {
        // this merchant's keys went (an eviction, a lost shard) while the ledger's epoch stayed: restore anyway
        this.logger.error({ merchant_id: merchantId }, 'a known merchant\'s ledger keys are missing: restoring the ledger from Kafka');
        await this.untilLive(true);
      } else {
        await this.untilLive();
        await new Promise((resolve) => setTimeout(resolve, 100)); // a rebuild on demand owns the merchant's keys
      }
    }
  }

  get attachedEpoch(): string | undefined {
    return this.repository.attachedEpoch;
  }

  /**
   * One merchant's decisions of a consumed batch in one script (postLiveBatch). When Redis lost the ledger (or a
   * restore is writing it) nothing is posted until it is back, restored from Kafka; then the rest goes again.
   */
  postBatch(merchantId: string, operations: readonly BatchOperation[], postedAt: string): Promise<BatchOperationOutcome[]> {
    return postLiveBatch(this.repository, merchantId, operations, this.config.batch, postedAt, this.cursors, async () => {
      await this.untilLive();
      // a rebuild on demand (`payrail settlement rebuild`) owns the merchants' keys until it writes its epoch
      await new Promise((resolve) => setTimeout(resolve, 100));
      this.registered.delete(merchantId);
      await this.registerMerchant(merchantId);
    });
  }

  /**
   * Redis lost the ledger between a posting and its `settled` event (a publish held up by a broker restart): the
   * restore, which read the settled topic before this event landed, left the payment to the posting path, so the
   * posting is put back exactly as the event told it (its batch, fee, net and time).
   */
  async reassert(plan: PostingPlan, told: PaymentSettled): Promise<void> {
    const batch = parseBatchId(told.batch_id);
    if (!batch) throw new Error(`settled event of ${told.payment_id} names no batch`);
    const window = batchWindow(Date.parse(plan.screenedAt), this.config.batch.cutoffS);
    const reported = await this.repository.batch(plan.merchantId, told.batch_id);
    if (reported?.reportedAt) {
      // the closer waits CLOSING_HOLD_AFTER_RESTORE_MS after a restore, so this needs a publish held up longer
      this.logger.error({ payment_id: told.payment_id, batch_id: told.batch_id }, 'settled event landed after its batch was reported again without it: not put back there; reconcile lists it');
      return;
    }
    for (;;) {
      const outcome = await this.repository.post({ ...plan, fee: BigInt(told.fee.minor), net: BigInt(told.net.minor), window, postedAt: told.posted_at, seq: batch.seq, maxBatchPayments: this.config.batch.maxPayments, mode: 'restore' });
      if (outcome.kind === 'NO_LEDGER') {
        await this.untilLive();
        await this.registerMerchant(plan.merchantId);
        continue;
      }
      if (outcome.kind === 'DUPLICATE' && (outcome.batchId !== told.batch_id || outcome.postedAt !== told.posted_at || outcome.fee.toString() !== told.fee.minor)) {
        this.logger.error({ payment_id: told.payment_id, told_batch: told.batch_id, ledger_batch: outcome.batchId }, "the ledger was restored with other facts than this payment's settled event: reconcile lists it");
      } else if (outcome.kind === 'POSTED') {
        this.logger.warn({ payment_id: told.payment_id, batch_id: told.batch_id }, 'posting put back as its settled event told it (Redis was lost while it was published)');
      }
      return;
    }
  }

  /**
   * The posting path's wait after NO_LEDGER: until the ledger is live again, however long the restore takes and
   * however often it fails (Kafka or the JWKS unreachable): a message is never dead-lettered for a missing ledger.
   */
  async untilLive(force = false): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.recover(force);
        return;
      } catch (err) {
        this.logger.error({ err: (err as Error).message, attempt }, 'ledger restore failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(attempt, 10) * 1000));
      }
    }
  }

  /**
   * The ledger is live again when this resolves: the epoch Redis holds is adopted, or, when Redis has none, the
   * ledger is restored from Kafka (here, or by another instance this one waits for). Concurrent callers share one
   * recovery.
   */
  recover(force = false): Promise<void> {
    this.recovering ??= this.adoptOrRestore(force).finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  /** The batch closer's check: true when the ledger is live in the epoch this service posts in. */
  async isLive(): Promise<boolean> {
    const epoch = await this.repository.epoch();
    if (epoch && epoch === this.repository.attachedEpoch && this.current === 'live') {
      // a `settled` event held up while Redis was lost may still land and be put back (reassert): no batch
      // closes until it could have, so none is reported without it
      return !(await this.repository.closingHeld(Date.now()));
    }
    void this.recover().catch((err: Error) => this.logger.error({ err: err.message }, 'ledger recovery failed; the next posting or round retries'));
    return false;
  }

  private async adoptOrRestore(force: boolean): Promise<void> {
    this.forgetHints();
    for (let restoreAnyway = force; ; restoreAnyway = false) {
      const epoch = await this.repository.epoch();
      if (epoch && !restoreAnyway) {
        if (epoch !== this.repository.attachedEpoch) this.logger.info({ epoch, previous: this.repository.attachedEpoch ?? null }, 'ledger epoch adopted');
        this.repository.attachEpoch(epoch);
        this.current = 'live';
        return;
      }
      this.current = 'restoring';
      this.logger.error({}, 'the ledger is not in Redis (lost, or never created): restoring it from Kafka before any posting');
      await this.signatures.ready();
      const { fee: fees, batch: policy } = this.config;
      const verifyPayload = payloadVerifier(() => this.signatures.verifier());
      const verify = instructionVerifier(verifyPayload);
      // a repository of its own: it writes in the restore's new epoch while this one still holds the old
      const outcome = await restoreLedger(this.runtime.kafka, new LedgerRepository(this.runtime.redis), {
        fees,
        policy,
        verify,
        // a restore trusts no decision fraud-check did not seal, no report or settled event settlement did not seal
        evidence: this.seals.ledgerEvidence(verifyPayload),
        holder: this.instance,
        onlyIfMissing: !restoreAnyway,
        progress: (line) => this.logger.info({}, `ledger restore: ${line}`),
      });
      if (outcome.kind === 'RESTORED') {
        const r = outcome.report;
        // anything restored: a `settled` publish held up by the loss may still land (isLive); a new ledger: no wait
        if (r.postingsRestored + r.alreadyPresent + r.inFlight + r.held > 0) await this.repository.holdClosing(Date.now() + CLOSING_HOLD_AFTER_RESTORE_MS);
        const summary = { epoch: r.epoch, restored: r.postingsRestored, recomputed: r.postingsRecomputed, present: r.alreadyPresent, held: r.held, batches_closed: r.batchesClosed, signed: r.signedRecorded, discrepancies: r.discrepancies.length };
        if (r.discrepancies.length > 0) this.logger.error({ ...summary, first: r.discrepancies.slice(0, 20) }, 'ledger restored from Kafka, with discrepancies (`payrail settlement reconcile` lists them all)');
        else this.logger.warn(summary, 'ledger restored from Kafka');
      }
    }
  }

  /** After Redis lost its data or the ledger was rebuilt: forget every hint. */
  forgetHints(): void {
    this.cursors.clear();
    this.registered.clear();
  }
}
