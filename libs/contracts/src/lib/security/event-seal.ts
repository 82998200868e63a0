import { z } from 'zod';

/**
 * The producing service's seal over an event it hands to another service (schema version 1 of the member): a
 * detached JWS (RFC 7515 Appendix F, `header..signature`, ES256 or EdDSA) with the producer's own sealing key over the
 * RFC 8785 canonical JSON of the event as its contract reads it, without `seal`. The `typ` header names the kind of
 * event, so a seal never passes for another kind. Optional in the schema only so that a consumer can tell an unsealed
 * event apart and raise a security alert for it: every consumer refuses (dead-letters) an event without a seal that
 * verifies with its producer's published sealing keys.
 */
export const EventSealSchema = z
  .string()
  .max(1024)
  .regex(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/, 'must be a detached JWS (header..signature)')
  .describe("The producing service's detached JWS over the event's canonical JSON without `seal` (see docs/security.md, event seals).");

/** The `typ` of each kind of seal: who seals what, for whom. */
export const EVENT_SEAL_TYPES = {
  /** ingest seals each accepted payment; signing signs only what verifies. */
  paymentAccepted: 'payrail-accepted-seal+jws',
  /** fraud-check seals each decision (and an analyst's); settlement posts only what verifies. */
  paymentScreened: 'payrail-decision-seal+jws',
  /** settlement seals each batch report; signing signs only what verifies, a ledger rebuild restores only what verifies. */
  settlementBatchReport: 'payrail-batch-report-seal+jws',
  /** settlement seals each settled event; ingest's status and a ledger rebuild take only what verifies. */
  paymentSettled: 'payrail-settled-seal+jws',
} as const;
