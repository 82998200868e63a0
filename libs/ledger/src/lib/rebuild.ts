// Rebuild: restore the ledger in Redis from Kafka after Redis lost its data (it is a cache of facts that live on
// Kafka). The facts, and which one wins:
//   - a batch report (payrail.settlement.batch-reports.v1, published before signing asks for its signature) fixes
//     its batch: exactly its payments, gross, fees, net and close; nothing else ever goes into a reported batch;
//   - a settled event (payrail.payments.settled.v1) fixes what its payment was told: fee, net, batch, time;
//   - the screened topic, from its start, per merchant in order: holds REVIEW / DECLINE (a REVIEW released only
//     by an analyst's APPROVE), and says which payments are approved (Payrail's signature verified again).
// In order: every approved payment a report lists is restored into that batch; then every other approved payment
// with a settled event into the batch it was told; then the reported batches are closed as reported (which moves
// the windows' current batches past them). An approved payment with no settled event is in flight: its screened
// message is not committed yet (settlement commits only after publishing `settled`), so the service posts it when
// it consumes it, or, when it was posted just before the loss and its `settled` is still being published, puts
// back exactly what that event tells (settlement's Ledger.reassert): the rebuild leaves it alone rather than post it with
// facts of its own that the late event would contradict. The signed reports are recorded last, and the new epoch
// is written when everything is in place: until then the service's live postings are refused (the merchants'
// epoch keys are the restore's) and its batch closer waits.
// Only facts their producers made count (LedgerEvidence): reports and settled events sealed by settlement, decisions
// sealed by fraud-check, signed reports signed by signing; anything else on those topics is reported as forged.
// Every step goes through the ledger's idempotent scripts: running it twice, or while settlement is consuming,
// posts nothing twice. Callers hold LedgerKeys.restoreLock (restoreLedger in restore.ts).
import { randomUUID } from 'node:crypto';
import type { PaymentScreened, PaymentSettled, SettlementBatchReport, SignedSettlementBatch } from '@payrail/contracts';
import { TOPICS } from '@payrail/contracts';
import type { Kafka, RedisLease } from '@payrail/messaging';
import { BatchWindow, ParsedBatchId, parseBatchId } from './batch-id';
import { LedgerKeys } from './keys';
import { LedgerRepository, PostingOutcome } from './ledger.repository';
import { BatchCursorCache, PostingPlan, planPosting, postLive } from './posting';
import { LedgerDerivationOptions } from './reconcile';
import { ReplayStats, replayTopic, runKeyed } from './topic-replay';

export interface RebuildReport {
  replayed: Record<string, ReplayStats>;
  postingsRestored: number;
  postingsRecomputed: number;
  alreadyPresent: number;
  held: number;
  refusedDeclined: number;
  /** Automatic approvals of payments held in REVIEW: not posted (an analyst releases a review). */
  refusedInReview: number;
  /** Approved payments without a settled event: left to the service, which posts them when it consumes them. */
  inFlight: number;
  unverifiable: number;
  /** Events whose seal or signature does not verify (forged decisions, settled events, reports, signed reports): nothing restored from them. */
  forged: number;
  batchesClosed: number;
  signedRecorded: number;
  epoch: string;
  /** Every difference between what Kafka recorded and what the rebuild produced. */
  discrepancies: string[];
}

export interface RebuildOptions extends LedgerDerivationOptions {
  now?: () => Date;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
  /** The epoch the rebuilt ledger gets (default: a new random one). */
  epoch?: string;
  /** The restore lease the rebuild runs under: the epoch is written only while it is still held (restore.ts). */
  lease?: RedisLease;
}

