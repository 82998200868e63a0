// One valid example message per topic: shown in docs/asyncapi.yaml (where the AsyncAPI parser checks it against
// the generated JSON Schema) and parsed with the zod schema in the unit tests, so both agree on a real message.
import { z } from 'zod';
import { TOPICS, TopicKey } from '../topics/topics';

export type ExamplePayloads = { readonly [K in TopicKey]: z.input<(typeof TOPICS)[K]['schema']> };

const PAYMENT_ID = '01933b6e-8f2a-7c41-9d5e-3b0f6a2c8e17';
const BATCH_ID = 'batch-m-4711-EUR-20250301T1000Z';
const FINGERPRINT = 'fp_6b1f0c2e9a7d4e3b8c5a1f0e';
const JWS = 'eyJhbGciOiJFUzI1NiIsImtpZCI6InBheXJhaWwtc2lnbmluZy0yMDI1LTAzIn0.eyJwYXltZW50X2lkIjoiMDE5MzNiNmUifQ.c2lnbmF0dXJl';

export const EXAMPLE_PAYLOADS: ExamplePayloads = {
  paymentsInbound: {
    // a JWE (header: alg ECDH-ES+A256KW, enc A256GCM, cty payrail-payment+jws, kid), shortened: the real one carries epk
    jwe: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00iLCJjdHkiOiJwYXlyYWlsLXBheW1lbnQrandzIiwia2lkIjoicGF5cmFpbC1pbmJvdW5kLTIwMjUtMDMifQ.ZW5jcnlwdGVkLWtleQ.aXYtOTZiaXQ.Y2lwaGVydGV4dA.dGFn',
    idempotency_key: 'acme-order-100231',
  },
  paymentsAccepted: {
    payment_id: PAYMENT_ID,
    upstream_id: 'acme',
    upstream_reference: 'order-100231',
    accepted_at: '2025-03-01T09:15:02.114Z',
    amount: { minor: '1050', currency: 'EUR' },
    payer: {
      type: 'card',
      fingerprint: FINGERPRINT,
      masked: '4111********1111',
      bin: '4111',
      country: 'DE',
      expiry: '2027-09',
      protected_jwe: 'eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSJ9..aXY.Y2lwaGVydGV4dA.dGFn',
    },
    payee: { merchant_id: 'm-4711', mcc: '5411', country: 'DE' },
    description: 'Order 100231',
    context: { ip: '203.0.113.7', country: 'DE' },
    upstream_verification: { kid: 'acme-2025', alg: 'ES256', jti: '7f3c9e2a-41d0-4b8e-9a51-0c2d7e6f1b93', iat: 1740820501 },
  },
  paymentsSigned: { payment_id: PAYMENT_ID, kid: 'payrail-signing-2025-03', instruction_jws: JWS },
  paymentsScreened: {
    payment_id: PAYMENT_ID,
    merchant_id: 'm-4711',
    amount: { minor: '1050', currency: 'EUR' },
    decision: 'APPROVE',
    score: 12,
    reasons: [{ rule: 'velocity.payer.1h', score: 12, observed: { count: 3, window: '1h' } }],
    ruleset_version: '2025.03.1',
    screened_at: '2025-03-01T09:15:02.388Z',
    instruction_jws: JWS,
  },
  paymentsSettled: {
    payment_id: PAYMENT_ID,
    merchant_id: 'm-4711',
    amount: { minor: '1050', currency: 'EUR' },
    fee: { minor: '26', currency: 'EUR' },
    net: { minor: '1024', currency: 'EUR' },
    posted_at: '2025-03-01T09:15:02.501Z',
    batch_id: BATCH_ID,
  },
  paymentsRejected: {
    upstream_id: 'acme',
    upstream_reference: 'order-100232',
    idempotency_key: 'acme-order-100232',
    reason: 'stale',
    detail: 'iat is 612 s old; the limit is 300 s',
    rejected_at: '2025-03-01T09:16:40.002Z',
    channel: 'kafka',
  },
  settlementBatchReports: {
    batch_id: BATCH_ID,
    merchant_id: 'm-4711',
    currency: 'EUR',
    opened_at: '2025-03-01T09:00:00Z',
    closed_at: '2025-03-01T10:00:00Z',
    close_reason: 'cutoff',
    payment_count: 1,
    gross: { minor: '1050', currency: 'EUR' },
    fees: { minor: '26', currency: 'EUR' },
    net: { minor: '1024', currency: 'EUR' },
    payment_ids: [PAYMENT_ID],
  },
  settlementBatches: { batch_id: BATCH_ID, merchant_id: 'm-4711', kid: 'payrail-signing-2025-03', report_jws: JWS },
  securityAlerts: {
    alert: 'signature_invalid',
    service: 'fraud-check',
    payment_id: PAYMENT_ID,
    kid: 'payrail-signing-2025-03',
    detail: 'instruction JWS does not verify with kid payrail-signing-2025-03',
    raised_at: '2025-03-01T09:15:02.390Z',
  },
  fraudBlocklist: {
    entry_id: 'ip:203.0.113.7',
    list: 'ip',
    value: '203.0.113.7',
    change: 'put',
    reason: 'card testing from this address',
    changed_by: 'ops.jane',
    changed_at: '2025-03-01T09:20:00.000Z',
    request_id: '5c1d7e2a-9b3f-4e61-8d2a-7f0b1c3e4d5a',
  },
  operatorAudit: {
    service: 'fraud-check',
    request_id: '5c1d7e2a-9b3f-4e61-8d2a-7f0b1c3e4d5a',
    at: '2025-03-01T09:20:00.000Z',
    operator: 'ops.jane',
    role: 'write',
    action: 'blocklist.add',
    target: 'ip:203.0.113.7',
    outcome: 'created',
    detail: 'card testing from this address',
  },
};

/** The message key each example would be produced with (see each topic's `key`). */
export const EXAMPLE_KEYS: { readonly [K in TopicKey]: string } = {
  paymentsInbound: 'order-100231',
  paymentsAccepted: FINGERPRINT,
  paymentsSigned: FINGERPRINT,
  paymentsScreened: 'm-4711',
  paymentsSettled: 'm-4711',
  paymentsRejected: 'acme',
  settlementBatchReports: 'm-4711',
  settlementBatches: 'm-4711',
  securityAlerts: PAYMENT_ID,
  fraudBlocklist: 'ip:203.0.113.7',
  operatorAudit: 'fraud-check',
};

export const EXAMPLE_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
