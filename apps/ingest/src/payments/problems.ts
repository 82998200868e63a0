// Every way ingest can refuse a request, in one place: the HTTP status and title of its RFC 9457 problem
// (type https://payrail.dev/problems/<slug>), and the reason carried on the rejections topic for Kafka submissions.
// The OpenAPI document lists its responses from this table.
import { z } from 'zod';
import { type RejectionReason, SIGNED_PAYMENT_JWS_TYPE, SIGNED_REQUEST_JWS_TYPE } from '@payrail/contracts';

/** RFC 9457 problem details as ingest writes them (application/problem+json). */
export const ProblemSchema = z.object({
  type: z.url().describe('https://payrail.dev/problems/<slug>; the slugs are listed with each response'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ pointer: z.string().describe('JSON Pointer into the signed claims (#/payment/amount/minor) or #/headers/<name>'), detail: z.string() })).optional(),
  upstream_reference: z.string().optional(),
});

export interface ProblemSpec {
  status: number;
  title: string;
  /** Reason on `payrail.payments.rejected.v1` when the submission came over Kafka. */
  reason?: RejectionReason;
  /** When it happens (OpenAPI descriptions). */
  when: string;
}

export const SUBMISSION_PROBLEMS = {
  'unsupported-media-type': { status: 415, title: 'Unsupported media type', when: 'the body is neither application/jose (compact JWS) nor application/json with X-JWS-Signature' },
  'signature-missing': { status: 401, title: 'Signature missing', reason: 'signature_invalid', when: 'a JSON body came without its detached JWS in X-JWS-Signature' },
  'invalid-idempotency-key': { status: 400, title: 'Invalid Idempotency-Key', when: 'Idempotency-Key is empty, longer than 255 characters or contains a card number' },
  'body-too-large': { status: 413, title: 'Body too large', reason: 'too_large', when: 'the body is over BODY_LIMIT_BYTES (64 KiB by default)' },
  'unknown-key': { status: 401, title: 'Unknown signing key', reason: 'unknown_upstream', when: 'the kid in the protected header is not registered to any upstream (or its key is retired)' },
  'algorithm-not-allowed': { status: 401, title: 'Signature algorithm not allowed', reason: 'signature_invalid', when: "alg is not on the upstream's allowlist or is not the algorithm of the key its kid names" },
  'signature-invalid': { status: 401, title: 'Invalid signature', reason: 'signature_invalid', when: 'the JWS is malformed or its signature does not verify with the registered key' },
  'typ-invalid': { status: 401, title: 'Wrong token type', reason: 'signature_invalid', when: `the protected header has no typ, or typ is not ${SIGNED_PAYMENT_JWS_TYPE} (e.g. a read token sent as a payment); errors[].pointer is #/protected/typ` },
  stale: { status: 401, title: 'Stale request', reason: 'stale', when: 'iat is older than the freshness window (300 s by default, plus 30 s clock skew)' },
  'iat-in-future': { status: 401, title: 'Issued in the future', reason: 'stale', when: 'iat is more than 30 s ahead of our clock' },
  'merchant-not-allowed': { status: 403, title: 'Merchant not allowed', reason: 'merchant_not_allowed', when: "payee.merchant_id is not one of the merchants the upstream's registration lists (errors[].detail names it)" },
  'schema-invalid': { status: 422, title: 'Invalid payment', reason: 'schema_invalid', when: 'the signed claims do not match the payment schema; errors[].pointer names each field' },
  'rate-limited': {
    status: 429,
    title: 'Rate limit exceeded',
    reason: 'rate_limited',
    when: "over the upstream's registered rate, or (before any signature is checked) the client address is over CLIENT_RATE_LIMIT_PER_S requests or CLIENT_AUTH_FAILURE_LIMIT_PER_S failed authentications per second; Retry-After says when to retry",
  },
  replayed: { status: 409, title: 'Replayed request', reason: 'replayed', when: 'this jti was already used by the upstream' },
  'idempotency-conflict': { status: 409, title: 'Idempotency-Key reused with a different payment', reason: 'idempotency_conflict', when: 'the Idempotency-Key was first used with another payment' },
  'idempotency-in-progress': { status: 409, title: 'Request in progress', when: 'a request with this Idempotency-Key is still being processed (Retry-After: 1)' },
} as const satisfies Record<string, ProblemSpec>;

export type SubmissionProblem = keyof typeof SUBMISSION_PROBLEMS;

/** The rejections topic's reason for a refused Kafka submission. */
export function rejectionReason(problem: SubmissionProblem): RejectionReason {
  const spec: ProblemSpec = SUBMISSION_PROBLEMS[problem];
  return spec.reason ?? 'undecodable';
}

export const STATUS_PROBLEMS = {
  unauthenticated: { status: 401, title: 'Authentication required', when: `Authorization: Payrail-JWS is missing, invalid, stale, signed for another method or path, or its protected header has no typ ${SIGNED_REQUEST_JWS_TYPE} (detail and errors[] say which)` },
  'rate-limited': { status: 429, title: 'Rate limit exceeded', when: 'the client address is over CLIENT_RATE_LIMIT_PER_S requests or CLIENT_AUTH_FAILURE_LIMIT_PER_S failed authentications per second (checked before the signature; Retry-After says when to retry)' },
  'payment-not-found': { status: 404, title: 'Payment not found', when: 'no such payment for this upstream (another upstream\'s payment answers the same)' },
} as const satisfies Record<string, ProblemSpec>;

export type StatusProblem = keyof typeof STATUS_PROBLEMS;
