// Screening a whole fetched batch of signed payment instructions at once (framework-free; the NestJS batch route
// calls it through ScreenBatchUseCase). Per batch instead of per payment:
//   1. every signature verified (each one, as before: nothing is decided on an unverified instruction);
//   2. ONE Redis pipeline: for every payment its stored decision (redelivery), its velocity records under every
//      dimension value (payer, IP, device) IN OFFSET ORDER, its blocklist lookups; the Redis-life marker read with it;
//   3. the rule set evaluated for each payment in offset order (pure);
//   4. ONE pipeline storing the new decisions once (SET NX, first wins), ONE for what follows a decision (payee made
//      known after an approval, review opened, a final review read back, a REVIEW/DECLINE record made permanent);
//   5. every decision sealed and published together (one produce request through the producer's linger).
//
// Exactness against one-by-one screening in offset order:
// - Velocity: Redis runs a pipeline's scripts in the order sent, so a payment sees every earlier payment of the batch
//   under the same dimension value (two payments of one payer: the second counts the first, and finds it as a
//   duplicate). Order matters per dimension value: windows, sums and duplicates depend on what was recorded before.
//   For the payer (card/account) it is the partition key, so it is the topic's order; IP and device values span
//   partitions, which are consumed concurrently, so across payers their order was never defined (as before).
// - First payment to a payee: one by one, an approval marks the payee known BEFORE the next payment of the payer is
//   recorded; here the velocity of the whole batch is recorded first. The batch puts that back: a payment whose payer
//   had a payment to the same payee approved EARLIER IN THE BATCH is evaluated with firstPaymentToPayee = false,
//   what its script would have answered one by one (the mark is then written by the earlier payment only).
// - Redelivery: velocity is recorded under the payment id (a second recording changes nothing), the stored decision
//   wins (a redelivered payment gets it back and it is published again under the same event id), the follow-ups are
//   idempotent. A payment id twice in one batch: the repeat is screened after the rest, one by one, and so meets the
//   decision its first occurrence stored.
// - Failures: a payment whose Redis calls failed gets an error (retried by the consumer), and so does every LATER
//   payment of the same key (payer) in the call: the consumer retries them after it, in order. Their velocity may
//   already be recorded by this call's pipeline; recording is idempotent, so the retry finds it and judges them
//   against the window as it is then, exactly as a redelivery is.
// - Invalid signatures are handled one by one through the per-payment path (declined, alerted, published).
// The one case decided differently: two instances racing on the same payment (a rebalance redelivery) where the
// other instance's stored decision differs from this one's; the stored one wins for that payment (as before), but a
// later payment of the same payer and payee in this batch was evaluated with this instance's view of the first.
import type { PaymentInstruction, PaymentScreened, PaymentSigned } from '@payrail/contracts';
import type { BlocklistHit, BlocklistProbe } from '../blocklist/blocklist';
import { Screening, VelocityRecord, blocklistProbes, screeningOf, signalsOf, velocityRecords } from '../engine/fraud-engine';
import { payerDimension } from '../rules/evaluate';
import type { RuleSet } from '../rules/ruleset';
import type { ReviewSummary } from '../admin/admin-api.schemas';
import { reviewSummary } from '../review/review-summary';
import type { VelocityDimension, VelocityObservation } from '../velocity/velocity';
import { decisionTtlS, fromDecisionRecord } from './decision-record';
import type { ScreenPaymentResult } from './screen-payment.use-case';

/** One signed payment instruction of a batch, as the consumer delivered it (offset order). */
export interface ScreeningBatchItem {
  signed: PaymentSigned;
  /** The message key (the payer's fingerprint): later items of a key are not applied after a failed one. */
  key: string | undefined;
  traceparent?: string;
}

export type ScreeningBatchResult = ScreenPaymentResult | { error: Error };

/** What a payment needs read and recorded before it can be evaluated. */
export interface GatherRequest {
  paymentId: string;
  velocity: readonly VelocityRecord[];
  probes: readonly BlocklistProbe[];
}

