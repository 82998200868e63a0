// Posting one screened payment. First fraud-check's seal on the decision is verified (fraud-check's public sealing
// keys only): a forged or unsealed decision is dead-lettered with a security alert before anything is written. APPROVE: verify Payrail's signature again (settlement trusts no upstream stage
// blindly), compute the fee, post the double-entry transaction once into the window's current batch, and publish
// `settled`. REVIEW / DECLINE: record the hold, so the ledger itself refuses to post a declined payment and the
// invariants can prove none was posted. An analyst's later APPROVE of a payment held in REVIEW (fraud-check's
// review flow: a new screened event with `review` set) posts it like any approval, once.
// A redelivery finds the posting and re-publishes the same `settled` event (same event id, same facts), so a
// crash between posting and publishing loses nothing and posts nothing twice.
import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { PaymentInstruction, PaymentInstructionSchema, PaymentScreened, PaymentSettled, TOPICS } from '@payrail/contracts';
import { CryptoError } from '@payrail/crypto';
import { PostingPlan, batchWindow, instructionMatches, parseBatchId, planPosting, postLive } from '@payrail/ledger';
import { PermanentError, SettlementMetrics, refuseForgedEvent } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { Ledger } from '../ledger/ledger.provider';
import { PayrailSignatures } from './payrail-signatures.provider';
import { SettlementSeals } from './settlement-seals';

export type PostPaymentResult =
  | { kind: 'POSTED' | 'DUPLICATE'; paymentId: string; batchId: string }
  | { kind: 'HELD'; paymentId: string; decision: 'REVIEW' | 'DECLINE' }
  | { kind: 'REFUSED_DECLINED'; paymentId: string }
  | { kind: 'REFUSED_IN_REVIEW'; paymentId: string };

@Injectable()
export class PostPaymentUseCase {
  constructor(
    private readonly ledger: Ledger,
    private readonly signatures: PayrailSignatures,
    private readonly seals: SettlementSeals,
    private readonly runtime: MessagingRuntime,
    private readonly metrics: SettlementMetrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('posting');
  }

  async execute(screened: PaymentScreened, trace: { traceparent?: string }): Promise<PostPaymentResult> {
    await this.verifiedDecision(screened);
    await this.ledger.registerMerchant(screened.merchant_id);
    if (screened.decision !== 'APPROVE') return this.hold(screened, screened.decision);

    const instruction = await this.verifiedInstruction(screened);
    const { fee: fees, batch: policy } = this.ledger.config;
    const plan = planPosting(instruction, screened.screened_at, fees, policy, screened.review !== undefined);
    const postedAt = new Date().toISOString();
    let outcome = await postLive(this.ledger.repository, plan, policy, postedAt, this.ledger.cursors);
    while (outcome.kind === 'NO_LEDGER') {
      // Redis lost the ledger (or a restore is writing it): nothing is posted until it is back, restored from Kafka
      await this.ledger.untilLive();
      // a rebuild on demand (`payrail settlement rebuild`) owns the merchants' keys until it writes its epoch
      await new Promise((resolve) => setTimeout(resolve, 100));
      await this.ledger.registerMerchant(plan.merchantId);
      outcome = await postLive(this.ledger.repository, plan, policy, postedAt, this.ledger.cursors);
    }
    if (outcome.kind === 'DECLINED') {
      this.logger.error({ payment_id: plan.paymentId, merchant_id: plan.merchantId }, 'approval of a payment declined earlier: not posted (a decline is final)');
      return { kind: 'REFUSED_DECLINED', paymentId: plan.paymentId };
    }
    if (outcome.kind === 'IN_REVIEW') {
      this.logger.error({ payment_id: plan.paymentId, merchant_id: plan.merchantId }, 'automatic approval of a payment held in REVIEW: not posted (only an analyst releases a review)');
      return { kind: 'REFUSED_IN_REVIEW', paymentId: plan.paymentId };
    }
    this.metrics.posted(plan.currency, outcome.kind === 'POSTED' ? 'posted' : 'duplicate');
    if (outcome.kind === 'POSTED' && outcome.closedBySize) this.metrics.batchClosed('size');
    // on a duplicate, publish what was posted the first time
    const posted = outcome.kind === 'DUPLICATE' ? { fee: outcome.fee, net: outcome.net, postedAt: outcome.postedAt } : { fee: plan.fee, net: plan.net, postedAt };
    // sealed: ingest's status and a ledger rebuild take only settlement's own settled events (deterministic EdDSA,
    // so a redelivery re-publishes the same bytes)
    const settled: PaymentSettled = this.seals.sealSettled({
      payment_id: plan.paymentId,
      merchant_id: plan.merchantId,
      amount: instruction.amount,
      fee: { minor: posted.fee.toString(), currency: instruction.amount.currency },
      net: { minor: posted.net.toString(), currency: instruction.amount.currency },
      posted_at: posted.postedAt,
      batch_id: outcome.batchId,
    });
    const epoch = this.ledger.repository.attachedEpoch;
    await this.runtime.producer.publish(TOPICS.paymentsSettled, settled, {
      key: settled.merchant_id,
      correlationId: settled.payment_id,
      eventId: `${settled.payment_id}:settled`,
      subject: settled.payment_id,
      traceparent: trace.traceparent,
    });
    if (this.ledger.repository.attachedEpoch !== epoch) await this.reassert(plan, settled);
    return { kind: outcome.kind, paymentId: settled.payment_id, batchId: settled.batch_id };
  }

