// The payment id of an upstream request, derived from what identifies the request rather than drawn at random, so
// that a retry maps to the same payment whatever Redis has lost (docs/upstreams.md, "One request, one payment"):
//   - with an Idempotency-Key: the upstream and its key (a retry may be signed again, with a new jti: same id);
//   - without one: the upstream and the token's jti (only the very same signed token is the same request).
// Every downstream exactly-once check is keyed by the payment id (signing's event id, fraud-check's decision
// record, the ledger's posting), so a request that ingest accepts twice after a Redis loss collapses into one
// payment there.
//
// Format: an RFC 9562 UUID version 8 (custom) whose 122 free bits are the first bits of the SHA-256 of the JSON
// array ["payrail.payment-id.v1", upstream, kind, value] (JSON: no two inputs share an encoding). Unpredictable
// to anyone who does not know the upstream's Idempotency-Key or jti; not time-ordered (nothing orders by it).
import { createHash } from 'node:crypto';

export type PaymentIdSource = { idempotencyKey: string } | { jti: string };

export function paymentIdFor(upstreamId: string, source: PaymentIdSource): string {
  const [kind, value] = 'idempotencyKey' in source ? ['idempotency-key', source.idempotencyKey] : ['jti', source.jti];
  const bytes = createHash('sha256').update(JSON.stringify(['payrail.payment-id.v1', upstreamId, kind, value])).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10 (RFC 9562)
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
