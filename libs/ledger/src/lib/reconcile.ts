// Reconcile: recompute the ledger from Kafka (the screened topic from its start) with the configured fee
// schedule and compare it with Redis, listing every discrepancy: approved payments not posted, postings Kafka
// does not explain (declined, in review, unknown), postings whose amounts differ, balances that differ, and the
// Redis-only invariants. It also holds the ledger to what was told from it: every settled event (batch, fee, net)
// must be its posting, and every batch report, and the payload of every signed report, must be exactly the
// report of the ledger's batch. Read-only.
import type { PaymentInstruction, PaymentScreened, PaymentSettled, SettlementBatchReport, SignedSettlementBatch } from '@payrail/contracts';
import { SettlementBatchReportSchema, TOPICS } from '@payrail/contracts';
import type { Kafka } from '@payrail/messaging';
import { DecisionLog } from './decisions';
import type { LedgerEvidence } from './evidence';
import { InvariantReport, checkInvariants } from './invariants';
import { ACCOUNTS, LedgerAccount } from './keys';
import { LedgerRepository, Posting, batchReport } from './ledger.repository';
import { BatchPolicy, FeeSchedule, PostingPlan, planPosting } from './posting';
import { ReplayStats, replayTopic } from './topic-replay';

/** Verifies Payrail's signature on a screened event's instruction; undefined when it does not verify or match. */
export type InstructionVerifier = (screened: PaymentScreened) => Promise<PaymentInstruction | undefined>;

export interface LedgerDerivationOptions {
  fees: FeeSchedule;
  policy: BatchPolicy;
  verify: InstructionVerifier;
  /** Who made each event the derivation reads: a forged one is reported, never taken as a fact. */
  evidence: LedgerEvidence;
}

export type DiscrepancyKind =
  | 'missing_posting'
  | 'unexpected_posting'
  | 'declined_posted'
  | 'review_posted'
  | 'posting_mismatch'
  | 'balance_mismatch'
  | 'held_missing'
  | 'unverifiable_approval'
  | 'forged_decision'
  | 'approved_after_decline'
  | 'declined_after_approval'
  | 'approved_during_review'
  | 'settled_mismatch'
  | 'report_mismatch'
  | 'signed_report_mismatch'
  | 'forged_event';

export interface Discrepancy {
  kind: DiscrepancyKind;
  merchantId: string;
  paymentId?: string;
  currency?: string;
  account?: LedgerAccount;
  expected?: string;
  actual?: string;
  detail: string;
}

export interface ReconcileReport {
  ok: boolean;
  screened: ReplayStats;
  approved: number;
  held: number;
  expectedPostings: number;
  actualPostings: number;
  discrepancies: Discrepancy[];
  invariants: InvariantReport;
}

export interface ExpectedLedger {
  screened: ReplayStats;
  log: DecisionLog;
  /** By merchant, then payment id. */
  postings: Map<string, Map<string, PostingPlan>>;
  unverifiable: PaymentScreened[];
  /** Screened events whose decision seal does not verify: left out of everything else. */
  forged: PaymentScreened[];
}

/** Replays the screened topic (decisions whose seal verifies) and derives every posting the ledger should hold. */
export async function expectedLedger(kafka: Kafka, options: LedgerDerivationOptions): Promise<ExpectedLedger> {
  const log = new DecisionLog();
  const forged: PaymentScreened[] = [];
  const screened = await replayTopic<PaymentScreened>(kafka, TOPICS.paymentsScreened, async (events) => {
    const sealed = await Promise.all(events.map((e) => options.evidence.decision(e.data)));
    events.forEach((e, i) => (sealed[i] ? log.apply(e.data) : forged.push(e.data)));
  });
  const postings = new Map<string, Map<string, PostingPlan>>();
  const unverifiable: PaymentScreened[] = [];
  const approved = log.approvedEvents();
  for (let i = 0; i < approved.length; i += 256) {
    await Promise.all(
      approved.slice(i, i + 256).map(async (event) => {
        const instruction = await options.verify(event);
        if (!instruction) {
          unverifiable.push(event);
          return;
        }
        const plan = planPosting(instruction, event.screened_at, options.fees, options.policy, event.review !== undefined);
        const byMerchant = postings.get(plan.merchantId) ?? new Map<string, PostingPlan>();
        byMerchant.set(plan.paymentId, plan);
        postings.set(plan.merchantId, byMerchant);
      }),
    );
  }
  return { screened, log, postings, unverifiable, forged };
}

