import { Injectable } from '@nestjs/common';
import { PaymentAccepted, PaymentInstruction, PaymentSigned, TOPICS } from '@payrail/contracts';
import { EventProducer } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SigningKeys } from '../keys/signing-keys.provider';

export type SignInstructionResult = { status: 'SIGNED'; paymentId: string; kid: string };

/**
 * Signs the canonical (RFC 8785) payment instruction and publishes it keyed by payer (fraud velocity ordering).
 * Redelivery: signing is stateless, so a redelivered payment is signed again and published a second time with
 * the same event id (`<payment_id>:signed`); fraud-check de-duplicates on the payment id (tested).
 */
@Injectable()
export class SignInstructionUseCase {
  private readonly producer: EventProducer;

  constructor(
    private readonly keys: SigningKeys,
    runtime: MessagingRuntime,
  ) {
    this.producer = runtime.producer;
  }

  async execute(accepted: PaymentAccepted, trace: { traceparent?: string }): Promise<SignInstructionResult> {
    const instruction: PaymentInstruction = { ...accepted, signed_at: new Date().toISOString() };
    const jws = this.keys.signer.sign(instruction);
    const kid = kidOf(jws);
    const event: PaymentSigned = { payment_id: accepted.payment_id, kid, instruction_jws: jws };
    await this.producer.publish(TOPICS.paymentsSigned, event, {
      key: accepted.payer.fingerprint,
      correlationId: accepted.payment_id,
      eventId: `${accepted.payment_id}:signed`,
      subject: accepted.payment_id,
      traceparent: trace.traceparent,
    });
    return { status: 'SIGNED', paymentId: accepted.payment_id, kid };
  }
}

/** The kid the signer put in the protected header (the active key at the instant of signing). */
export function kidOf(compact: string): string {
  const header = compact.slice(0, compact.indexOf('.'));
  const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: unknown };
  if (typeof parsed.kid !== 'string') throw new Error('signer produced a JWS without kid');
  return parsed.kid;
}
