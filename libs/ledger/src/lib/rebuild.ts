// Rebuild: restore the ledger in Redis from Kafka after Redis lost its data (it keeps nothing on disk; Kafka is
// the source of truth). In order:
//   1. batch reports (payrail.settlement.batch-reports.v1) and signed batches (payrail.settlement.batches.v1);
//   2. settled events (payrail.payments.settled.v1): what each posting was (fee, net, batch, time), first wins;
//   3. the screened topic from its start, per merchant in order: holds REVIEW / DECLINE, posts each approved
//      payment (signature verified again) with its settled facts into its original batch, or, when it has none
//      yet (it was in flight), into the window's current batch like the service does;
//   4. closes the batches that were reported (with the report's close time and reason) and compares each with its
//      report; records the signed reports; writes a new ledger epoch.
// Every step goes through the ledger's idempotent scripts: running it twice, or while settlement is consuming,
// posts nothing twice.
import { randomUUID } from 'node:crypto';
import type { PaymentScreened, PaymentSettled, SettlementBatchReport, SignedSettlementBatch } from '@payrail/contracts';
import { TOPICS } from '@payrail/contracts';
import type { Kafka } from '@payrail/messaging';
import { BatchWindow, parseBatchId } from './batch-id';
import { LedgerRepository } from './ledger.repository';
import { BatchCursorCache, planPosting, postLive } from './posting';
import { LedgerDerivationOptions } from './reconcile';
import { ReplayStats, replayTopic, runKeyed } from './topic-replay';

export interface RebuildReport {
  replayed: Record<string, ReplayStats>;
  postingsRestored: number;
  postingsRecomputed: number;
  alreadyPresent: number;
  held: number;
  refusedDeclined: number;
  unverifiable: number;
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
}

export async function rebuildLedger(kafka: Kafka, ledger: LedgerRepository, options: RebuildOptions): Promise<RebuildReport> {
  const now = options.now ?? (() => new Date());
  const progress = options.progress ?? (() => undefined);
  const report: RebuildReport = { replayed: {}, postingsRestored: 0, postingsRecomputed: 0, alreadyPresent: 0, held: 0, refusedDeclined: 0, unverifiable: 0, batchesClosed: 0, signedRecorded: 0, epoch: '', discrepancies: [] };

  const reports = new Map<string, SettlementBatchReport>();
  report.replayed['batchReports'] = await replayTopic<SettlementBatchReport>(kafka, TOPICS.settlementBatchReports, async (events) => {
    for (const e of events) if (!reports.has(e.data.batch_id)) reports.set(e.data.batch_id, e.data);
  });
  const signed = new Map<string, { batch: SignedSettlementBatch; at: string }>();
  report.replayed['batches'] = await replayTopic<SignedSettlementBatch>(kafka, TOPICS.settlementBatches, async (events) => {
    for (const e of events) if (!signed.has(e.data.batch_id)) signed.set(e.data.batch_id, { batch: e.data, at: e.envelope.time });
  });
  const settled = new Map<string, PaymentSettled>();
  report.replayed['settled'] = await replayTopic<PaymentSettled>(kafka, TOPICS.paymentsSettled, async (events) => {
    for (const e of events) if (!settled.has(e.data.payment_id)) settled.set(e.data.payment_id, e.data);
  });
  progress(`read ${reports.size} batch reports, ${signed.size} signed batches, ${settled.size} settled payments`);

  const registered = new Set<string>();
  const register = async (m: string) => {
    if (registered.has(m)) return;
    await ledger.registerMerchant(m);
    registered.add(m);
  };
  const cursors = new BatchCursorCache();
  report.replayed['screened'] = await replayTopic<PaymentScreened>(kafka, TOPICS.paymentsScreened, (events) =>
    runKeyed(events, (e) => e.data.merchant_id, async ({ data: screened }) => {
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
      const plan = planPosting(instruction, screened.screened_at, options.fees, options.policy);
      const facts = settled.get(plan.paymentId);
      const original = facts ? parseBatchId(facts.batch_id) : undefined;
      if (facts && original && original.merchantId === plan.merchantId && original.currency === plan.currency && BigInt(facts.fee.minor) + BigInt(facts.net.minor) === plan.amount) {
        if (BigInt(facts.fee.minor) !== plan.fee) report.discrepancies.push(`payment ${plan.paymentId}: posted with fee ${facts.fee.minor}, the schedule now gives ${plan.fee}; restored as posted`);
        const window = windowOf(original.windowLabel, options.policy.cutoffS);
        const outcome = await ledger.post({ ...plan, fee: BigInt(facts.fee.minor), net: BigInt(facts.net.minor), window, postedAt: facts.posted_at, seq: original.seq, maxBatchPayments: options.policy.maxPayments, mode: 'restore' });
        if (outcome.kind === 'POSTED') report.postingsRestored++;
        else if (outcome.kind === 'DUPLICATE') report.alreadyPresent++;
        else if (outcome.kind === 'DECLINED') report.refusedDeclined++;
        return;
      }
      if (facts) report.discrepancies.push(`payment ${plan.paymentId}: settled event does not match its instruction (batch ${facts.batch_id}); recomputed`);
      const outcome = await postLive(ledger, plan, options.policy, now().toISOString(), cursors);
      if (outcome.kind === 'POSTED') report.postingsRecomputed++;
      else if (outcome.kind === 'DUPLICATE') report.alreadyPresent++;
      else report.refusedDeclined++;
    }),
  );
  progress(`posted ${report.postingsRestored} restored + ${report.postingsRecomputed} recomputed, ${report.alreadyPresent} already present, ${report.held} held`);

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
  for (const [id, { batch, at }] of [...signed].sort(([a], [b]) => a.localeCompare(b))) {
    const outcome = await ledger.recordSigned(batch.merchant_id, id, batch.kid, batch.report_jws, at);
    if (outcome === 'RECORDED') report.signedRecorded++;
    else if (outcome !== 'DUPLICATE') report.discrepancies.push(`signed batch ${id}: ${outcome === 'UNKNOWN' ? 'no such batch' : 'batch not closed'}`);
  }
  report.epoch = randomUUID();
  await ledger.setEpoch(report.epoch);
  return report;
}

function windowOf(label: string, cutoffS: number): BatchWindow {
  const iso = `${label.slice(0, 4)}-${label.slice(4, 6)}-${label.slice(6, 8)}T${label.slice(9, 11)}:${label.slice(11, 13)}:${label.slice(13, 15)}Z`;
  const startS = Date.parse(iso) / 1000;
  return { startS, endS: startS + cutoffS, label };
}
