// Reconcile: recompute the ledger from Kafka (the screened topic from its start) with the configured fee
// schedule and compare it with Redis, listing every discrepancy: approved payments not posted, postings Kafka
// does not explain (declined, in review, unknown), postings whose amounts differ, balances that differ, and the
// Redis-only invariants. Read-only.
import type { PaymentInstruction, PaymentScreened } from '@payrail/contracts';
import { TOPICS } from '@payrail/contracts';
import type { Kafka } from '@payrail/messaging';
import { DecisionLog } from './decisions';
import { InvariantReport, checkInvariants } from './invariants';
import { ACCOUNTS, LedgerAccount } from './keys';
import { LedgerRepository, Posting } from './ledger.repository';
import { BatchPolicy, FeeSchedule, PostingPlan, planPosting } from './posting';
import { ReplayStats, replayTopic } from './topic-replay';

/** Verifies Payrail's signature on a screened event's instruction; undefined when it does not verify or match. */
export type InstructionVerifier = (screened: PaymentScreened) => Promise<PaymentInstruction | undefined>;

export interface LedgerDerivationOptions {
  fees: FeeSchedule;
  policy: BatchPolicy;
  verify: InstructionVerifier;
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
  | 'approved_after_decline'
  | 'declined_after_approval';

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
}

/** Replays the screened topic and derives every posting the ledger should hold. */
export async function expectedLedger(kafka: Kafka, options: LedgerDerivationOptions): Promise<ExpectedLedger> {
  const log = new DecisionLog();
  const screened = await replayTopic<PaymentScreened>(kafka, TOPICS.paymentsScreened, async (events) => {
    for (const e of events) log.apply(e.data);
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
        const plan = planPosting(instruction, event.screened_at, options.fees, options.policy);
        const byMerchant = postings.get(plan.merchantId) ?? new Map<string, PostingPlan>();
        byMerchant.set(plan.paymentId, plan);
        postings.set(plan.merchantId, byMerchant);
      }),
    );
  }
  return { screened, log, postings, unverifiable };
}

export async function reconcile(kafka: Kafka, ledger: LedgerRepository, options: LedgerDerivationOptions): Promise<ReconcileReport> {
  const expected = await expectedLedger(kafka, options);
  const discrepancies: Discrepancy[] = [];
  for (const e of expected.unverifiable) discrepancies.push({ kind: 'unverifiable_approval', merchantId: e.merchant_id, paymentId: e.payment_id, detail: 'approved, but Payrail\'s signature on its instruction does not verify: must not be posted' });
  for (const e of expected.log.approvedAfterDecline) discrepancies.push({ kind: 'approved_after_decline', merchantId: e.merchant_id, paymentId: e.payment_id, detail: 'APPROVE after a DECLINE on the screened topic (not posted: a decline is final)' });
  for (const e of expected.log.declinedAfterApproval) discrepancies.push({ kind: 'declined_after_approval', merchantId: e.merchant_id, paymentId: e.payment_id, detail: 'DECLINE after an APPROVE on the screened topic (the posting stands)' });

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