export async function reconcile(kafka: Kafka, ledger: LedgerRepository, options: LedgerDerivationOptions): Promise<ReconcileReport> {
  const expected = await expectedLedger(kafka, options);
  const discrepancies: Discrepancy[] = [];
  for (const e of expected.forged) discrepancies.push({ kind: 'forged_decision', merchantId: e.merchant_id, paymentId: e.payment_id, detail: "on the screened topic without a fraud-check seal that verifies (forged): ignored, must not be posted" });
  for (const e of expected.unverifiable) discrepancies.push({ kind: 'unverifiable_approval', merchantId: e.merchant_id, paymentId: e.payment_id, detail: 'approved, but Payrail\'s signature on its instruction does not verify: must not be posted' });
  for (const e of expected.log.approvedAfterDecline) discrepancies.push({ kind: 'approved_after_decline', merchantId: e.merchant_id, paymentId: e.payment_id, detail: 'APPROVE after a DECLINE on the screened topic (not posted: a decline is final)' });
  for (const e of expected.log.declinedAfterApproval) discrepancies.push({ kind: 'declined_after_approval', merchantId: e.merchant_id, paymentId: e.payment_id, detail: 'DECLINE after an APPROVE on the screened topic (the posting stands)' });
  for (const e of expected.log.approvedDuringReview) discrepancies.push({ kind: 'approved_during_review', merchantId: e.merchant_id, paymentId: e.payment_id, detail: 'an automatic APPROVE while the payment is held in REVIEW (not posted: only an analyst releases a review)' });
  discrepancies.push(...(await toldFacts(kafka, ledger, options.evidence)));

  const held = new Map<string, Map<string, 'REVIEW' | 'DECLINE'>>();
  for (const [pid, s] of expected.log.payments) {
    if (s.kind !== 'held') continue;
    const byMerchant = held.get(s.merchantId) ?? new Map<string, 'REVIEW' | 'DECLINE'>();
    byMerchant.set(pid, s.decision);
    held.set(s.merchantId, byMerchant);
  }
  const unverifiableIds = new Set(expected.unverifiable.map((e) => e.payment_id));
  const merchants = new Set([...(await ledger.merchants()), ...expected.postings.keys(), ...held.keys()]);
  let actualCount = 0;
  for (const m of [...merchants].sort()) {
    const want = expected.postings.get(m) ?? new Map<string, PostingPlan>();
    const actualIds: string[] = [];
    for (const id of await ledger.batchIds(m)) actualIds.push(...(await ledger.batchPaymentIds(m, id)));
    const actual = await ledger.postings(m, [...new Set([...actualIds, ...want.keys()])]);
    actualCount += actual.size;
    for (const [pid, plan] of want) {
      const got = actual.get(pid);
      if (!got) {
        discrepancies.push({ kind: 'missing_posting', merchantId: m, paymentId: pid, currency: plan.currency, expected: plan.amount.toString(), detail: 'approved on the screened topic but not posted' });
        continue;
      }
      const diff = postingDiff(plan, got);
      if (diff) discrepancies.push({ kind: 'posting_mismatch', merchantId: m, paymentId: pid, currency: plan.currency, detail: diff });
    }
    const heldHere = held.get(m) ?? new Map<string, 'REVIEW' | 'DECLINE'>();
    for (const [pid, got] of actual) {
      if (want.has(pid)) continue;
      const decision = heldHere.get(pid);
      const kind = decision === 'DECLINE' ? 'declined_posted' : decision === 'REVIEW' ? 'review_posted' : 'unexpected_posting';
      const why = decision ? `screened ${decision} but posted` : unverifiableIds.has(pid) ? 'posted although its signature does not verify' : 'posted but not approved on the screened topic';
      discrepancies.push({ kind, merchantId: m, paymentId: pid, currency: got.currency, actual: got.amount.toString(), detail: why });
    }
    const actualHeld = await ledger.held(m);
    for (const [pid, decision] of heldHere) {
      if (actualHeld[pid] !== decision) discrepancies.push({ kind: 'held_missing', merchantId: m, paymentId: pid, expected: decision, actual: actualHeld[pid] ?? 'none', detail: 'held decision not recorded as on the screened topic' });
    }
    const wantBalances = new Map<string, Record<LedgerAccount, bigint>>();
    for (const plan of want.values()) {
      const b = wantBalances.get(plan.currency) ?? { clearing: 0n, merchant_payable: 0n, fee_revenue: 0n };
      b.clearing -= plan.amount;
      b.merchant_payable += plan.net;
      b.fee_revenue += plan.fee;
      wantBalances.set(plan.currency, b);
    }
    const gotBalances = new Map((await ledger.balances(m)).map((b) => [b.currency, b]));
    for (const currency of new Set([...wantBalances.keys(), ...gotBalances.keys()])) {
      for (const account of ACCOUNTS) {
        const w = wantBalances.get(currency)?.[account] ?? 0n;
        const g = gotBalances.get(currency)?.[account] ?? 0n;
        if (w !== g) discrepancies.push({ kind: 'balance_mismatch', merchantId: m, currency, account, expected: w.toString(), actual: g.toString(), detail: `${account} ${currency}: expected ${w}, Redis has ${g}` });
      }
    }
  }
  const invariants = await checkInvariants(ledger);
  let expectedCount = 0;
  for (const byMerchant of expected.postings.values()) expectedCount += byMerchant.size;
  let heldCount = 0;
  for (const byMerchant of held.values()) heldCount += byMerchant.size;
  return {
    ok: discrepancies.length === 0 && invariants.ok,
    screened: expected.screened,
    approved: expected.log.approved,
    held: heldCount,
    expectedPostings: expectedCount,
    actualPostings: actualCount,
    discrepancies,
    invariants,
  };
}

