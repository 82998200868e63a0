// Accepting one signed payment from an upstream, whatever the channel (HTTP or the inbound topic):
// signature (registered key, algorithm allowlist) -> freshness -> schema and card checks -> merchant binding -> admission (rate limit,
// Idempotency-Key, jti replay: one Redis round trip) -> protection -> status + publish `accepted`.
// Every refusal is a typed result naming what failed; the result of an admitted request is stored for its
// Idempotency-Key so that duplicates get exactly the same answer. The payment id is derived from the request
// (payment-id.ts), so a retry that finds no stored answer (Redis lost it) is accepted as the same payment.
import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { PaymentAccepted, SIGNED_PAYMENT_JWS_TYPE, SignedSubmissionClaims, SignedSubmissionClaimsSchema, containsCardNumber } from '@payrail/contracts';
import { CryptoError, VerifiedJws, canonicalJson, luhnValid } from '@payrail/crypto';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { INGEST_CONFIG, IngestConfig } from '../config';
import { SUBMISSION_CLOCK_SKEW_S, Upstream, UpstreamRegistry, typRefusal } from '../upstreams/upstream-registry';
import { PaymentStatusStore } from '../status/payment-status.store';
import { AdmissionStore, sha256 } from './admission.store';
import { PayerProtection } from './payer-protection';
import { ReplayGuardRecovery } from './replay-guard-recovery';
import { paymentIdFor } from './payment-id';
import { SubmissionProblem } from './problems';
import { AcceptedPublisher } from './accepted.publisher';

/** What an upstream sent: a compact JWS, or a JSON body with its detached JWS (RFC 7515 Appendix F). */
export type SignedSubmission = { form: 'compact'; jws: string } | { form: 'detached'; signature: string; body: Buffer };

export interface SubmitPaymentCommand {
  submission: SignedSubmission;
  channel: 'http' | 'kafka';
  idempotencyKey?: string;
  traceparent?: string;
}

export interface FieldError {
  pointer: string;
  detail: string;
}

export interface PaymentRefusal {
  kind: 'REJECTED';
  problem: SubmissionProblem;
  detail: string;
  errors?: FieldError[];
  upstreamId?: string;
  upstreamReference?: string;
  retryAfterS?: number;
}

export interface PaymentAcceptance {
  kind: 'ACCEPTED';
  paymentId: string;
  upstreamId: string;
  upstreamReference: string;
  acceptedAt: string;
}

/** What may be stored for an Idempotency-Key and given again, byte for byte, to its duplicates. */
export type SubmitPaymentResult = PaymentAcceptance | PaymentRefusal;

interface VerifiedSubmission {
  upstream: Upstream;
  claims: SignedSubmissionClaims;
  kid: string;
  alg: string;
}

/** How long a jti stays claimed: longer than a token can be accepted (freshness window and clock skew both ways). */
export const jtiTtlSeconds = (config: Pick<IngestConfig, 'freshnessWindowS'>): number => config.freshnessWindowS + 2 * SUBMISSION_CLOCK_SKEW_S + 60;

const refuse = (problem: SubmissionProblem, detail: string, extra: Omit<PaymentRefusal, 'kind' | 'problem' | 'detail'> = {}): PaymentRefusal => ({ kind: 'REJECTED', problem, detail, ...extra });

function isStoredResult(value: unknown): value is SubmitPaymentResult {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === 'ACCEPTED' || kind === 'REJECTED';
}

