// Accepting one signed payment from an upstream, whatever the channel (HTTP or the inbound topic):
// signature (algorithm allowlist, registered key) -> freshness -> idempotency -> replay -> schema -> card checks
// -> protection -> publish `accepted` -> status. Every refusal is a typed result naming what failed.
import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { v7 as uuidv7 } from 'uuid';
import { PaymentAccepted, RejectionReason, SignedSubmissionClaims, SignedSubmissionClaimsSchema, TOPICS } from '@payrail/contracts';
import { CryptoError, luhnValid } from '@payrail/crypto';
import { RedisReplayStore } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { INGEST_CONFIG, IngestConfig } from '../config';
import { Upstream, UpstreamRegistry } from '../upstreams/upstream-registry';
import { PaymentStatusStore } from '../status/payment-status.store';
import { PayerProtection } from './payer-protection';

export interface SubmitPaymentCommand {
  jws: string;
  channel: 'http' | 'kafka';
  traceparent?: string;
}

export type PaymentRefusal = { kind: 'REJECTED'; reason: RejectionReason; detail: string; field?: string; upstreamId?: string; upstreamReference?: string };

export type SubmitPaymentResult = { kind: 'ACCEPTED'; paymentId: string; upstreamId: string; upstreamReference: string; acceptedAt: string } | PaymentRefusal;

export interface VerifiedSubmission {
  upstream: Upstream;
  claims: SignedSubmissionClaims;
  kid: string;
  alg: string;
}

@Injectable()
export class SubmitPaymentUseCase {
  private readonly replay: RedisReplayStore;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly upstreams: UpstreamRegistry,
    private readonly protection: PayerProtection,
    private readonly runtime: MessagingRuntime,
    private readonly status: PaymentStatusStore,
    private readonly logger: PinoLogger,
  ) {
    this.replay = new RedisReplayStore(runtime.redis, 'ingest-jti');
    this.logger.setContext('submit-payment');
  }

  /** Step 1 (before idempotency): who signed it, and is it authentic and fresh? */
  async authenticate(jws: string): Promise<{ ok: true; value: VerifiedSubmission } | { ok: false; result: PaymentRefusal }> {
    const upstream = this.upstreams.forToken(jws);
    if (!upstream) return { ok: false, result: { kind: 'REJECTED', reason: 'unknown_upstream', detail: 'the JWS kid is not registered to any upstream', field: 'kid' } };
    let verified;
    try {
      verified = await upstream.submissions.verify(jws);
    } catch (err) {
      if (err instanceof CryptoError) {
        if (err.reason === 'freshness' || err.reason === 'expired') {
          return { ok: false, result: { kind: 'REJECTED', reason: 'stale', detail: `iat must be within ${this.config.freshnessWindowS} s of now`, field: 'iat', upstreamId: upstream.id } };
        }
        return { ok: false, result: { kind: 'REJECTED', reason: 'signature_invalid', detail: 'the JWS signature, algorithm or header is not acceptable', upstreamId: upstream.id } };
      }
      throw err;
    }
    const claims = SignedSubmissionClaimsSchema.safeParse(verified.payload);
    if (!claims.success) {
      const issue = claims.error.issues[0];
      const reference = (verified.payload as { payment?: { upstream_reference?: unknown } }).payment?.upstream_reference;
      return {
        ok: false,
        result: {
          kind: 'REJECTED',
          reason: 'schema_invalid',
          detail: issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid payment',
          field: issue ? issue.path.join('.') : undefined,
          upstreamId: upstream.id,
          upstreamReference: typeof reference === 'string' ? reference : undefined,
        },
      };
    }
    return { ok: true, value: { upstream, claims: claims.data, kid: verified.kid, alg: verified.alg } };
  }

  /** Step 2 (inside the idempotency claim): replay guard, card checks, protection, publish. */
  async accept(submission: VerifiedSubmission, traceparent?: string): Promise<SubmitPaymentResult> {
    const { upstream, claims } = submission;
    const payment = claims.payment;
    const base = { upstreamId: upstream.id, upstreamReference: payment.upstream_reference };
    if (payment.payer.type === 'card' && !luhnValid(payment.payer.card.number)) {
      return { kind: 'REJECTED', reason: 'schema_invalid', detail: 'card number fails the Luhn check', field: 'payment.payer.card.number', ...base };
    }
    if (!(await this.replay.claimOnce(`${upstream.id}:${claims.jti}`, this.config.freshnessWindowS * 2 + 60))) {
      return { kind: 'REJECTED', reason: 'replayed', detail: 'this jti was already used', field: 'jti', ...base };
    }
    const paymentId = uuidv7();
    const acceptedAt = new Date().toISOString();
    const accepted: PaymentAccepted = {
      payment_id: paymentId,
      upstream_id: upstream.id,
      upstream_reference: payment.upstream_reference,
      accepted_at: acceptedAt,
      amount: payment.amount,
      payer: await this.protection.protect(payment.payer),
      payee: payment.payee,
      description: payment.description,
      context: payment.context,
      upstream_verification: { kid: submission.kid, alg: submission.alg, jti: claims.jti, iat: claims.iat },
    };
    // status first: a GET right after the 202 must find the payment
    await this.status.recordAccepted({ paymentId, upstreamId: upstream.id, upstreamReference: payment.upstream_reference, at: acceptedAt });
    await this.runtime.producer.publish(TOPICS.paymentsAccepted, accepted, {
      key: accepted.payer.fingerprint,
      correlationId: paymentId,
      eventId: `${paymentId}:accepted`,
      subject: paymentId,
      traceparent,
    });
    this.logger.info({ payment_id: paymentId, upstream_id: upstream.id }, 'payment accepted');
    return { kind: 'ACCEPTED', paymentId, acceptedAt, ...base };
  }
}

