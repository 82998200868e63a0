// The screening batch's store on in-memory copies (velocity, blocklists, decision records, reviews) with the Redis
// store's semantics: requests applied in order, decisions stored once (first wins), follow-ups idempotent. For unit
// tests of the batch use case (and offline runs); `failOn` makes a payment's calls fail, as a Redis error would.
import type { PaymentScreened } from '@payrail/contracts';
import type { BlocklistReader } from '../blocklist/blocklist';
import type { VelocityStore } from '../velocity/velocity';
import { fromDecisionRecord, toDecisionRecord } from './decision-record';
import type { FollowUp, GatherRequest, Gathered, ScreeningBatchStore } from './screen-batch';

export class InMemoryScreeningBatchStore implements ScreeningBatchStore {
  readonly decisions = new Map<string, string>();
  readonly reviews = new Map<string, { screened: PaymentScreened; final?: PaymentScreened }>();
  readonly persisted: string[] = [];
  /** Payment ids whose next gather fails (once each). */
  readonly failOn = new Set<string>();

  constructor(
    private readonly velocity: VelocityStore,
    private readonly blocklists: BlocklistReader,
  ) {}

  async gather(requests: readonly GatherRequest[]): Promise<(Gathered | { error: Error })[]> {
    const out: (Gathered | { error: Error })[] = [];
    for (const r of requests) {
      if (this.failOn.delete(r.paymentId)) {
        out.push({ error: new Error(`injected failure for ${r.paymentId}`) });
        continue;
      }
      const previous = this.decisions.get(r.paymentId) ?? null;
      const observations = [];
      for (const v of r.velocity) observations.push(await this.velocity.record(v.dimension, v.value, v.event));
      out.push({ previous, observations, hits: await this.blocklists.find([...r.probes]) });
    }
    return out;
  }

  async storeOnce(decisions: readonly PaymentScreened[]): Promise<({ stored: PaymentScreened; won: boolean } | { error: Error })[]> {
    return decisions.map((screened) => {
      const existing = this.decisions.get(screened.payment_id);
      if (existing) return { stored: fromDecisionRecord(existing, screened), won: false };
      this.decisions.set(screened.payment_id, toDecisionRecord(screened));
      return { stored: screened, won: true };
    });
  }

  async followUp(items: readonly FollowUp[]): Promise<({ final?: PaymentScreened } | { error: Error })[]> {
    const out: ({ final?: PaymentScreened } | { error: Error })[] = [];
    for (const f of items) {
      if (f.persist) this.persisted.push(f.paymentId);
      if (f.markPayee) await this.velocity.markPayeeKnown(f.markPayee.dimension, f.markPayee.value, f.markPayee.payee, f.markPayee.paymentId);
      if (f.openReview && !this.reviews.has(f.paymentId)) this.reviews.set(f.paymentId, { screened: f.openReview.screened });
      out.push(f.readFinal ? { final: this.reviews.get(f.paymentId)?.final } : {});
    }
    return out;
  }
}