function postingDiff(plan: PostingPlan, got: Posting): string | undefined {
  const diffs: string[] = [];
  if (got.currency !== plan.currency) diffs.push(`currency ${got.currency} != ${plan.currency}`);
  if (got.amount !== plan.amount) diffs.push(`amount ${got.amount} != ${plan.amount}`);
  if (got.fee !== plan.fee) diffs.push(`fee ${got.fee} != ${plan.fee} (fee schedule changed since?)`);
  if (got.net !== plan.net) diffs.push(`net ${got.net} != ${plan.net}`);
  return diffs.length > 0 ? `Redis has ${diffs.join(', ')} (Redis != recomputed)` : undefined;
}

/** What customers were told from the ledger (settled events, batch reports, signed reports) against the ledger. */
async function toldFacts(kafka: Kafka, ledger: LedgerRepository, evidence: LedgerEvidence): Promise<Discrepancy[]> {
  const out: Discrepancy[] = [];
  const settled = new Map<string, PaymentSettled[]>();
  const forged = (merchantId: string, detail: string, paymentId?: string): void => void out.push({ kind: 'forged_event', merchantId, paymentId, detail: `${detail} (forged): not a fact of the ledger` });
  await replayTopic<PaymentSettled>(kafka, TOPICS.paymentsSettled, async (events) => {
    const sealed = await Promise.all(events.map((e) => evidence.settled(e.data)));
    events.forEach((e, i) => {
      if (sealed[i]) settled.set(e.data.payment_id, [...(settled.get(e.data.payment_id) ?? []), e.data]);
      else forged(e.data.merchant_id, `settled event without a settlement seal that verifies (batch ${e.data.batch_id})`, e.data.payment_id);
    });
  });
  for (const [pid, events] of settled) {
    const posting = await ledger.posting(events[0]?.merchant_id ?? '', pid);
    for (const e of events) {
      if (!posting) out.push({ kind: 'settled_mismatch', merchantId: e.merchant_id, paymentId: pid, detail: `settled into batch ${e.batch_id}, but the ledger has no posting` });
      else if (posting.batchId !== e.batch_id || posting.fee.toString() !== e.fee.minor || posting.net.toString() !== e.net.minor || posting.postedAt !== e.posted_at)
        out.push({ kind: 'settled_mismatch', merchantId: e.merchant_id, paymentId: pid, detail: `told batch ${e.batch_id}, fee ${e.fee.minor}, net ${e.net.minor}, posted ${e.posted_at}; the ledger has batch ${posting.batchId}, fee ${posting.fee}, net ${posting.net}, posted ${posting.postedAt}` });
    }
  }
  const reports = new Map<string, SettlementBatchReport[]>();
  await replayTopic<SettlementBatchReport>(kafka, TOPICS.settlementBatchReports, async (events) => {
    const sealed = await Promise.all(events.map((e) => evidence.report(e.data)));
    events.forEach((e, i) => {
      if (sealed[i]) reports.set(e.data.batch_id, [...(reports.get(e.data.batch_id) ?? []), e.data]);
      else forged(e.data.merchant_id, `batch ${e.data.batch_id}: report without a settlement seal that verifies`);
    });
  });
  const ours = new Map<string, string>();
  const ledgerReport = async (merchantId: string, batchId: string): Promise<string | undefined> => {
    const key = `${merchantId}\u0000${batchId}`;
    if (!ours.has(key)) {
      const batch = await ledger.batch(merchantId, batchId);
      ours.set(key, batch?.state === 'closed' ? JSON.stringify(batchReport(batch, await ledger.batchPaymentIds(merchantId, batchId))) : `not closed (${batch?.state ?? 'missing'})`);
    }
    return ours.get(key);
  };
  for (const [id, copies] of reports) {
    for (const sealed of copies) {
      // settlement's seal is not part of the report (it is made over the rest)
      const { seal: _seal, ...r } = sealed;
      const mine = await ledgerReport(r.merchant_id, id);
      if (mine !== JSON.stringify(r)) out.push({ kind: 'report_mismatch', merchantId: r.merchant_id, detail: `batch ${id}: the report on Kafka (${r.payment_count} payments, net ${r.net.minor}) is not the ledger's batch (${mine?.startsWith('{') ? 'different totals or payments' : mine})` });
    }
  }
  await replayTopic<SignedSettlementBatch>(kafka, TOPICS.settlementBatches, async (events) => {
    for (const { data: signed } of events) {
      if (!(await evidence.signedReport(signed))) {
        forged(signed.merchant_id, `batch ${signed.batch_id}: signed report whose Payrail signature does not verify`);
        continue;
      }
      // the signed payload is the report: parsed with its contract, it serialises like the ledger's own (field order)
      let payload: string | undefined;
      try {
        const parsed = SettlementBatchReportSchema.safeParse(JSON.parse(Buffer.from(signed.report_jws.split('.')[1] ?? '', 'base64url').toString('utf8')));
        payload = parsed.success ? JSON.stringify(parsed.data) : undefined;
      } catch {
        payload = undefined;
      }
      const same = payload !== undefined && payload === (await ledgerReport(signed.merchant_id, signed.batch_id));
      if (!same) out.push({ kind: 'signed_report_mismatch', merchantId: signed.merchant_id, detail: `batch ${signed.batch_id}: the signed report is not the ledger's batch` });
    }
  });
  return out;
}
