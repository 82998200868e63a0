// One entry of an operators' audit trail (fraud-check's admin API, the console): who did what, when, and how it
// ended, including reads and refused calls. Redis keeps the recent trail for the API and the console page; this
// append-only topic, with long retention, is the durable copy a restart or a Redis loss restores it from.
// No passwords, tokens, cookies, card or account numbers are ever written.
import { z } from 'zod';

export const AuditServiceSchema = z.enum(['fraud-check', 'console']);
export type AuditService = z.infer<typeof AuditServiceSchema>;

export const OperatorAuditEntrySchema = z.object({
  /** Which trail the entry belongs to. */
  service: AuditServiceSchema,
  /** The request that made the entry: one entry per request id and service (a repeat is the same entry). */
  request_id: z.string().min(1).max(128),
  at: z.string().datetime(),
  /** Operator id or username; "anonymous" when the call was not authenticated. */
  operator: z.string().min(1).max(128),
  role: z.string().min(1).max(32),
  /** e.g. blocklist.add, review.decide, session.sign-in */
  action: z.string().min(1).max(64),
  /** What the action was about: a payment id, a blocklist entry, a dead letter, the session. */
  target: z.string().max(256),
  /** created, removed, decided, ok, unauthenticated, forbidden, not_found, conflict, ... */
  outcome: z.string().min(1).max(64),
  detail: z.string().max(1000).optional(),
  /** The client's address (console sign-ins). */
  address: z.string().max(64).optional(),
});

export type OperatorAuditEntry = z.infer<typeof OperatorAuditEntrySchema>;
