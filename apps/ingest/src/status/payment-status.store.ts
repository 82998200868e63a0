// The status read model ingest serves on GET /v1/payments/{id}: one Redis hash per payment, written from the
// accepted/signed/screened/settled events. Every write is an HSET of fields that only depend on the event, so
// redelivered and re-sent writes are no-ops, and the state is derived from which stages are present.
import type { Redis } from '@payrail/messaging';

export type PaymentState = 'accepted' | 'signed' | 'approved' | 'in_review' | 'declined' | 'settled';

export interface PaymentStatusView {
  payment_id: string;
  upstream_reference: string;
  state: PaymentState;
  final: boolean;
  history: { stage: string; at: string }[];
  decision?: { outcome: string; score: number; reasons: unknown[]; ruleset_version: string; review?: unknown };
  settlement?: { batch_id: string; fee: unknown; net: unknown };
}

const key = (paymentId: string) => `payment:{${paymentId}}`;

export class PaymentStatusStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds = 30 * 86_400,
  ) {}

  private async write(paymentId: string, fields: Record<string, string>): Promise<void> {
    await this.redis.multi().hset(key(paymentId), fields).expire(key(paymentId), this.ttlSeconds).exec();
  }

  recordAccepted(p: { paymentId: string; upstreamId: string; upstreamReference: string; at: string }): Promise<void> {
    return this.write(p.paymentId, { upstream_id: p.upstreamId, upstream_reference: p.upstreamReference, accepted_at: p.at });
  }

  recordSigned(paymentId: string, at: string): Promise<void> {
    return this.write(paymentId, { signed_at: at });
  }

  recordScreened(paymentId: string, at: string, decision: NonNullable<PaymentStatusView['decision']>): Promise<void> {
    // an analyst's decision on a REVIEW replaces the decision but keeps when the first screening happened
    const fields: Record<string, string> = { decision: JSON.stringify(decision), decided_at: at };
    if (decision.review) fields['reviewed_at'] = at;
    else fields['screened_at'] = at;
    return this.write(paymentId, fields);
  }

  recordSettled(paymentId: string, at: string, settlement: NonNullable<PaymentStatusView['settlement']>): Promise<void> {
    return this.write(paymentId, { settled_at: at, settlement: JSON.stringify(settlement) });
  }

  /** Returns the view and the submitting upstream (for the ownership check), or undefined. */
  async find(paymentId: string): Promise<{ upstreamId: string; view: PaymentStatusView } | undefined> {
    const h = await this.redis.hgetall(key(paymentId));
    if (!h['accepted_at'] || !h['upstream_id']) return undefined;
    const decision = h['decision'] ? (JSON.parse(h['decision']) as PaymentStatusView['decision']) : undefined;
    const settlement = h['settlement'] ? (JSON.parse(h['settlement']) as PaymentStatusView['settlement']) : undefined;
    const stages: [string, string | undefined][] = [
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

function deriveState(h: Record<string, string>, outcome: string | undefined): PaymentState {
  if (h['settled_at']) return 'settled';
  if (outcome === 'DECLINE') return 'declined';
  if (outcome === 'REVIEW') return 'in_review';
  if (outcome === 'APPROVE') return 'approved';
  if (h['signed_at']) return 'signed';
  return 'accepted';
}
