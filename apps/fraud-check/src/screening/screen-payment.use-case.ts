// Screening one signed payment instruction: verify Payrail's signature (keys from the JWKS, never from the
// token), gather the payment's signals and evaluate the rule set (FraudEngine), record the decision once (Redis
// SET NX: a redelivered or duplicate signed instruction gets the decision already taken), queue a REVIEW for the
// analysts, publish the decision keyed by merchant for settlement.
//
// Redelivery at any step is safe: velocity recording is idempotent per payment id, the stored decision wins,
// opening a review and marking a payee known are idempotent, and events carry deterministic ids.
// A REVIEW or DECLINE record, and an analyst's decision on a review, never expire (decision-record.ts).
// After a Redis loss nothing is decided until the decisions and blocklists are back from Kafka (recovery-gate.ts):
// the Redis-life marker is read with the decision record, and a payment without a record is decided only when
// the marker is there.
import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { PaymentInstruction, PaymentScreened, PaymentSigned, TOPICS } from '@payrail/contracts';
import { FraudMetrics } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { FraudEngine } from '../engine/fraud-engine';
import { RecoveryGate } from '../recovery/recovery-gate';
import { RedisReviewQueue } from '../review/review-queue.store';
import { reviewSummary } from '../review/review-summary';
import { RuleSetProvider } from '../rules/ruleset.provider';
import { decodeInstructionPayload } from './instruction-payload';
import { PayrailSignatures, verifiedInstruction } from './payrail-signatures.provider';
import { ScreenedPublisher } from './screened.publisher';
import { decisionKey, decisionTtlS, fromDecisionRecord, storeDecisionOnce } from './decision-record';

export type ScreenPaymentResult =
  | { kind: 'DECIDED'; decision: PaymentScreened['decision']; paymentId: string }
  | { kind: 'DUPLICATE'; paymentId: string }
  | { kind: 'SIGNATURE_INVALID'; paymentId: string };

const SIGNATURE_INVALID_SCORE = 1000;

@Injectable()
export class ScreenPaymentUseCase {
  constructor(
    private readonly signatures: PayrailSignatures,
    private readonly rules: RuleSetProvider,
    private readonly engine: FraudEngine,
    private readonly reviews: RedisReviewQueue,
    private readonly publisher: ScreenedPublisher,
    private readonly runtime: MessagingRuntime,
    private readonly metrics: FraudMetrics,
    private readonly recovery: RecoveryGate,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('screening');
  }

  async execute(signed: PaymentSigned, trace: { traceparent?: string }): Promise<ScreenPaymentResult> {
    const instruction = await this.verifiedInstruction(signed);
    for (;;) {
      // waits (never fails) while Redis is being restored after a loss; at once otherwise
      await this.recovery.ready();
      const result = instruction ? await this.screen(signed, instruction, trace) : await this.declineUnverified(signed, trace);
      if (result) return result;
      // no record and no Redis-life marker: Redis lost its data since the last check; decide once it is restored
    }
  }

  /** The decision of a verified instruction; undefined when Redis lost its data and the payment has no record. */
  private async screen(signed: PaymentSigned, instruction: PaymentInstruction, trace: { traceparent?: string }): Promise<ScreenPaymentResult | undefined> {
    const key = decisionKey(signed.payment_id);
    // a decision already taken (redelivery), this payment's signals and the Redis-life marker in one round trip:
    // recording the payment's velocity again is a no-op, so the common case (no previous decision) does not wait
    // for a lookup first
    const [previous, verdict, intact] = await Promise.all([this.runtime.redis.get(key), this.engine.screen(this.rules.current(), instruction), this.recovery.intact()]);
    if (previous) return this.duplicate(key, fromDecisionRecord(previous, signed), trace);
    if (!intact) return undefined;
    const screened = await this.storeOnce({
      payment_id: instruction.payment_id,
      merchant_id: instruction.payee.merchant_id,
      amount: instruction.amount,
      decision: verdict.decision,
      score: verdict.score,
      reasons: verdict.reasons,
      ruleset_version: verdict.rulesetVersion,
      screened_at: new Date().toISOString(),
      instruction_jws: signed.instruction_jws,
    });
    await this.carryOn(screened, trace, instruction, verdict.payeeKnown);
    return { kind: 'DECIDED', decision: screened.decision, paymentId: screened.payment_id };
  }

