// The review queue in Redis, under the operators' hash tag: a sorted set of pending payment ids (oldest first) and
// one hash per payment in REVIEW holding its screened event, a summary for the analysts and, once decided, the
// analyst's decision and the final screened event. Opening is idempotent (a redelivered payment never re-opens
// a decided review); deciding is one script with its audit entry: the first decision wins, the same decision
// again is a no-op, the other decision is refused. Reviews never expire: a REVIEW and the analyst's decision on it
// are final for the life of the payment. A decided review keeps the instruction JWS once (in `screened`): `final`
// is stored without it, like the decision record. After a Redis loss both come back from the screened topic
// (recovery/decision-restore.ts: open, then restoreDecided).
import type { Redis } from '@payrail/messaging';
import { RedisScript, defineScript } from '../redis-script';
import { PaymentScreened } from '@payrail/contracts';
import { fromDecisionRecord, toDecisionRecord } from '../screening/decision-record';
import type { ReviewSummary } from '../admin/admin-api.schemas';
import { AUDIT_LUA, AUDIT_STREAM_KEY, AuditEntry, OPERATION_TTL_S, OPS_NAMESPACE, auditArgs, operationKey } from '../audit/audit-log';

export const REVIEW_QUEUE_KEY = `${OPS_NAMESPACE}:reviews:pending`;
export const reviewKey = (paymentId: string) => `${OPS_NAMESPACE}:review:${paymentId}`;

export interface ReviewRecord {
  status: 'pending' | 'decided';
  summary: ReviewSummary;
  screened: PaymentScreened;
  final?: PaymentScreened;
}

export type { ReviewSummary };

export type DecideOutcome = 'decided' | 'already_decided' | 'conflict' | 'not_found';

export const OPEN_SCRIPT = `
-- KEYS: 1 review hash, 2 pending queue; ARGV: 1 payment id, 2 screened JSON, 3 summary JSON, 4 queued-at ms
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'status', 'pending', 'screened', ARGV[2], 'summary', ARGV[3])
redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[1])
return 1
`;

const DECIDE_SCRIPT = `${AUDIT_LUA}
-- KEYS: 1 review hash, 2 pending queue, 3 audit stream, 4 operation key
-- ARGV: 1 payment id, 2 decision, 3 final screened JSON without its instruction JWS, 4.. audit arguments
local done = redis.call('GET', KEYS[4])
if done then return done end
local outcome
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  outcome = 'not_found'
elseif status == 'decided' then
  if redis.call('HGET', KEYS[1], 'decision') == ARGV[2] then outcome = 'already_decided' else outcome = 'conflict' end
else
  redis.call('HSET', KEYS[1], 'status', 'decided', 'decision', ARGV[2], 'final', ARGV[3])
  -- an analyst's decision is final for the life of the payment (PERSIST also clears a TTL set by older versions)
  redis.call('PERSIST', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  outcome = 'decided'
end
audit(3, 4, outcome)
redis.call('SET', KEYS[4], outcome, 'EX', ${OPERATION_TTL_S})
return outcome
`;

const RESTORE_DECIDED_SCRIPT = `
-- An analyst's decision read back from the screened topic after a Redis loss (its audit entry comes back with the
-- audit trail): applied to a pending review only, so replaying it again changes nothing.
-- KEYS: 1 review hash, 2 pending queue; ARGV: 1 payment id, 2 decision, 3 final screened JSON without its instruction JWS
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'not_found' end
if status == 'decided' then return 'already_decided' end
redis.call('HSET', KEYS[1], 'status', 'decided', 'decision', ARGV[2], 'final', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return 'decided'
`;

/** The name of the open script as registered on the connection (the batch path calls it in a pipeline). */
export const REVIEW_OPEN_SCRIPT_NAME = 'payrailFraudReviewOpen';