export async function rebuildLedger(kafka: Kafka, ledger: LedgerRepository, options: RebuildOptions): Promise<RebuildReport> {
  const now = options.now ?? (() => new Date());
  const progress = options.progress ?? (() => undefined);
  const epoch = options.epoch ?? randomUUID();
  ledger.attachEpoch(epoch);
  const report: RebuildReport = { replayed: {}, postingsRestored: 0, postingsRecomputed: 0, alreadyPresent: 0, held: 0, refusedDeclined: 0, refusedInReview: 0, inFlight: 0, unverifiable: 0, forged: 0, batchesClosed: 0, signedRecorded: 0, epoch, discrepancies: [] };

  const reports = new Map<string, SettlementBatchReport>();
  // only what its producer made: settlement's sealed reports and settled events, signing's signed reports
  const forged = (what: string): void => {
    report.forged++;
    report.discrepancies.push(`${what} (forged): ignored`);
  };
  report.replayed['batchReports'] = await replayTopic<SettlementBatchReport>(kafka, TOPICS.settlementBatchReports, async (events) => {
    const sealed = await Promise.all(events.map((e) => options.evidence.report(e.data)));
    events.forEach((e, i) => {
      if (!sealed[i]) forged(`batch ${e.data.batch_id}: report without a settlement seal that verifies`);
      else if (!reports.has(e.data.batch_id)) reports.set(e.data.batch_id, e.data);
    });
  });
  const reportedIn = new Map<string, SettlementBatchReport>();
  for (const r of reports.values()) {
    for (const pid of r.payment_ids) {
      const other = reportedIn.get(pid);
      if (other) report.discrepancies.push(`payment ${pid}: listed by the reports of batches ${other.batch_id} and ${r.batch_id}`);
      else reportedIn.set(pid, r);
    }
  }
  const signed = new Map<string, { batch: SignedSettlementBatch; at: string }>();
  report.replayed['batches'] = await replayTopic<SignedSettlementBatch>(kafka, TOPICS.settlementBatches, async (events) => {
    const genuine = await Promise.all(events.map((e) => options.evidence.signedReport(e.data)));
    events.forEach((e, i) => {
      if (!genuine[i]) forged(`signed batch ${e.data.batch_id}: Payrail's signature does not verify`);
      else if (!signed.has(e.data.batch_id)) signed.set(e.data.batch_id, { batch: e.data, at: e.envelope.time });
    });
  });
  const settled = new Map<string, PaymentSettled>();
  report.replayed['settled'] = await replayTopic<PaymentSettled>(kafka, TOPICS.paymentsSettled, async (events) => {
    const sealed = await Promise.all(events.map((e) => options.evidence.settled(e.data)));
    events.forEach((e, i) => {
      if (!sealed[i]) forged(`payment ${e.data.payment_id}: settled event without a settlement seal that verifies`);
      else if (!settled.has(e.data.payment_id)) settled.set(e.data.payment_id, e.data);
    });
  });
  progress(`read ${reports.size} batch reports, ${signed.size} signed batches, ${settled.size} settled payments`);

  const registered = new Set<string>();
  const register = async (m: string) => {
    if (registered.has(m)) return;
    await ledger.claimMerchant(m);
    registered.add(m);
  };
  const count = (outcome: PostingOutcome, restored: boolean, paymentId: string) => {
    if (outcome.kind === 'POSTED' && restored) report.postingsRestored++;
    else if (outcome.kind === 'POSTED') report.postingsRecomputed++;
    else if (outcome.kind === 'DUPLICATE') report.alreadyPresent++;
    else if (outcome.kind === 'DECLINED') report.refusedDeclined++;
    else if (outcome.kind === 'IN_REVIEW') report.refusedInReview++;
    else throw new Error(`rebuild: posting ${paymentId} answered ${outcome.kind} (another restore running?)`);
  };
  /** Restores a posting into a batch Kafka names (its report, or its settled event), with the told fee and net. */
  const restore = async (plan: PostingPlan, batch: ParsedBatchId, facts: PaymentSettled | undefined) => {
    const told = facts && BigInt(facts.fee.minor) + BigInt(facts.net.minor) === plan.amount ? facts : undefined;
    if (facts && !told) report.discrepancies.push(`payment ${plan.paymentId}: settled event's fee and net do not add up to its amount; recomputed`);
    if (told && BigInt(told.fee.minor) !== plan.fee) report.discrepancies.push(`payment ${plan.paymentId}: posted with fee ${told.fee.minor}, the schedule now gives ${plan.fee}; restored as posted`);
    const window = windowOf(batch.windowLabel, options.policy.cutoffS);
    const fee = told ? BigInt(told.fee.minor) : plan.fee;
    const outcome = await ledger.post({ ...plan, fee, net: plan.amount - fee, window, postedAt: told?.posted_at ?? now().toISOString(), seq: batch.seq, maxBatchPayments: options.policy.maxPayments, mode: 'restore' });
    count(outcome, true, plan.paymentId);
  };
  const inFlight: PostingPlan[] = [];
  report.replayed['screened'] = await replayTopic<PaymentScreened>(kafka, TOPICS.paymentsScreened, (events) =>
    runKeyed(events, (e) => e.data.merchant_id, async ({ data: screened }) => {
      if (!(await options.evidence.decision(screened))) {
        forged(`payment ${screened.payment_id}: screened ${screened.decision} without a fraud-check seal that verifies`);
        return;
      }
      await register(screened.merchant_id);
      if (screened.decision !== 'APPROVE') {
        if ((await ledger.hold(screened.merchant_id, screened.payment_id, screened.decision)) === 'HELD') report.held++;
        return;
      }
      const instruction = await options.verify(screened);
      if (!instruction) {
        report.unverifiable++;
        report.discrepancies.push(`payment ${screened.payment_id}: approved but its signature does not verify: not posted`);
        return;
      }
      const plan = planPosting(instruction, screened.screened_at, options.fees, options.policy, screened.review !== undefined);
      const facts = settled.get(plan.paymentId);
      const reported = reportedIn.get(plan.paymentId);
      const fits = (b: ParsedBatchId | undefined): b is ParsedBatchId => b !== undefined && b.merchantId === plan.merchantId && b.currency === plan.currency;
      if (reported) {
        const batch = parseBatchId(reported.batch_id);
        if (!fits(batch)) {
          report.discrepancies.push(`payment ${plan.paymentId}: listed by the report of batch ${reported.batch_id}, which is not its merchant's and currency's; not restored there`);
          inFlight.push(plan);
          return;
        }
        if (facts && facts.batch_id !== reported.batch_id) report.discrepancies.push(`payment ${plan.paymentId}: settled event says batch ${facts.batch_id}, the report of ${reported.batch_id} lists it; restored as reported`);
        await restore(plan, batch, facts?.batch_id === reported.batch_id ? facts : undefined);
        return;
      }
      const told = facts ? parseBatchId(facts.batch_id) : undefined;
      if (facts && fits(told) && !reports.has(facts.batch_id)) {
        await restore(plan, told, facts);
        return;
      }
      if (!facts) {
        report.inFlight++;
        return;
      }
      // told a batch it cannot be in: its message was committed, so nobody else will post it
      report.discrepancies.push(`payment ${plan.paymentId}: settled into batch ${facts.batch_id}, ${reports.has(facts.batch_id) ? 'whose report does not list it' : 'which is not its merchant\'s and currency\'s'}; posted again`);
      inFlight.push(plan);
    }),
  );
  progress(`restored ${report.postingsRestored} postings, ${report.alreadyPresent} already present, ${report.held} held; ${report.inFlight} in flight (left to the service)`);

  for (const r of [...reports.values()].sort((a, b) => a.batch_id.localeCompare(b.batch_id))) {
    await register(r.merchant_id);
    const closed = await ledger.closeBatch(r.merchant_id, r.batch_id, r.closed_at, r.close_reason);
    if (closed === 'UNKNOWN') {
      report.discrepancies.push(`batch ${r.batch_id}: reported with ${r.payment_count} payments, none of them restored`);
      continue;
    }
    if (closed === 'CLOSED') report.batchesClosed++;
    await ledger.markReported(r.merchant_id, r.batch_id, r.closed_at);
    const batch = await ledger.batch(r.merchant_id, r.batch_id);
    const ids = await ledger.batchPaymentIds(r.merchant_id, r.batch_id);
    const rebuilt = batch ? `${batch.count} payments, gross ${batch.gross}, fees ${batch.fees}, net ${batch.net}, closed ${batch.closedAt} (${batch.closeReason})` : 'missing';
    const reported = `${r.payment_count} payments, gross ${r.gross.minor}, fees ${r.fees.minor}, net ${r.net.minor}, closed ${r.closed_at} (${r.close_reason})`;
    if (rebuilt !== reported || ids.join(',') !== [...r.payment_ids].sort().join(',')) report.discrepancies.push(`batch ${r.batch_id}: report says ${reported}; rebuilt ${rebuilt}`);
  }

  // told a batch that cannot hold them: posted now, after every reported batch is closed, like the service would
  const cursors = new BatchCursorCache();
  await runKeyed(inFlight, (p) => p.merchantId, async (plan) => count(await postLive(ledger, plan, options.policy, now().toISOString(), cursors), false, plan.paymentId));

  for (const [id, { batch, at }] of [...signed].sort(([a], [b]) => a.localeCompare(b))) {
    const outcome = await ledger.recordSigned(batch.merchant_id, id, batch.kid, batch.report_jws, at);
    if (outcome === 'RECORDED') report.signedRecorded++;
    else if (outcome !== 'DUPLICATE') report.discrepancies.push(`signed batch ${id}: ${outcome === 'UNKNOWN' ? 'no such batch' : 'batch not closed'}`);
  }
  if (!options.lease) await ledger.setEpoch(epoch);
  // Redis lost its data again while this ran (the lease went with it): this ledger is incomplete, restore again
  else if (!(await options.lease.setIfHeld(LedgerKeys.epoch, epoch))) throw new Error('the ledger restore lost its lease (Redis lost its data again?): not completed');
  return report;
}

function windowOf(label: string, cutoffS: number): BatchWindow {
  const iso = `${label.slice(0, 4)}-${label.slice(4, 6)}-${label.slice(6, 8)}T${label.slice(9, 11)}:${label.slice(11, 13)}:${label.slice(13, 15)}Z`;
  const startS = Date.parse(iso) / 1000;
  return { startS, endS: startS + cutoffS, label };
}