  /** A signature that does not verify: declined and alerted once; undefined as for screen(). */
  private async declineUnverified(signed: PaymentSigned, trace: { traceparent?: string }): Promise<ScreenPaymentResult | undefined> {
    const key = decisionKey(signed.payment_id);
    const [previous, intact] = await Promise.all([this.runtime.redis.get(key), this.recovery.intact()]);
    if (previous) return this.duplicate(key, fromDecisionRecord(previous, signed), trace);
    if (!intact) return undefined;
    const screened = await this.storeOnce(await this.declineTampered(signed, new Date().toISOString()));
    await this.publisher.publish(screened, trace);
    return { kind: 'SIGNATURE_INVALID', paymentId: signed.payment_id };
  }

  private verifiedInstruction(signed: PaymentSigned): Promise<PaymentInstruction | undefined> {
    return verifiedInstruction(this.signatures, signed);
  }

  /**
   * Stores the decision unless one exists: the first decision wins, also across instances racing on a redelivery.
   * The decision metrics count the stored decision, once, by the instance that stored it.
   */
  private async storeOnce(screened: PaymentScreened): Promise<PaymentScreened> {
    const { stored, won } = await storeDecisionOnce(this.runtime.redis, screened, decisionTtlS(screened.decision));
    if (won) this.metrics.decided(screened.decision, screened.reasons.map((r) => r.rule));
    return stored;
  }

  private async duplicate(key: string, previous: PaymentScreened, trace: { traceparent?: string }): Promise<ScreenPaymentResult> {
    // a REVIEW or DECLINE stored before these records became final may still carry a TTL: make it final now
    if (decisionTtlS(previous.decision) === undefined) await this.runtime.redis.persist(key);
    await this.carryOn(previous, trace);
    return { kind: 'DUPLICATE', paymentId: previous.payment_id };
  }

  /**
   * What follows a stored decision, safe to repeat: a REVIEW gets its queue entry, an APPROVE makes the payee known
   * to the payer, the decision is published, and a review an analyst already decided is published again after it.
   */
  private async carryOn(screened: PaymentScreened, trace: { traceparent?: string }, verified?: PaymentInstruction, payeeKnown = false): Promise<void> {
    const instruction = verified ?? (screened.reasons.some((r) => r.rule === 'signature_invalid') ? undefined : decodeInstructionPayload(screened.instruction_jws));
    // independent and idempotent: done together, and all done before the message counts as handled
    await Promise.all([
      instruction && screened.decision === 'REVIEW' ? this.reviews.open(screened, reviewSummary(instruction, screened)) : undefined,
      instruction ? this.engine.decided(instruction, screened.decision, payeeKnown) : undefined,
      this.publisher.publish(screened, trace),
    ]);
    if (screened.decision === 'REVIEW') {
      const review = await this.reviews.get(screened.payment_id);
      if (review?.final) await this.publisher.publish(review.final, trace);
    }
  }

  private async declineTampered(signed: PaymentSigned, now: string): Promise<PaymentScreened> {
    this.metrics.verificationFailed('payment_instruction');
    const claimed = decodeInstructionPayload(signed.instruction_jws);
    await this.runtime.producer.publish(
      TOPICS.securityAlerts,
      { alert: 'signature_invalid', service: 'fraud-check', payment_id: signed.payment_id, kid: signed.kid, detail: 'Payrail signature on a payment instruction did not verify', raised_at: now },
      { key: signed.payment_id, correlationId: signed.payment_id, eventId: `${signed.payment_id}:alert:signature` },
    );
    this.logger.error({ payment_id: signed.payment_id, kid: signed.kid }, 'payment instruction signature invalid: declined and alerted');
    return {
      payment_id: signed.payment_id,
      merchant_id: claimed?.payee.merchant_id ?? 'unknown',
      amount: claimed?.amount ?? { minor: '0', currency: 'EUR' },
      decision: 'DECLINE',
      score: SIGNATURE_INVALID_SCORE,
      reasons: [{ rule: 'signature_invalid', code: 'signature_invalid', score: SIGNATURE_INVALID_SCORE, observed: { kid: signed.kid } }],
      ruleset_version: this.rules.current().version,
      screened_at: now,
      instruction_jws: signed.instruction_jws,
    };
  }
}