/** The keys then arguments of one open script call. */
export function reviewOpenArgs(screened: PaymentScreened, summary: ReviewSummary): string[] {
  // kept without a seal, like the decision record: a decision is sealed each time it is published
  const { seal: _seal, ...record } = screened;
  return [reviewKey(screened.payment_id), REVIEW_QUEUE_KEY, screened.payment_id, JSON.stringify(record), JSON.stringify(summary), String(Date.parse(screened.screened_at))];
}

/** A review from its hash (HGETALL); undefined when there is none. */
export function parseReview(h: Record<string, string>): ReviewRecord | undefined {
  if (!h['status'] || !h['screened'] || !h['summary']) return undefined;
  const screened = JSON.parse(h['screened']) as PaymentScreened;
  return {
    status: h['status'] === 'decided' ? 'decided' : 'pending',
    summary: JSON.parse(h['summary']) as ReviewSummary,
    screened,
    final: h['final'] ? fromDecisionRecord(h['final'], screened) : undefined,
  };
}

export class RedisReviewQueue {
  private readonly openScript: RedisScript<number>;
  private readonly decideScript: RedisScript<string>;
  private readonly restoreDecidedScript: RedisScript<string>;

  constructor(
    private readonly redis: Redis,
    private readonly auditMaxEntries: number,
  ) {
    this.openScript = defineScript(redis, REVIEW_OPEN_SCRIPT_NAME, 2, OPEN_SCRIPT);
    this.decideScript = defineScript(redis, 'payrailFraudReviewDecide', 4, DECIDE_SCRIPT);
    this.restoreDecidedScript = defineScript(redis, 'payrailFraudReviewRestoreDecided', 2, RESTORE_DECIDED_SCRIPT);
  }

  /** Queues a payment for an analyst unless it already has a review (pending or decided). */
  async open(screened: PaymentScreened, summary: ReviewSummary): Promise<boolean> {
    const opened = await this.openScript(...reviewOpenArgs(screened, summary));
    return opened === 1;
  }

  async get(paymentId: string): Promise<ReviewRecord | undefined> {
    return parseReview(await this.redis.hgetall(reviewKey(paymentId)));
  }

  /** Pending reviews, oldest first: `offset` pages through the queue. */
  async pending(offset: number, limit: number): Promise<{ total: number; reviews: ReviewSummary[] }> {
    const [ids, total] = await Promise.all([this.redis.zrange(REVIEW_QUEUE_KEY, offset, offset + limit - 1), this.redis.zcard(REVIEW_QUEUE_KEY)]);
    const summaries = await Promise.all(ids.map((id) => this.redis.hget(reviewKey(id), 'summary')));
    return { total, reviews: summaries.flatMap((s) => (s ? [JSON.parse(s) as ReviewSummary] : [])) };
  }

  async decide(paymentId: string, decision: 'APPROVE' | 'DECLINE', final: PaymentScreened, audit: Omit<AuditEntry, 'outcome'>): Promise<DecideOutcome> {
    const outcome = await this.decideScript(
      reviewKey(paymentId),
      REVIEW_QUEUE_KEY,
      AUDIT_STREAM_KEY,
      operationKey(audit.request_id),
      paymentId,
      decision,
      toDecisionRecord(final),
      ...auditArgs(audit, this.auditMaxEntries),
    );
    if (outcome === 'decided' || outcome === 'already_decided' || outcome === 'conflict' || outcome === 'not_found') return outcome;
    throw new Error(`unexpected review outcome ${String(outcome)}`);
  }

  /** Puts back an analyst's decision (a screened event with `review`) on its review, once: the first one wins. */
  async restoreDecided(final: PaymentScreened): Promise<Exclude<DecideOutcome, 'conflict'>> {
    const outcome = await this.restoreDecidedScript(reviewKey(final.payment_id), REVIEW_QUEUE_KEY, final.payment_id, final.decision, toDecisionRecord(final));
    if (outcome === 'decided' || outcome === 'already_decided' || outcome === 'not_found') return outcome;
    throw new Error(`unexpected review restore outcome ${String(outcome)}`);
  }
}