  /**
   * Redis lost the ledger between this posting and its `settled` event (a publish held up by a broker restart):
   * the restore, which read the settled topic before this event landed, left the payment to this handler, so the
   * posting is put back exactly as the event told it (its batch, fee, net and time).
   */
  private async reassert(plan: PostingPlan, told: PaymentSettled): Promise<void> {
    const batch = parseBatchId(told.batch_id);
    if (!batch) throw new Error(`settled event of ${told.payment_id} names no batch`);
    const window = batchWindow(Date.parse(plan.screenedAt), this.ledger.config.batch.cutoffS);
    const reported = await this.ledger.repository.batch(plan.merchantId, told.batch_id);
    if (reported?.reportedAt) {
      // the closer waits CLOSING_HOLD_AFTER_RESTORE_MS after a restore, so this needs a publish held up longer
      this.logger.error({ payment_id: told.payment_id, batch_id: told.batch_id }, 'settled event landed after its batch was reported again without it: not put back there; reconcile lists it');
      return;
    }
    for (;;) {
      const outcome = await this.ledger.repository.post({ ...plan, fee: BigInt(told.fee.minor), net: BigInt(told.net.minor), window, postedAt: told.posted_at, seq: batch.seq, maxBatchPayments: this.ledger.config.batch.maxPayments, mode: 'restore' });
      if (outcome.kind === 'NO_LEDGER') {
        await this.ledger.untilLive();
        await this.ledger.registerMerchant(plan.merchantId);
        continue;
      }
      if (outcome.kind === 'DUPLICATE' && (outcome.batchId !== told.batch_id || outcome.postedAt !== told.posted_at || outcome.fee.toString() !== told.fee.minor)) {
        this.logger.error({ payment_id: told.payment_id, told_batch: told.batch_id, ledger_batch: outcome.batchId }, 'the ledger was restored with other facts than this payment\'s settled event: reconcile lists it');
      } else if (outcome.kind === 'POSTED') {
        this.logger.warn({ payment_id: told.payment_id, batch_id: told.batch_id }, 'posting put back as its settled event told it (Redis was lost while it was published)');
      }
      return;
    }
  }

  private async hold(screened: PaymentScreened, decision: 'REVIEW' | 'DECLINE'): Promise<PostPaymentResult> {
    const outcome = await this.ledger.repository.hold(screened.merchant_id, screened.payment_id, decision);
    if (outcome === 'ALREADY_POSTED' && decision === 'DECLINE') {
      // settlement never reverses a posting on its own: operators see it here and in reconcile
      this.logger.error({ payment_id: screened.payment_id, merchant_id: screened.merchant_id }, 'DECLINE for a payment already posted: the posting stands');
    }
    return { kind: 'HELD', paymentId: screened.payment_id, decision };
  }

  /** fraud-check's seal over this exact decision; otherwise a security alert and a PermanentError (dead letter). */
  private async verifiedDecision(screened: PaymentScreened): Promise<void> {
    const check = await this.seals.checkDecision(screened);
    if (check.ok) return;
    this.metrics.verificationFailed('event_seal');
    this.logger.error({ payment_id: screened.payment_id, reason: check.reason, kid: check.kid }, 'screened event without a fraud-check seal that verifies: dead-lettered, not posted');
    await refuseForgedEvent(this.runtime.producer, { service: 'settlement', topic: TOPICS.paymentsScreened.name, subject: screened.payment_id, paymentId: screened.payment_id, reason: check.reason, kid: check.kid });
  }

  private async verifiedInstruction(screened: PaymentScreened): Promise<PaymentInstruction> {
    let instruction: PaymentInstruction;
    try {
      instruction = PaymentInstructionSchema.parse((await this.signatures.verifier().verify(screened.instruction_jws)).payload);
    } catch (err) {
      if (err instanceof CryptoError) {
        this.metrics.verificationFailed('payment_instruction');
        await this.runtime.producer.publish(
          TOPICS.securityAlerts,
          { alert: 'signature_invalid', service: 'settlement', payment_id: screened.payment_id, detail: 'approved payment with an invalid Payrail signature was not posted', raised_at: new Date().toISOString() },
          { key: screened.payment_id, correlationId: screened.payment_id, eventId: `${screened.payment_id}:alert:settlement-signature` },
        );
        throw new PermanentError('payment instruction signature invalid: not posted', 'signature_invalid');
      }
      throw err;
    }
    if (!instructionMatches(instruction, screened)) {
      throw new PermanentError('screened event does not match its signed instruction', 'mismatch');
    }
    return instruction;
  }
}
