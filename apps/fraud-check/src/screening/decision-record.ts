// The stored fraud decision of one payment (`fraud:decision:{paymentId}`): written once (SET NX), the first decision
// wins. A REVIEW or DECLINE record never expires: a signed instruction redelivered, or replayed from the dead-letter
// topic, at any later time must meet the same decision, never a fresh automatic APPROVE of a payment an analyst
// holds or Payrail refused. Only APPROVE records expire: settlement posts a payment once by its own exactly-once
// check, so screening an approved payment again cannot post it twice.
import type { PaymentScreened } from '@payrail/contracts';
import type { Redis } from '@payrail/messaging';

export const decisionKey = (paymentId: string) => `fraud:decision:{${paymentId}}`;

/** How long an APPROVE record is kept. */
export const DECISION_TTL_S = 30 * 86_400;

/** The TTL of a decision record in seconds, or undefined when the decision is final for the life of the payment. */
export function decisionTtlS(decision: PaymentScreened['decision']): number | undefined {
  return decision === 'APPROVE' ? DECISION_TTL_S : undefined;
}

/**
 * The TTL of a decision record put back after a Redis loss (recovery/decision-restore.ts): what is left of the policy
 * counted from when the payment was screened, undefined when final, 'expired' when an APPROVE record would already
 * have expired (a redelivery then meets what it would have met without the loss: a fresh screening).
 */
export function restoredDecisionTtlS(decision: PaymentScreened['decision'], screenedAt: string, nowMs: number): number | undefined | 'expired' {
  const ttlS = decisionTtlS(decision);
  if (ttlS === undefined) return undefined;
  const screenedMs = Date.parse(screenedAt);
  const leftS = Number.isNaN(screenedMs) ? ttlS : ttlS - Math.floor((nowMs - screenedMs) / 1000);
  return leftS > 0 ? Math.min(leftS, ttlS) : 'expired';
}

/**
 * Stores the decision unless the payment has one (SET NX): resolves to the decision stored (this one, or the one
 * already there, with this one's instruction JWS) and whether it was this one.
 */
export async function storeDecisionOnce(redis: Redis, screened: PaymentScreened, ttlS: number | undefined): Promise<{ stored: PaymentScreened; won: boolean }> {
  const key = decisionKey(screened.payment_id);
  const record = toDecisionRecord(screened);
  const set = ttlS === undefined ? await redis.set(key, record, 'NX') : await redis.set(key, record, 'EX', ttlS, 'NX');
  if (set === 'OK') return { stored: screened, won: true };
  const winner = await redis.get(key);
  return winner ? { stored: fromDecisionRecord(winner, screened), won: false } : { stored: screened, won: true };
}

/**
 * The stored decision leaves out the signed instruction: every redelivery carries the same JWS, so it is put back
 * from the message (about a third of the size, which matters for records kept for good).
 */
export function toDecisionRecord(screened: PaymentScreened): string {
  // nor the seal: a decision is sealed each time it is published (screened.publisher.ts)
  const { instruction_jws: _jws, seal: _seal, ...record } = screened;
  return JSON.stringify(record);
}

export function fromDecisionRecord(record: string, carrier: { instruction_jws: string }): PaymentScreened {
  return { ...(JSON.parse(record) as Omit<PaymentScreened, 'instruction_jws'>), instruction_jws: carrier.instruction_jws };
}