export interface Gathered {
  /** The stored decision record (decision-record.ts), null when the payment has none. */
  previous: string | null;
  /** One per velocity record, same order. */
  observations: VelocityObservation[];
  hits: BlocklistHit[];
}

/** What follows a stored decision; every part is idempotent. */
export interface FollowUp {
  paymentId: string;
  /** Make a REVIEW/DECLINE record permanent (a redelivered one stored before records became final). */
  persist: boolean;
  /** After an approval: the payer has now paid this payee. */
  markPayee?: { dimension: VelocityDimension; value: string; payee: string; paymentId: string };
  /** A REVIEW: open its review (unless it has one). */
  openReview?: { screened: PaymentScreened; summary: ReviewSummary };
  /** A REVIEW: read the analyst's final decision, if any, to publish it again after the automatic one. */
  readFinal: boolean;
}

/** Port: the batch's Redis work, one pipeline per call, results in request order. */
export interface ScreeningBatchStore {
  /** Velocity records are applied in request order (then record order within a request). */
  gather(requests: readonly GatherRequest[]): Promise<(Gathered | { error: Error })[]>;
  /** Stores each decision unless its payment has one; `stored` is the winner (with this one's instruction JWS). */
  storeOnce(decisions: readonly PaymentScreened[]): Promise<({ stored: PaymentScreened; won: boolean } | { error: Error })[]>;
  /** `final`: the analyst's decision read back (readFinal), with the review's instruction JWS. */
  followUp(items: readonly FollowUp[]): Promise<({ final?: PaymentScreened } | { error: Error })[]>;
}

export interface ScreenBatchDeps {
  store: ScreeningBatchStore;
  ruleset: () => RuleSet;
  /** The instruction when Payrail's signature verifies and it is the event's payment; undefined otherwise. */
  verify: (signed: PaymentSigned) => Promise<PaymentInstruction | undefined>;
  /** Waits (never fails) while Redis is restored after a loss; at once otherwise. */
  ready: () => Promise<void>;
  /** Reads the Redis-life marker now. */
  intact: () => Promise<boolean>;
  /** Seals and publishes a decision; resolves on the broker's ack. */
  publish: (screened: PaymentScreened, trace: { traceparent?: string }) => Promise<void>;
  /** The per-payment path (invalid signatures, a payment id repeated within the batch). */
  screenOne: (signed: PaymentSigned, trace: { traceparent?: string }) => Promise<ScreenPaymentResult>;
  /** A decision this instance stored (metrics). */
  decided: (screened: PaymentScreened) => void;
  now?: () => Date;
}

export const AFTER_FAILED_OF_KEY = 'after a failed event of the same key';

interface Work {
  index: number;
  item: ScreeningBatchItem;
  instruction: PaymentInstruction;
  records: VelocityRecord[];
  gathered?: Gathered;
  screened?: PaymentScreened;
  /** The decision was already stored (redelivery) */
  duplicate: boolean;
  payeeKnown: boolean;
}

/** The first failed position of each key in the batch: later events of that key are not applied. */
class FailedKeys {
  private readonly first = new Map<string, number>();

  add(key: string | undefined, index: number): void {
    if (key === undefined) return;
    const known = this.first.get(key);
    if (known === undefined || index < known) this.first.set(key, index);
  }

  /** True when an event of this key failed before this position. */
  before(key: string | undefined, index: number): boolean {
    if (key === undefined) return false;
    const known = this.first.get(key);
    return known !== undefined && known < index;
  }
}

const errorOf = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

export class ScreenBatch {
  private readonly now: () => Date;