@Injectable()
export class SubmitPaymentUseCase {
  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly upstreams: UpstreamRegistry,
    private readonly protection: PayerProtection,
    private readonly runtime: MessagingRuntime,
    private readonly status: PaymentStatusStore,
    private readonly admissions: AdmissionStore,
    private readonly guard: ReplayGuardRecovery,
    private readonly accepted: AcceptedPublisher,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('submit-payment');
  }

  async execute(command: SubmitPaymentCommand): Promise<SubmitPaymentResult> {
    const verified = await this.verify(command.submission);
    if ('kind' in verified) return verified;
    const { upstream, claims } = verified;
    const base = { upstreamId: upstream.id, upstreamReference: claims.payment.upstream_reference };
    const paymentId = paymentIdFor(upstream.id, command.idempotencyKey === undefined ? { jti: claims.jti } : { idempotencyKey: command.idempotencyKey });

    const request = {
      upstreamId: upstream.id,
      jti: claims.jti,
      jtiTtlSeconds: jtiTtlSeconds(this.config),
      paymentHash: sha256(canonicalJson(claims.payment)),
      requestId: paymentId,
      idempotencyKey: command.idempotencyKey,
      rateLimit: command.channel === 'http' ? upstream.rateLimit : undefined,
      isResult: isStoredResult,
    };
    let admission = await this.admissions.admit(request);
    if (admission.kind === 'UNGUARDED') {
      // Redis lost its data: the replay guard comes back from the accepted topic before anything is admitted
      await this.guard.guard(upstream.id);
      admission = await this.admissions.admit(request);
    }
    switch (admission.kind) {
      case 'UNGUARDED':
        return refuse('idempotency-in-progress', 'the replay guard is being restored; retry shortly', { ...base, retryAfterS: 1 });
      case 'RATE_LIMITED': {
        const retryAfterS = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
        return refuse('rate-limited', `over ${upstream.rateLimit.perSecond} requests per second (burst ${upstream.rateLimit.burst}); retry in ${retryAfterS} s`, { ...base, retryAfterS });
      }
      case 'REPLAYED':
        return refuse('replayed', 'this jti was already used', { ...base, errors: [{ pointer: '#/jti', detail: 'already used' }] });
      case 'CONFLICT':
        return refuse('idempotency-conflict', 'this Idempotency-Key was first used with a different payment', { ...base, errors: [{ pointer: '#/headers/idempotency-key', detail: 'bound to another payment' }] });
      case 'IN_PROGRESS':
        return refuse('idempotency-in-progress', 'a request with this Idempotency-Key is still being processed; retry shortly', { ...base, retryAfterS: 1 });
      case 'DUPLICATE':
        return admission.result;
      case 'ADMITTED':
        break;
    }
    let accepted: PaymentAcceptance;
    try {
      accepted = await this.accept(verified, paymentId, command.traceparent);
    } catch (err) {
      await this.admissions.release(admission.ticket).catch((e: Error) => this.logger.warn({ err: e.message }, 'releasing an admission failed'));
      throw err;
    }
    await this.admissions.complete(admission.ticket, accepted);
    return accepted;
  }

  /** Who signed it, is it authentic, fresh and a valid payment? No state is touched. */
  private async verify(submission: SignedSubmission): Promise<VerifiedSubmission | PaymentRefusal> {
    const token = submission.form === 'compact' ? submission.jws : submission.signature;
    const upstream = this.upstreams.forToken(token);
    if (!upstream) return refuse('unknown-key', 'the kid in the protected header is not registered to any upstream', { errors: [{ pointer: '#/protected/kid', detail: 'not registered' }] });
    let verified: VerifiedJws;
    try {
      verified = submission.form === 'compact' ? await upstream.submissions.verify(token) : await upstream.submissions.verifyDetached(token, submission.body);
    } catch (err) {
      if (err instanceof CryptoError) return this.cryptoRefusal(err, upstream, submission);
      throw err;
    }
    const claims = SignedSubmissionClaimsSchema.safeParse(verified.payload);
    const reference = (verified.payload as { payment?: { upstream_reference?: unknown } } | null)?.payment?.upstream_reference;
    // echoed on the refusal (problem, rejections topic) only when it is a plausible reference without a card number
    const upstreamReference = typeof reference === 'string' && reference.length <= 64 && !containsCardNumber(reference) ? reference : undefined;
    if (!claims.success) {
      const errors = claims.error.issues.slice(0, 20).map((issue) => ({ pointer: `#/${issue.path.map(String).join('/')}`, detail: issue.message }));
      const first = errors[0];
      return refuse('schema-invalid', first ? `${first.pointer.slice(2)}: ${first.detail}` : 'invalid payment', { errors, upstreamId: upstream.id, upstreamReference });
    }
    const payer = claims.data.payment.payer;
    if (payer.type === 'card' && !luhnValid(payer.card.number)) {
      return refuse('schema-invalid', 'payment/payer/card/number: fails the Luhn check', { errors: [{ pointer: '#/payment/payer/card/number', detail: 'fails the Luhn check' }], upstreamId: upstream.id, upstreamReference });
    }
    const merchantId = claims.data.payment.payee.merchant_id;
    if (!upstream.merchants.has(merchantId)) {
      return refuse('merchant-not-allowed', `payment/payee/merchant_id: ${merchantId} is not a merchant this upstream may pay`, { errors: [{ pointer: '#/payment/payee/merchant_id', detail: `${merchantId} is not registered for this upstream` }], upstreamId: upstream.id, upstreamReference });
    }
    return { upstream, claims: claims.data, kid: verified.kid, alg: verified.alg };
  }

  private cryptoRefusal(err: CryptoError, upstream: Upstream, submission: SignedSubmission): PaymentRefusal {
    const upstreamId = upstream.id;
    switch (err.reason) {
      case 'alg':
        return refuse('algorithm-not-allowed', `alg must be one of ${upstream.algorithms.join(', ')} and the algorithm of the key`, { upstreamId, errors: [{ pointer: '#/protected/alg', detail: 'not allowed' }] });
      case 'kid':
      case 'retired':
        return refuse('unknown-key', 'the kid names no usable key of this upstream', { upstreamId, errors: [{ pointer: '#/protected/kid', detail: 'not usable' }] });
      case 'freshness':
      case 'expired': {
        // the signature was checked before the clock, so the iat read here is the upstream's own
        const iat = signedIat(submission);
        if (iat !== undefined && iat > Date.now() / 1000) {
          return refuse('iat-in-future', `iat is more than ${SUBMISSION_CLOCK_SKEW_S} s ahead of our clock`, { upstreamId, errors: [{ pointer: '#/iat', detail: 'in the future' }] });
        }
        return refuse('stale', `iat must be within ${this.config.freshnessWindowS} s of now`, { upstreamId, errors: [{ pointer: '#/iat', detail: iat === undefined ? 'missing' : 'too old' }] });
      }
      case 'typ': {
        const detail = typRefusal(submission.form === 'compact' ? submission.jws : submission.signature, SIGNED_PAYMENT_JWS_TYPE);
        return refuse('typ-invalid', detail, { upstreamId, errors: [{ pointer: '#/protected/typ', detail }] });
      }
      default:
        return refuse('signature-invalid', `the JWS is not acceptable (${err.reason})`, { upstreamId, errors: [{ pointer: err.reason === 'signature' ? '#/signature' : '#/protected', detail: err.reason }] });
    }
  }

  /** Replay guard passed: protect the payer, record the status, publish. Throws only for the unexpected. */
  private async accept(submission: VerifiedSubmission, paymentId: string, traceparent?: string): Promise<PaymentAcceptance> {
    const { upstream, claims } = submission;
    const payment = claims.payment;
    // the status is recorded while the payer is protected (a GET right after the 202 must find the payment); it
    // answers with the first acceptance's time when this request was accepted before (a takeover after a crash)
    const [acceptedAt, payer] = await Promise.all([
      this.status.recordAccepted({ paymentId, upstreamId: upstream.id, upstreamReference: payment.upstream_reference, at: new Date().toISOString() }),
      this.protection.protect(payment.payer),
    ]);
    const accepted: PaymentAccepted = {
      payment_id: paymentId,
      upstream_id: upstream.id,
      upstream_reference: payment.upstream_reference,
      accepted_at: acceptedAt,
      amount: payment.amount,
      payer,
      payee: payment.payee,
      description: payment.description,
      context: payment.context,
      upstream_verification: { kid: submission.kid, alg: submission.alg, jti: claims.jti, iat: claims.iat },
    };
    await this.accepted.publish(this.runtime.producer, accepted, traceparent);
    // debug: the request log already has one line per request; at thousands a second a second line costs CPU
    this.logger.debug({ payment_id: paymentId, upstream_id: upstream.id }, 'payment accepted');
    return { kind: 'ACCEPTED', paymentId, upstreamId: upstream.id, upstreamReference: payment.upstream_reference, acceptedAt };
  }
}

function signedIat(submission: SignedSubmission): number | undefined {
  try {
    const text = submission.form === 'compact' ? Buffer.from(submission.jws.split('.')[1] ?? '', 'base64url').toString('utf8') : submission.body.toString('utf8');
    const iat = (JSON.parse(text) as { iat?: unknown }).iat;
    return typeof iat === 'number' ? iat : undefined;
  } catch {
    return undefined;
  }
}
