// The status read model ingest serves on GET /v1/payments/{id}: one Redis hash per payment, written from the
// accepted/signed/screened/settled events. Every write is an HSET of fields that only depend on the event, so
// redelivered and re-sent writes are no-ops, and the state is derived from which stages are present.
import { z } from 'zod';
import { DecisionSchema, MoneySchema, PaymentIdSchema, PaymentScreened, PaymentSettled, UpstreamReasonCodeSchema, upstreamReasonCodes } from '@payrail/contracts';
import type { Redis } from '@payrail/messaging';

export const PaymentStateSchema = z.enum(['accepted', 'signed', 'approved', 'in_review', 'declined', 'settled']);
export type PaymentState = z.infer<typeof PaymentStateSchema>;

/** GET /v1/payments/{id}: the answer's shape (the OpenAPI document is generated from it). */
export const PaymentStatusViewSchema = z.object({
    payment_id: PaymentIdSchema,
    upstream_reference: z.string(),
    state: PaymentStateSchema,
    final: z.boolean().describe('true once nothing more will happen without an analyst: settled, declined or in_review'),
    history: z.array(z.object({ stage: z.enum(['accepted', 'signed', 'screened', 'reviewed', 'settled']), at: z.iso.datetime({ offset: true }) })),
    decision: z
      .object({
        outcome: DecisionSchema,
        reason_codes: z.array(UpstreamReasonCodeSchema).describe('Stable codes of the kinds of check that fired (docs/upstreams.md); never rules, limits, observed values or who reviewed'),
      })
      .optional(),
    settlement: z.object({ batch_id: z.string(), fee: MoneySchema, net: MoneySchema }).optional(),
  });
export type PaymentStatusView = z.output<typeof PaymentStatusViewSchema>;

const key = (paymentId: string) => `payment:{${paymentId}}`;

/** One stage of one payment: the hash fields it sets (they depend only on the event, so a re-write is a no-op). */
export interface StatusWrite {
  paymentId: string;
  fields: Record<string, string>;
}

export function signedWrite(paymentId: string, at: string): StatusWrite {
  return { paymentId, fields: { signed_at: at } };
}

/** Only what an upstream may see is stored: the outcome and reason codes (no scores, rules, analyst or note). */
export function screenedWrite(paymentId: string, at: string, decision: NonNullable<PaymentStatusView['decision']>, reviewed: boolean): StatusWrite {
  // an analyst's decision on a REVIEW replaces the decision but keeps when the first screening happened
  const fields: Record<string, string> = { decision: JSON.stringify(decision), decided_at: at };
  if (reviewed) fields['reviewed_at'] = at;
  else fields['screened_at'] = at;
  return { paymentId, fields };
}

export function settledWrite(paymentId: string, at: string, settlement: NonNullable<PaymentStatusView['settlement']>): StatusWrite {
  return { paymentId, fields: { settled_at: at, settlement: JSON.stringify(settlement) } };
}

/** What the screened topic says of a payment. */
export function screenedEventWrite(d: PaymentScreened): StatusWrite {
  return screenedWrite(d.payment_id, d.review?.decided_at ?? d.screened_at, upstreamDecision(d), d.review !== undefined);
}

/** What the settled topic says of a payment. */
export function settledEventWrite(d: PaymentSettled): StatusWrite {
  return settledWrite(d.payment_id, d.posted_at, { batch_id: d.batch_id, fee: d.fee, net: d.net });
}

// The acceptance: who and which reference, the first acceptance's time kept (HSETNX), answered back, and the lifetime.
const RECORD_ACCEPTED = `
redis.call('HSET', KEYS[1], 'upstream_id', ARGV[1], 'upstream_reference', ARGV[2])
redis.call('HSETNX', KEYS[1], 'accepted_at', ARGV[3])
local at = redis.call('HGET', KEYS[1], 'accepted_at')
redis.call('EXPIRE', KEYS[1], ARGV[4])
return at
`;

type RedisWithStatusScripts = Redis & { payrailStatusAccepted(key: string, upstreamId: string, upstreamReference: string, at: string, ttlSeconds: number): Promise<string | null> };

export class PaymentStatusStore {
  private readonly redis: RedisWithStatusScripts;

  constructor(
    redis: Redis,
    private readonly ttlSeconds = 30 * 86_400,
  ) {
    // defineCommand: EVALSHA with the script's hash, EVAL once if Redis does not know it yet; the key gets the prefix
    redis.defineCommand('payrailStatusAccepted', { numberOfKeys: 1, lua: RECORD_ACCEPTED });
    this.redis = redis as RedisWithStatusScripts;
  }

  private async write(paymentId: string, fields: Record<string, string>): Promise<void> {
    await this.redis.multi().hset(key(paymentId), fields).expire(key(paymentId), this.ttlSeconds).exec();
  }