  constructor(private readonly deps: ScreenBatchDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async screen(items: readonly ScreeningBatchItem[]): Promise<ScreeningBatchResult[]> {
    const results: (ScreeningBatchResult | undefined)[] = new Array(items.length);
    const verified = await Promise.all(items.map((it) => this.deps.verify(it.signed).then((i) => ({ instruction: i }), (err: unknown) => ({ error: errorOf(err) }))));
    const ruleset = this.deps.ruleset();
    const work: Work[] = [];
    /** Screened one by one after the batch, in offset order. */
    const oneByOne: number[] = [];
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const v = verified[index];
      if (!v || 'error' in v) results[index] = { error: v?.error ?? new Error('not verified') };
      else if (!v.instruction || seen.has(item.signed.payment_id)) oneByOne.push(index);
      else work.push({ index, item, instruction: v.instruction, records: velocityRecords(ruleset, v.instruction), duplicate: false, payeeKnown: false });
      seen.add(item.signed.payment_id);
    });

    // the same key must not be applied after a failed event of it (the consumer retries them in order)
    const failedKeys = new FailedKeys();
    const collectFailedKeys = () =>
      items.forEach((item, i) => {
        const r = results[i];
        if (r && 'error' in r) failedKeys.add(item.key, i);
      });
    collectFailedKeys();
    if (work.length > 0) await this.screenVerified(ruleset, work, results, failedKeys);
    collectFailedKeys();
    for (const index of oneByOne) {
      const item = items[index];
      if (!item) continue;
      if (failedKeys.before(item.key, index)) {
        results[index] = { error: new Error(AFTER_FAILED_OF_KEY) };
        continue;
      }
      try {
        results[index] = await this.deps.screenOne(item.signed, { traceparent: item.traceparent });
      } catch (err) {
        results[index] = { error: errorOf(err) };
        failedKeys.add(item.key, index);
      }
    }
    return results.map((r) => r ?? { error: new Error('not screened') });
  }

  private async screenVerified(ruleset: RuleSet, work: Work[], results: (ScreeningBatchResult | undefined)[], failedKeys: FailedKeys): Promise<void> {
    const fail = (w: Work, err: Error) => (results[w.index] = { error: err });
    const keyFailed = (w: Work) => failedKeys.before(w.item.key, w.index);
    const markFailed = (w: Work, err: Error) => {
      fail(w, err);
      failedKeys.add(w.item.key, w.index);
    };

    // 1. one pipeline: stored decisions, velocity (offset order), blocklists; the Redis-life marker alongside
    let gathered: (Gathered | { error: Error })[];
    for (;;) {
      await this.deps.ready();
      const requests = work.map((w) => ({ paymentId: w.instruction.payment_id, velocity: w.records, probes: blocklistProbes(ruleset, w.instruction) }));
      const [answers, intact] = await Promise.all([this.deps.store.gather(requests), this.deps.intact()]);
      gathered = answers;
      // a payment without a record is decided only while the marker is there (Redis did not lose its data since the
      // last check); otherwise wait for the restore and read again (recording velocity again changes nothing)
      if (intact || answers.every((a) => 'error' in a || a.previous !== null)) break;
    }

    // 2. evaluate in offset order; approvals earlier in the batch make the payee known to later payments
    const approvedPayees = new Set<string>();
    const payeeKey = (p: PaymentInstruction) => `${payerDimension(p)}\u0000${p.payer.fingerprint}\u0000${p.payee.merchant_id}`;
    const screenedAt = this.now().toISOString();
    const fresh: Work[] = [];
    work.forEach((w, i) => {
      const g = gathered[i];
      if (!g || 'error' in g) return markFailed(w, g?.error ?? new Error('no answer from Redis'));
      if (keyFailed(w)) return fail(w, new Error(AFTER_FAILED_OF_KEY));
      w.gathered = g;
      if (g.previous !== null) {
        w.duplicate = true;
        w.screened = fromDecisionRecord(g.previous, w.item.signed);
        if (w.screened.decision === 'APPROVE') approvedPayees.add(payeeKey(w.instruction));
        return;
      }
      const observations = approvedPayees.has(payeeKey(w.instruction)) ? this.payeeKnownToPayer(w, g.observations) : g.observations;
      const verdict: Screening = screeningOf(ruleset, w.instruction, signalsOf(w.records, observations, g.hits));
      w.payeeKnown = verdict.payeeKnown;
      if (verdict.decision === 'APPROVE') approvedPayees.add(payeeKey(w.instruction));
      w.screened = {
        payment_id: w.instruction.payment_id,
        merchant_id: w.instruction.payee.merchant_id,
        amount: w.instruction.amount,
        decision: verdict.decision,
        score: verdict.score,
        reasons: verdict.reasons,
        ruleset_version: verdict.rulesetVersion,
        screened_at: screenedAt,
        instruction_jws: w.item.signed.instruction_jws,
      };
      fresh.push(w);
    });

    // 3. one pipeline: the new decisions stored once (the first decision wins, also across instances)
    if (fresh.length > 0) {
      let stored: ({ stored: PaymentScreened; won: boolean } | { error: Error })[];
      try {
        stored = await this.deps.store.storeOnce(fresh.map((w) => w.screened as PaymentScreened));
      } catch (err) {
        stored = fresh.map(() => ({ error: errorOf(err) }));
      }
      fresh.forEach((w, i) => {
        const s = stored[i];
        if (!s || 'error' in s) return markFailed(w, s?.error ?? new Error('no answer from Redis'));
        // as one by one: the stored decision (this one, or another instance's) is what follows and goes out
        if (s.won) this.deps.decided(s.stored);
        w.screened = s.stored;
      });
    }

    // 4. one pipeline: what follows each stored decision; then 5. everything published together
    const live = work.filter((w) => results[w.index] === undefined && !keyFailed(w) && w.screened);
    for (const w of work) if (results[w.index] === undefined && keyFailed(w)) fail(w, new Error(AFTER_FAILED_OF_KEY));
    if (live.length === 0) return;
    let followed: ({ final?: PaymentScreened } | { error: Error })[];
    try {
      followed = await this.deps.store.followUp(live.map((w) => this.followUpOf(w)));
    } catch (err) {
      followed = live.map(() => ({ error: errorOf(err) }));
    }
    const publishing = live.map(async (w, i) => {
      const f = followed[i];
      if (!f || 'error' in f) throw f?.error ?? new Error('no answer from Redis');
      const screened = w.screened as PaymentScreened;
      const trace = { traceparent: w.item.traceparent };
      // the automatic decision first, then an analyst's decision on it (same order as one by one)
      const first = this.deps.publish(screened, trace);
      const then = f.final ? this.deps.publish(f.final, trace) : undefined;
      await Promise.all([first, then]);
    });
    const published = await Promise.allSettled(publishing);
    live.forEach((w, i) => {
      const p = published[i];
      if (p?.status === 'rejected') return markFailed(w, errorOf(p.reason));
      const screened = w.screened as PaymentScreened;
      results[w.index] = w.duplicate ? { kind: 'DUPLICATE', paymentId: screened.payment_id } : { kind: 'DECIDED', decision: screened.decision, paymentId: screened.payment_id };
    });
  }

  /** The payer dimension's observation as its script answers once an approval of this payer to this payee is marked. */
  private payeeKnownToPayer(w: Work, observations: VelocityObservation[]): VelocityObservation[] {
    const payer = payerDimension(w.instruction);
    return observations.map((o, i) => (w.records[i]?.dimension === payer ? { ...o, firstPaymentToPayee: false } : o));
  }

  private followUpOf(w: Work): FollowUp {
    const screened = w.screened as PaymentScreened;
    const review = screened.decision === 'REVIEW';
    const markPayee = screened.decision === 'APPROVE' && !w.payeeKnown;
    return {
      paymentId: screened.payment_id,
      persist: w.duplicate && decisionTtlS(screened.decision) === undefined,
      markPayee: markPayee ? { dimension: payerDimension(w.instruction), value: w.instruction.payer.fingerprint, payee: w.instruction.payee.merchant_id, paymentId: w.instruction.payment_id } : undefined,
      openReview: review ? { screened, summary: reviewSummary(w.instruction, screened) } : undefined,
      readFinal: review,
    };
  }
}
