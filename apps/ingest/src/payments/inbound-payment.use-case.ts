// A payment from the inbound topic: the upstream's signed JWS encrypted to ingest's inbound key (a JWS nested in a
// JWE). Decrypt first (hardened: our algorithms, our keys, no zip, sizes checked before any work), then hand the
// inner JWS to the same checks as POST /v1/payments (signature, freshness, replay, idempotency, merchant binding).
// A message that is not encrypted, or whose JWE does not open, is refused with a reason: it never reaches them.
import { Inject, Injectable } from '@nestjs/common';
import { INBOUND_NOT_ENCRYPTED, INBOUND_PAYMENT_JWE_CONTENT_TYPE, InboundPayment } from '@payrail/contracts';
import { CryptoError, type CryptoErrorReason, type DecryptedJwe } from '@payrail/crypto';
import { SubmitPaymentCommand, SubmitPaymentResult, SubmitPaymentUseCase } from './submit-payment.use-case';

/** Why an inbound message was refused before its signature was looked at (the dead letter's reason). */
export const INBOUND_REFUSALS = [INBOUND_NOT_ENCRYPTED, 'inbound_key_unknown', 'inbound_alg_not_allowed', 'inbound_jwe_invalid'] as const;
export type InboundRefusalReason = (typeof INBOUND_REFUSALS)[number];

export interface InboundRefusal {
  kind: 'REFUSED';
  reason: InboundRefusalReason;
  /** Safe to log and to put in a dead letter's headers: never token content. */
  detail: string;
}

export type ReceiveInboundPaymentResult = { kind: 'SUBMITTED'; result: SubmitPaymentResult } | InboundRefusal;

export interface ReceiveInboundPaymentCommand {
  message: InboundPayment;
  /** The event id: the idempotency key of a message without one (a redelivery is then a duplicate). */
  eventId: string;
  traceparent?: string;
}

/** The two ports the use case needs (narrow, so unit tests fake them). */
export interface InboundDecryption {
  decryptWithHeader(compact: string): Promise<DecryptedJwe>;
}
export interface PaymentSubmission {
  execute(command: SubmitPaymentCommand): Promise<SubmitPaymentResult>;
}
export const INBOUND_DECRYPTION = Symbol('INBOUND_DECRYPTION');

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

const refuse = (reason: InboundRefusalReason, detail: string): InboundRefusal => ({ kind: 'REFUSED', reason, detail });

function refusalFor(reason: CryptoErrorReason): InboundRefusal {
  switch (reason) {
    case 'kid':
    case 'retired':
      return refuse('inbound_key_unknown', `the JWE names no inbound key of Payrail's that can open it (${reason}): fetch GET /.well-known/payrail-inbound-jwks.json`);
    case 'alg':
      return refuse('inbound_alg_not_allowed', 'the JWE alg/enc is not allowed: use ECDH-ES+A256KW (or the alg of the key) with A256GCM');
    default:
      return refuse('inbound_jwe_invalid', `the JWE was refused (${reason})`);
  }
}

@Injectable()
export class ReceiveInboundPaymentUseCase {
  constructor(
    @Inject(INBOUND_DECRYPTION) private readonly decryption: InboundDecryption,
    @Inject(SubmitPaymentUseCase) private readonly submitPayment: PaymentSubmission,
  ) {}

  async execute(command: ReceiveInboundPaymentCommand): Promise<ReceiveInboundPaymentResult> {
    const { jwe, jws, idempotency_key: idempotencyKey } = command.message;
    if (jws !== undefined || jwe === undefined) return refuse(INBOUND_NOT_ENCRYPTED, 'a signed payment not encrypted to Payrail: publish {"jwe": ...} (docs/upstreams.md)');
    let opened: DecryptedJwe;
    try {
      opened = await this.decryption.decryptWithHeader(jwe);
    } catch (err) {
      if (err instanceof CryptoError) return refusalFor(err.reason);
      throw err; // unexpected: retried, then dead-lettered
    }
    if (opened.protectedHeader['cty'] !== INBOUND_PAYMENT_JWE_CONTENT_TYPE) {
      return refuse('inbound_jwe_invalid', `the JWE's cty must be "${INBOUND_PAYMENT_JWE_CONTENT_TYPE}" (a signed payment nested in it)`);
    }
    const inner = opened.plaintext.toString('utf8');
    if (!COMPACT_JWS.test(inner)) return refuse('inbound_jwe_invalid', 'the JWE does not hold a compact JWS');
    const result = await this.submitPayment.execute({
      submission: { form: 'compact', jws: inner },
      channel: 'kafka',
      idempotencyKey: idempotencyKey ?? `kafka:${command.eventId}`,
      traceparent: command.traceparent,
    });
    return { kind: 'SUBMITTED', result };
  }
}
