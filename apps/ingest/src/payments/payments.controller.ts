import { Body, Controller, Get, Headers, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_BASE, ProblemException } from '@payrail/platform';
import { RequestAuthenticator } from '../upstreams/request-authenticator';
import { PaymentStatusStore, PaymentStatusView } from '../status/payment-status.store';
import { IdempotencyStore, StoredResponse, bodyHash } from './idempotency.store';
import { SubmitPaymentResult, SubmitPaymentUseCase } from './submit-payment.use-case';

const PROBLEMS: Record<Exclude<SubmitPaymentResult, { kind: 'ACCEPTED' }>['reason'], { status: number; title: string }> = {
  unknown_upstream: { status: 401, title: 'Unknown upstream key' },
  signature_invalid: { status: 401, title: 'Invalid signature' },
  stale: { status: 401, title: 'Stale request' },
  replayed: { status: 409, title: 'Replayed request' },
  schema_invalid: { status: 422, title: 'Invalid payment' },
  idempotency_conflict: { status: 409, title: 'Idempotency-Key reused with a different body' },
  rate_limited: { status: 429, title: 'Rate limit exceeded' },
  too_large: { status: 413, title: 'Body too large' },
  undecodable: { status: 400, title: 'Undecodable body' },
};

/** Thin HTTP adapter: parse, call the use case, map its typed result to 202 or RFC 9457 problem+json. */
@Controller('v1/payments')
export class PaymentsController {
  constructor(
    private readonly submitPayment: SubmitPaymentUseCase,
    private readonly requests: RequestAuthenticator,
    private readonly idempotency: IdempotencyStore,
    private readonly status: PaymentStatusStore,
  ) {}

  @Post()
  @HttpCode(202)
  async submit(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('traceparent') traceparent: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!contentType?.startsWith('application/jose') || typeof body !== 'string') {
      throw new ProblemException(415, 'unsupported-media-type', 'Unsupported media type', 'send the payment as a compact JWS with Content-Type: application/jose', { errors: [{ pointer: '#/headers/content-type', detail: 'must be application/jose' }] });
    }
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
      throw new ProblemException(400, 'invalid-idempotency-key', 'Invalid Idempotency-Key', 'Idempotency-Key must be 1 to 255 characters', { errors: [{ pointer: '#/headers/idempotency-key', detail: 'must be 1-255 characters' }] });
    }
    const jws = body.trim();
    const auth = await this.submitPayment.authenticate(jws);
    if (!auth.ok) return send(reply, toResponse(auth.result));
    const upstreamId = auth.value.upstream.id;

    if (idempotencyKey === undefined) return send(reply, toResponse(await this.submitPayment.accept(auth.value, traceparent)));

    const outcome = await this.idempotency.runOnce(upstreamId, idempotencyKey, bodyHash(jws), async () => toResponse(await this.submitPayment.accept(auth.value, traceparent)));
    switch (outcome.kind) {
      case 'FRESH':
      case 'REPLAY':
        return send(reply, outcome.response);
      case 'CONFLICT':
        return send(reply, toResponse({ kind: 'REJECTED', reason: 'idempotency_conflict', detail: 'this Idempotency-Key was first used with a different body', field: 'Idempotency-Key' }));
      case 'IN_PROGRESS':
        return send(reply, { status: 409, headers: { 'content-type': 'application/problem+json', 'retry-after': '1' }, body: JSON.stringify({ type: `${PROBLEM_BASE}idempotency-in-progress`, title: 'Request in progress', status: 409, detail: 'a request with this Idempotency-Key is still being processed; retry shortly' }) });
    }
  }

  @Get(':paymentId')
  async find(@Param('paymentId') paymentId: string, @Req() request: FastifyRequest, @Headers('authorization') authorization: string | undefined): Promise<PaymentStatusView> {
    const path = request.url.split('?')[0] ?? request.url;
    const upstreamId = await this.requests.authenticate(authorization, 'GET', path);
    if (!upstreamId) {
      throw new ProblemException(401, 'unauthenticated', 'Authentication required', 'send Authorization: Payrail-JWS <JWS over {htm, htu, iat}> signed with a registered upstream key', {}, { 'www-authenticate': 'Payrail-JWS' });
    }
    const found = /^[0-9a-f-]{36}$/.test(paymentId) ? await this.status.find(paymentId) : undefined;
    // another upstream's payment is indistinguishable from a missing one
    if (!found || found.upstreamId !== upstreamId) throw new ProblemException(404, 'payment-not-found', 'Payment not found', `no payment ${paymentId} for this upstream`);
    return found.view;
  }
}

function toResponse(result: SubmitPaymentResult): StoredResponse {
  if (result.kind === 'ACCEPTED') {
    const location = `/v1/payments/${result.paymentId}`;
    return {
      status: 202,
      headers: { 'content-type': 'application/json; charset=utf-8', location },
      body: JSON.stringify({ payment_id: result.paymentId, status: 'accepted', upstream_reference: result.upstreamReference, accepted_at: result.acceptedAt, links: { self: location } }),
    };
  }
  const problem = PROBLEMS[result.reason];
  const body: Record<string, unknown> = { type: `${PROBLEM_BASE}${result.reason.replace(/_/g, '-')}`, title: problem.title, status: problem.status, detail: result.detail };
  if (result.field) body['errors'] = [{ pointer: `#/${result.field.replace(/\./g, '/')}`, detail: result.detail }];
  if (result.upstreamReference) body['upstream_reference'] = result.upstreamReference;
  return { status: problem.status, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify(body) };
}

function send(reply: FastifyReply, response: StoredResponse): void {
  void reply.status(response.status).headers(response.headers).send(response.body);
}