  /**
   * Many stage writes in ONE pipeline (one round trip, in the given order: two writes of one payment apply in
   * that order). Each is an HSET of fields that depend only on its event, then EXPIRE: a write applied twice, or
   * re-sent by ioredis after a lost reply, changes nothing. Returns one entry per write: undefined, or its error.
   */
  async writeMany(writes: readonly StatusWrite[]): Promise<(Error | undefined)[]> {
    if (writes.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const w of writes) pipeline.hset(key(w.paymentId), w.fields).expire(key(w.paymentId), this.ttlSeconds);
    const replies = (await pipeline.exec()) ?? [];
    return writes.map((_, i) => {
      const failed = replies[2 * i]?.[0] ?? replies[2 * i + 1]?.[0];
      if (failed) return failed;
      return replies.length === 2 * writes.length ? undefined : new Error('status pipeline aborted');
    });
  }

  /**
   * Records the acceptance and returns its time: the first acceptance's time stays, so a retry accepted again as
   * the same payment (its first attempt died before storing its answer) is told what the first attempt recorded.
   */
  async recordAccepted(p: { paymentId: string; upstreamId: string; upstreamReference: string; at: string }): Promise<string> {
    // one script call (one command on the request path, where a MULTI of four was six), same effect, one key
    const stored = await this.redis.payrailStatusAccepted(key(p.paymentId), p.upstreamId, p.upstreamReference, p.at, this.ttlSeconds);
    return typeof stored === 'string' ? stored : p.at;
  }

  recordSigned(paymentId: string, at: string): Promise<void> {
    const w = signedWrite(paymentId, at);
    return this.write(w.paymentId, w.fields);
  }

  recordScreened(paymentId: string, at: string, decision: NonNullable<PaymentStatusView['decision']>, reviewed: boolean): Promise<void> {
    const w = screenedWrite(paymentId, at, decision, reviewed);
    return this.write(w.paymentId, w.fields);
  }

  recordSettled(paymentId: string, at: string, settlement: NonNullable<PaymentStatusView['settlement']>): Promise<void> {
    const w = settledWrite(paymentId, at, settlement);
    return this.write(w.paymentId, w.fields);
  }

  /** What the screened topic says of a payment (the restore after a Redis loss). */
  recordScreenedEvent(d: PaymentScreened): Promise<void> {
    const w = screenedEventWrite(d);
    return this.write(w.paymentId, w.fields);
  }

  /** What the settled topic says of a payment. */
  recordSettledEvent(d: PaymentSettled): Promise<void> {
    const w = settledEventWrite(d);
    return this.write(w.paymentId, w.fields);
  }

  /** The read model's lifetime in seconds (its keys expire after it). */
  get lifetimeS(): number {
    return this.ttlSeconds;
  }

  /** Returns the view and the submitting upstream (for the ownership check), or undefined. */
  async find(paymentId: string): Promise<{ upstreamId: string; view: PaymentStatusView } | undefined> {
    const h = await this.redis.hgetall(key(paymentId));
    if (!h['accepted_at'] || !h['upstream_id']) return undefined;
    const decision = h['decision'] ? storedDecision(h['decision']) : undefined;
    const settlement = h['settlement'] ? (JSON.parse(h['settlement']) as PaymentStatusView['settlement']) : undefined;
    const stages: [PaymentStatusView['history'][number]['stage'], string | undefined][] = [
      ['accepted', h['accepted_at']],
      ['signed', h['signed_at']],
      ['screened', h['screened_at']],
      ['reviewed', h['reviewed_at']],
      ['settled', h['settled_at']],
    ];
    const history = stages.flatMap(([stage, at]) => (at ? [{ stage, at }] : []));
    const state = deriveState(h, decision?.outcome);
    return {
      upstreamId: h['upstream_id'],
      view: {
        payment_id: paymentId,
        upstream_reference: h['upstream_reference'] ?? '',
        state,
        final: state === 'settled' || state === 'declined' || state === 'in_review',
        history,
        decision,
        settlement,
      },
    };
  }
}

/** The decision as an upstream sees it. */
export function upstreamDecision(d: Pick<PaymentScreened, 'decision' | 'reasons'>): NonNullable<PaymentStatusView['decision']> {
  return { outcome: d.decision, reason_codes: upstreamReasonCodes(d.reasons) };
}

/** Read back through the upstream's projection: a record written before it (full reasons, analyst) shows no more. */
function storedDecision(text: string): PaymentStatusView['decision'] {
  const stored = JSON.parse(text) as { outcome: PaymentScreened['decision']; reason_codes?: unknown; reasons?: PaymentScreened['reasons'] };
  const codes = UpstreamReasonCodeSchema.array().safeParse(stored.reason_codes);
  return codes.success ? { outcome: stored.outcome, reason_codes: codes.data } : upstreamDecision({ decision: stored.outcome, reasons: stored.reasons ?? [] });
}

function deriveState(h: Record<string, string>, outcome: string | undefined): PaymentState {
  if (h['settled_at']) return 'settled';
  if (outcome === 'DECLINE') return 'declined';
  if (outcome === 'REVIEW') return 'in_review';
  if (outcome === 'APPROVE') return 'approved';
  if (h['signed_at']) return 'signed';
  return 'accepted';
}
