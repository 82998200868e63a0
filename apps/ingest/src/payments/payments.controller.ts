import { Body, Controller, Get, Headers, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CARD_NUMBER_IN_TEXT, PaymentIdSchema, SIGNED_REQUEST_JWS_TYPE, containsCardNumber } from '@payrail/contracts';
import type { IngestThrottledRoute } from '@payrail/messaging';
import { ClientThrottle, PROBLEM_BASE, ProblemException } from '@payrail/platform';
import { RequestAuthenticator } from '../upstreams/request-authenticator';
import { PaymentStatusStore, PaymentStatusView } from '../status/payment-status.store';
import { STATUS_PROBLEMS, SUBMISSION_PROBLEMS, SubmissionProblem } from './problems';
import { SignedSubmission, SubmitPaymentResult, SubmitPaymentUseCase } from './submit-payment.use-case';

/** 202 Accepted. */
export const PaymentAcceptedResponseSchema = z.object({
  payment_id: PaymentIdSchema,
  status: z.literal('accepted'),
  upstream_reference: z.string(),
  accepted_at: z.iso.datetime({ offset: true }),
  links: z.object({ self: z.string() }),
});

/** Header carrying the detached JWS (RFC 7515 Appendix F) of a JSON body: `<protected>..<signature>`. */
export const DETACHED_SIGNATURE_HEADER = 'x-jws-signature';

/** Thin HTTP adapter: parse, call the use case, render its typed result as 202 or RFC 9457 problem+json. */
@Controller('v1/payments')
export class PaymentsController {
  constructor(
    private readonly submitPayment: SubmitPaymentUseCase,
    private readonly requests: RequestAuthenticator,
    private readonly status: PaymentStatusStore,
    private readonly throttle: ClientThrottle<IngestThrottledRoute>,
  ) {}

  @Post()
  async submit(
    @Req() request: FastifyRequest,
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Headers(DETACHED_SIGNATURE_HEADER) detachedSignature: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('traceparent') traceparent: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // before anything is verified: a verify costs CPU, and anyone can send junk signatures
    this.throttle.admitOrThrow(request.ip, 'submit');
    const submission = parseSubmission(contentType, body, detachedSignature);
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
      throw problem('invalid-idempotency-key', 'Idempotency-Key must be 1 to 255 characters', [{ pointer: '#/headers/idempotency-key', detail: 'must be 1-255 characters' }]);
    }
    if (idempotencyKey !== undefined && containsCardNumber(idempotencyKey)) {
      throw problem('invalid-idempotency-key', `Idempotency-Key ${CARD_NUMBER_IN_TEXT}`, [{ pointer: '#/headers/idempotency-key', detail: CARD_NUMBER_IN_TEXT }]);
    }
    const result = await this.submitPayment.execute({ submission, channel: 'http', idempotencyKey, traceparent });
    if (result.kind === 'REJECTED' && SUBMISSION_PROBLEMS[result.problem].status === 401) this.throttle.failedAuthentication(request.ip);
    const response = renderSubmission(result);
    void reply.status(response.status).headers(response.headers).send(response.body);
  }

  @Get(':paymentId')
  async find(@Param('paymentId') paymentId: string, @Req() request: FastifyRequest, @Headers('authorization') authorization: string | undefined): Promise<PaymentStatusView> {
    this.throttle.admitOrThrow(request.ip, 'status');
    const path = request.url.split('?')[0] ?? request.url;
    const authenticated = await this.requests.authenticate(authorization, 'GET', path);
    if (!authenticated.ok) {
      this.throttle.failedAuthentication(request.ip);
      const spec = STATUS_PROBLEMS.unauthenticated;
      throw new ProblemException(spec.status, 'unauthenticated', spec.title, `send Authorization: Payrail-JWS <JWS over {htm, htu, iat}, typ ${SIGNED_REQUEST_JWS_TYPE}> signed with a registered upstream key`, { errors: [{ pointer: '#/headers/authorization', detail: authenticated.detail }] }, { 'www-authenticate': 'Payrail-JWS' });
    }
    const { upstreamId } = authenticated;
    const found = /^[0-9a-f-]{36}$/.test(paymentId) ? await this.status.find(paymentId) : undefined;
    // another upstream's payment is indistinguishable from a missing one
    if (!found || found.upstreamId !== upstreamId) {
      const spec = STATUS_PROBLEMS['payment-not-found'];
      throw new ProblemException(spec.status, 'payment-not-found', spec.title, `no payment ${paymentId} for this upstream`);
    }
    return found.view;
  }
}

function parseSubmission(contentType: string | undefined, body: unknown, detachedSignature: string | undefined): SignedSubmission {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/jose' && typeof body === 'string') return { form: 'compact', jws: body.trim() };
  if (mediaType === 'application/json' && Buffer.isBuffer(body)) {
    if (!detachedSignature) throw problem('signature-missing', `a JSON body needs its detached JWS in ${DETACHED_SIGNATURE_HEADER}`, [{ pointer: `#/headers/${DETACHED_SIGNATURE_HEADER}`, detail: 'missing' }]);
    return { form: 'detached', signature: detachedSignature.trim(), body };
  }
  throw problem('unsupported-media-type', 'send the payment as a compact JWS (application/jose), or as JSON (application/json) with X-JWS-Signature', [{ pointer: '#/headers/content-type', detail: 'must be application/jose or application/json' }]);
}

function problem(slug: SubmissionProblem, detail: string, errors: { pointer: string; detail: string }[]): ProblemException {
  const spec = SUBMISSION_PROBLEMS[slug];
  return new ProblemException(spec.status, slug, spec.title, detail, { errors });
}

export interface RenderedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Deterministic: the same result (a stored idempotent one included) always gives the same bytes. */
export function renderSubmission(result: SubmitPaymentResult): RenderedResponse {
  if (result.kind === 'ACCEPTED') {
    const location = `/v1/payments/${result.paymentId}`;
    return {
      status: 202,
      headers: { 'content-type': 'application/json; charset=utf-8', location },
      body: JSON.stringify({
        payment_id: result.paymentId,
        status: 'accepted',
        upstream_reference: result.upstreamReference,
        accepted_at: result.acceptedAt,
        links: { self: location },
      } satisfies z.input<typeof PaymentAcceptedResponseSchema>),
    };
  }
  const spec = SUBMISSION_PROBLEMS[result.problem];
  const body: Record<string, unknown> = { type: `${PROBLEM_BASE}${result.problem}`, title: spec.title, status: spec.status, detail: result.detail };
  if (result.errors) body['errors'] = result.errors;
  if (result.upstreamReference) body['upstream_reference'] = result.upstreamReference;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (result.retryAfterS !== undefined) headers['retry-after'] = String(result.retryAfterS);
  return { status: spec.status, headers, body: JSON.stringify(body) };
}
