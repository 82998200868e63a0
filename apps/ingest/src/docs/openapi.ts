// The OpenAPI 3.1 document of ingest's HTTP API, generated from the code: request and response bodies from the
// zod schemas (the contracts' SignedSubmissionClaimsSchema, the status view, the problem shape), the error
// responses from the problem catalogue (problems.ts). Committed as docs/openapi/ingest.json; a test keeps the
// two equal and checks that every route the controllers declare is documented.
import { z } from 'zod';
import { INBOUND_JWKS_PATH, SIGNED_PAYMENT_JWS_TYPE, SIGNED_REQUEST_JWS_TYPE, SignedSubmissionClaimsSchema } from '@payrail/contracts';
import { PaymentStatusViewSchema } from '../status/payment-status.store';
import { DETACHED_SIGNATURE_HEADER, PaymentAcceptedResponseSchema } from '../payments/payments.controller';
import { ProblemSchema, ProblemSpec, STATUS_PROBLEMS, SUBMISSION_PROBLEMS } from '../payments/problems';

export const OPENAPI_DOCUMENT_PATH = 'docs/openapi/ingest.json';

type Json = Record<string, unknown>;

/** JSON Schema of what travels on the wire: the input side of schemas that parse (amounts as strings or integers). */
function schema(s: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, target: 'draft-2020-12' }) as Json;
  return rest;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** One response per HTTP status, listing every problem type that answers with it. */
function problemResponses(catalogue: Record<string, ProblemSpec>): Record<string, Json> {
  const byStatus = new Map<number, [string, ProblemSpec][]>();
  for (const [slug, spec] of Object.entries(catalogue)) byStatus.set(spec.status, [...(byStatus.get(spec.status) ?? []), [slug, spec]]);
  const out: Record<string, Json> = {};
  for (const [status, entries] of [...byStatus].sort(([a], [b]) => a - b)) {
    const response: Json = {
      description: entries.map(([slug, spec]) => `\`${slug}\` (${spec.title}): ${spec.when}.`).join(' '),
      content: {
        'application/problem+json': {
          schema: ref('Problem'),
          examples: Object.fromEntries(entries.map(([slug, spec]) => [slug, { value: { type: `https://payrail.dev/problems/${slug}`, title: spec.title, status, detail: spec.when } }])),
        },
      },
    };
    if (status === 429 || entries.some(([slug]) => slug === 'idempotency-in-progress')) {
      response['headers'] = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } } };
    }
    out[String(status)] = response;
  }
  out['500'] = { description: 'Unexpected failure (logged); nothing was accepted.', content: { 'application/problem+json': { schema: ref('Problem') } } };
  return out;
}

export function buildOpenApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Payrail ingest',
      version: '1.0.0',
      description:
        'Upstreams submit payments signed with their registered key (JWS, ES256/EdDSA/PS256) and read their status. ' +
        'Every error is RFC 9457 application/problem+json naming what failed. See docs/upstreams.md.',
    },
    paths: {
      '/v1/payments': {
        post: {
          operationId: 'submitPayment',
          summary: 'Submit a signed payment',
          description:
            'The body is a compact JWS (`application/jose`) whose payload is `SignedPaymentClaims`, or the claims as JSON ' +
            `(\`application/json\`) with their detached JWS (RFC 7515 Appendix F, \`<protected>..<signature>\`) in ${DETACHED_SIGNATURE_HEADER}. ` +
            `Checks, before anything is verified: the client address's throttle (429). Then: typ \`${SIGNED_PAYMENT_JWS_TYPE}\` in the protected header (required), ` +
            "the kid names a registered key of the upstream, alg on its allowlist, signature; iat within the freshness window; " +
            "the upstream's rate limit; Idempotency-Key; jti never used before; schema (amounts in integer minor units, ISO 4217); Luhn.",
          parameters: [
            { name: 'Idempotency-Key', in: 'header', required: false, description: 'Same key and same payment within 24 h: the same answer, byte for byte. Same key, another payment: 409.', schema: { type: 'string', minLength: 1, maxLength: 255 } },
            { name: 'X-JWS-Signature', in: 'header', required: false, description: 'Detached JWS of an application/json body (required with JSON bodies).', schema: { type: 'string' } },
            { name: 'traceparent', in: 'header', required: false, description: 'W3C trace context, carried on to the events.', schema: { type: 'string' } },
          ],
          requestBody: {
            required: true,
            content: {
              'application/jose': { schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', description: 'Compact JWS; payload: SignedPaymentClaims.' } },
              'application/json': { schema: ref('SignedPaymentClaims') },
            },
          },
          responses: {
            '202': {
              description: 'Accepted: the payment is on its way; follow it at Location.',
              headers: { Location: { description: '/v1/payments/{payment_id}', schema: { type: 'string' } } },
              content: { 'application/json': { schema: ref('PaymentAccepted') } },
            },
            ...problemResponses(SUBMISSION_PROBLEMS),
          },
        },
      },
      '/v1/payments/{paymentId}': {
        get: {
          operationId: 'getPayment',
          summary: "A payment's current state and history",
          description: 'Only for the upstream that submitted it; any other upstream gets 404, as for a payment that does not exist.',
          security: [{ PayrailJWS: [] }],
          parameters: [{ name: 'paymentId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: {
            '200': { description: 'The payment.', content: { 'application/json': { schema: ref('PaymentStatus') } } },
            ...problemResponses(STATUS_PROBLEMS),
          },
        },
      },
      [INBOUND_JWKS_PATH]: {
        get: {
          operationId: 'getInboundJwks',
          summary: "The key to encrypt inbound-topic payments to",
          description:
            "Public JWKS of ingest's active inbound encryption key (ECDH-ES+A256KW): an upstream publishing to payrail.payments.inbound.v1 encrypts its signed payment (compact JWS) to it as a compact JWE (A256GCM, cty payrail-payment+jws, this kid). Public; cache it for up to 5 minutes. See docs/upstreams.md.",
          responses: {
            '200': {
              description: 'One public encryption key (kty, crv, x, y, kid, use enc, alg).',
              content: { 'application/jwk-set+json': { schema: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: { type: 'object' } } } } } },
            },
          },
        },
      },
      '/health/live': { get: { operationId: 'live', summary: 'Liveness', tags: ['operations'], responses: { '200': { description: 'Alive.' }, '503': { description: 'A consumer crashed.' } } } },
      '/health/ready': { get: { operationId: 'ready', summary: 'Readiness', tags: ['operations'], responses: { '200': { description: 'Ready: Redis, producer and consumers up.' }, '503': { description: 'Not ready.' } } } },
    },
    components: {
      securitySchemes: {
        PayrailJWS: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: `\`Payrail-JWS <compact JWS over {"htm":"GET","htu":"/v1/payments/{id}","iat":<now>}>\` signed with a registered key of the upstream, typ \`${SIGNED_REQUEST_JWS_TYPE}\` in its protected header (required); fresh for 60 s.`,
        },
      },
      schemas: {
        SignedPaymentClaims: schema(SignedSubmissionClaimsSchema, 'input'),
        PaymentAccepted: schema(PaymentAcceptedResponseSchema, 'input'),
        PaymentStatus: schema(PaymentStatusViewSchema, 'input'),
        Problem: schema(ProblemSchema, 'input'),
      },
    },
  };
}

/** The document as committed: stable key order from construction, two-space indentation, final newline. */
export function renderOpenApiJson(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
