import { Injectable } from '@nestjs/common';
import { PaymentAccepted, PaymentInstruction, PaymentSigned, TOPICS } from '@payrail/contracts';
import type { CanonicalObject } from '@payrail/crypto';
import { EventProducer, refuseForgedEvent } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SigningKeyRing } from '../keys/signing-key-ring';
import { HandOffSeals } from '../seals/hand-off-seals';

export type SignInstructionResult = { status: 'SIGNED'; paymentId: string; kid: string };

/** What became of one accepted payment of a batch: signed and published, or an error (retried, or dead-lettered when permanent). */
export type SignBatchResult = SignInstructionResult | { error: Error };

/** One accepted payment of a batch, as consumed (offset order). */
export interface AcceptedItem {
  accepted: PaymentAccepted;
  traceparent?: string;
}

const errorOf = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Signs only what ingest accepted: ingest's seal on the accepted payment must verify (ingest's public sealing keys),
 * otherwise the event is dead-lettered with a security alert and nothing is signed. Then it signs the payment instruction: the accepted payment (with what ingest verified of the upstream's signature,
 * `upstream_verification`) plus `signed_at`, as RFC 8785 canonical JSON in an ES256 JWS whose header names the
 * kid and the type `payrail-instruction+jws`. Published keyed by the payer's fingerprint, like the accepted topic,
 * so fraud-check sees each payer's payments in order.
 *
 * Redelivery: signing keeps no state, so an accepted payment delivered twice is signed twice and published twice
 * with the same event id (`<payment_id>:signed`) and the same payment; the two instructions differ only in
 * `signed_at` and the (randomised) ECDSA signature. Consumers de-duplicate on the payment id: fraud-check records
 * the first decision (Redis SET NX) and answers the second instruction with that same decision (tested against
 * the real broker in signing-flow.int-spec.ts).
 */
@Injectable()
export class SignInstructionUseCase {
  private readonly producer: EventProducer;

  constructor(
    private readonly keys: SigningKeyRing,
    private readonly seals: HandOffSeals,
    runtime: MessagingRuntime,
  ) {
    this.producer = runtime.producer;
  }

  async execute(accepted: PaymentAccepted, trace: { traceparent?: string }): Promise<SignInstructionResult> {
    const [result] = await this.executeBatch([{ accepted, traceparent: trace.traceparent }]);
    if (!result) throw new Error('no result');
    if ('error' in result) throw result.error;
    return result;
  }

  /**
   * A fetched batch at once: every seal verified (each one: nothing unsealed is signed), every instruction signed,
   * all published together (the producer puts them in one produce request), then one result per payment in order.
   * Signing keeps no state, so the order of effects matters only on the signed topic: messages are queued in offset
   * order, so each payer's instructions stay in order there. A forged event is alerted and dead-lettered alone
   * (PermanentError); the others go on.
   */
  async executeBatch(items: readonly AcceptedItem[]): Promise<SignBatchResult[]> {
    const checks = await Promise.all(items.map(({ accepted }) => this.seals.checkAccepted(accepted).catch((err: unknown) => ({ ok: false as const, error: errorOf(err) }))));
    const signedAt = new Date().toISOString();
    const outcomes = items.map(({ accepted, traceparent }, i): Promise<SignInstructionResult> => {
      const check = checks[i];
      if (!check) return Promise.reject(new Error('no seal check'));
      if ('error' in check) return Promise.reject(check.error);
      if (!check.ok) {
        return refuseForgedEvent(this.producer, { service: 'signing', topic: TOPICS.paymentsAccepted.name, subject: accepted.payment_id, paymentId: accepted.payment_id, reason: check.reason, kid: check.kid });
      }
      try {
        // ingest's seal is its word to signing; the instruction carries Payrail's signature instead: the payment the
        // seal covered (its canonical JSON, written once for both) plus signed_at
        const instruction: CanonicalObject<PaymentInstruction> = check.covered.with('signed_at', signedAt);
        const { jws, kid } = this.keys.sign('instruction', instruction);
        const event: PaymentSigned = { payment_id: accepted.payment_id, kid, instruction_jws: jws };
        return this.producer
          .publish(TOPICS.paymentsSigned, event, { key: accepted.payer.fingerprint, correlationId: accepted.payment_id, eventId: `${accepted.payment_id}:signed`, subject: accepted.payment_id, traceparent })
          .then(() => ({ status: 'SIGNED', paymentId: accepted.payment_id, kid }));
      } catch (err) {
        return Promise.reject(errorOf(err));
      }
    });
    return (await Promise.allSettled(outcomes)).map((o) => (o.status === 'fulfilled' ? o.value : { error: errorOf(o.reason) }));
  }
}
