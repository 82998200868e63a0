// Puts fraud-check's decisions back into Redis from the screened topic after a Redis loss, where they are facts:
// - the first automatic decision of a payment (no `review`) becomes its decision record, SET NX like screening
//   writes it (the first decision wins), with what is left of the same TTL policy (REVIEW and DECLINE for good);
// - a REVIEW whose record that is goes back into the review queue (opening is idempotent);
// - an analyst's decision on it (`review` set) marks the review decided with that final event, once.
// A payment's events are on one partition (keyed by merchant), so they arrive in the order they were published;
// within a chunk they are applied one after another per payment, payments concurrently. Replaying twice changes
// nothing: every write is first-wins.
// Every event's seal is verified first (fraud-check's own decision seal): a forged event on the screened topic is
// counted and left out, never put back as a decision.
import type { PaymentScreened } from '@payrail/contracts';
import type { SealCheck } from '@payrail/crypto';
import type { Redis } from '@payrail/messaging';
import type { RedisReviewQueue } from '../review/review-queue.store';
import { reviewSummary } from '../review/review-summary';
import { restoredDecisionTtlS, storeDecisionOnce } from '../screening/decision-record';
import { decodeInstructionPayload } from '../screening/instruction-payload';

export interface DecisionRestoreCounts {
  /** Screened events applied (automatic and analyst decisions). */
  events: number;
  /** Decision records written (payments whose record was missing). */
  recorded: number;
  /** APPROVE records not put back: older than their 30 days. */
  expired: number;
  reviewsOpened: number;
  reviewsDecided: number;
  /** Analyst decisions whose REVIEW is no longer on the topic (past its retention): not restored. */
  reviewsMissing: number;
  /** Events whose decision seal does not verify (forged, or sealed with a key no longer held): not restored. */
  forged: number;
}

export const noDecisionsRestored = (): DecisionRestoreCounts => ({ events: 0, recorded: 0, expired: 0, reviewsOpened: 0, reviewsDecided: 0, reviewsMissing: 0, forged: 0 });

/** The events of each payment in the order given, payments in the order first seen. */
export function eventsByPayment(events: readonly PaymentScreened[]): PaymentScreened[][] {
  const byPayment = new Map<string, PaymentScreened[]>();
  for (const event of events) {
    const list = byPayment.get(event.payment_id);
    if (list) list.push(event);
    else byPayment.set(event.payment_id, [event]);
  }
  return [...byPayment.values()];
}

export class DecisionRestore {
  constructor(
    private readonly redis: Redis,
    private readonly reviews: Pick<RedisReviewQueue, 'open' | 'restoreDecided'>,
    private readonly checkSeal: (event: PaymentScreened) => Promise<SealCheck>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Applies one chunk of the screened topic, adding what it did to `counts`. */
  async apply(events: readonly PaymentScreened[], counts: DecisionRestoreCounts): Promise<void> {
    await Promise.all(
      eventsByPayment(events).map(async (ofPayment) => {
        for (const event of ofPayment) await this.applyOne(event, counts);
      }),
    );
  }

  private async applyOne(event: PaymentScreened, counts: DecisionRestoreCounts): Promise<void> {
    counts.events++;
    if (!(await this.checkSeal(event)).ok) {
      counts.forged++;
      return;
    }
    if (event.review) {
      const outcome = await this.reviews.restoreDecided(event);
      if (outcome === 'decided') counts.reviewsDecided++;
      else if (outcome === 'not_found') counts.reviewsMissing++;
      return;
    }
    const ttlS = restoredDecisionTtlS(event.decision, event.screened_at, this.now());
    if (ttlS === 'expired') {
      counts.expired++;
      return;
    }
    const { stored, won } = await storeDecisionOnce(this.redis, event, ttlS);
    if (won) counts.recorded++;
    if (stored.decision !== 'REVIEW') return;
    const instruction = decodeInstructionPayload(stored.instruction_jws);
    if (instruction && (await this.reviews.open(stored, reviewSummary(instruction, stored)))) counts.reviewsOpened++;
  }
}
