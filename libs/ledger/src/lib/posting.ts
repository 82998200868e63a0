// From a verified payment instruction to a posting: the fee, the net and the settlement window are pure
// functions of the instruction, its screening time and the configured schedule, so the service, the reconcile
// command and a rebuild from Kafka compute the same posting. The live path posts into the window's current
// batch; the script says when another batch has become current (closed by size or by cutoff meanwhile).
import { PaymentInstruction, PaymentInstructionSchema, PaymentScreened } from '@payrail/contracts';
import { BatchWindow, batchWindow, cursorField } from './batch-id';
import { computeFee } from './fees';
import { BatchOperation, BatchOperationOutcome, LedgerRepository, PostingAmounts, PostingOutcome } from './ledger.repository';

export interface FeeSchedule {
  bps: number;
  fixedMinor: number;
}

export interface BatchPolicy {
  /** Batches cover cutoff windows of this many seconds of screening time. */
  cutoffS: number;
  /** A batch closes when it holds this many payments. */
  maxPayments: number;
}

export interface PostingPlan extends PostingAmounts {
  screenedAt: string;
  window: BatchWindow;
  /** An analyst's APPROVE (the screened event carries `review`): may release a REVIEW hold. */
  releasesReview?: boolean;
}

export function planPosting(instruction: PaymentInstruction, screenedAt: string, fees: FeeSchedule, policy: BatchPolicy, releasesReview = false): PostingPlan {
  const amount = BigInt(instruction.amount.minor);
  const fee = computeFee(amount, fees.bps, fees.fixedMinor);
  return {
    paymentId: instruction.payment_id,
    merchantId: instruction.payee.merchant_id,
    currency: instruction.amount.currency,
    amount,
    fee,
    net: amount - fee,
    screenedAt,
    window: batchWindow(Date.parse(screenedAt), policy.cutoffS),
    releasesReview,
  };
}

/**
 * Which batch sequence is current per merchant, currency and window, as last seen: saves a round trip per posting.
 * Only a hint: the posting script checks it and answers with the current sequence when it is stale.
 */
export class BatchCursorCache {
  private readonly seqs = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  get(merchantId: string, field: string): number {
    return this.seqs.get(`${merchantId}\u0000${field}`) ?? 1;
  }

  set(merchantId: string, field: string, seq: number): void {
    if (this.seqs.size >= this.maxEntries) this.seqs.clear();
    this.seqs.set(`${merchantId}\u0000${field}`, seq);
  }

  clear(): void {
    this.seqs.clear();
  }
}

export type LivePostingOutcome = Exclude<PostingOutcome, { kind: 'STALE_BATCH' }>;

/** Posts into the window's current batch, following the script to the next sequence when the hint was stale. */
export async function postLive(ledger: LedgerRepository, plan: PostingPlan, policy: BatchPolicy, postedAt: string, cursors: BatchCursorCache): Promise<LivePostingOutcome> {
  const field = cursorField(plan.currency, plan.window);
  let seq = cursors.get(plan.merchantId, field);
  for (let attempt = 0; attempt < 8; attempt++) {
    const outcome = await ledger.post({ ...plan, postedAt, seq, maxBatchPayments: policy.maxPayments, mode: 'live' });
    if (outcome.kind !== 'STALE_BATCH') {
      if (outcome.kind === 'POSTED' && outcome.closedBySize) cursors.set(plan.merchantId, field, seq + 1);
      return outcome;
    }
    seq = outcome.currentSeq;
    cursors.set(plan.merchantId, field, seq);
  }
  throw new Error(`posting ${plan.paymentId}: the current batch kept changing`);
}

/**
 * A merchant's decisions of one consumed batch, posted live in one script per round (postBatch), following the
 * script to the current batch sequence when the hint was stale (it stops there; the rest goes again with the
 * right keys). `untilLedger` is awaited when the merchant's keys are not of the ledger's epoch (NO_LEDGER: nothing
 * of that round was written) before the rest goes again. One outcome per operation, in order.
 *
 * Order: operations run in the order given, so two decisions of one payment (a REVIEW then an analyst's APPROVE, a
 * DECLINE then an APPROVE) have the effect they had one by one. Across payments order changes nothing that matters:
 * balances are sums, and which batch of its window a payment lands in is whatever batch is current when its
 * posting runs (as with concurrent instances); the settled event tells it, and a rebuild follows the events.
 */
export async function postLiveBatch(
  ledger: LedgerRepository,
  merchantId: string,
  operations: readonly BatchOperation[],
  policy: BatchPolicy,
  postedAt: string,
  cursors: BatchCursorCache,
  untilLedger: () => Promise<void>,
): Promise<BatchOperationOutcome[]> {
  const outcomes: (BatchOperationOutcome | undefined)[] = new Array(operations.length).fill(undefined);
  const paymentOf = (op: BatchOperation) => (op.kind === 'post' ? op.posting.paymentId : op.paymentId);
  // payments with a refused operation: their later operations are not run, in this round or the next ones
  const failed = new Set<string>();
  let pending = operations.map((_, i) => i);
  let stale = 0;
  while (pending.length > 0) {
    pending = pending.filter((i) => {
      const op = operations[i];
      if (!op || !failed.has(paymentOf(op))) return true;
      outcomes[i] = { kind: 'SKIPPED' };
      return false;
    });
    if (pending.length === 0) break;
    const round = pending.map((i) => operations[i] as BatchOperation);
    const reply = await ledger.postBatch(merchantId, round, { postedAt, maxBatchPayments: policy.maxPayments, seqHint: (field) => cursors.get(merchantId, field) });
    if (reply.kind === 'NO_LEDGER') {
      await untilLedger();
      continue;
    }
    reply.outcomes.forEach((outcome, j) => {
      const op = round[j];
      const index = pending[j];
      if (!op || index === undefined) return;
      outcomes[index] = outcome;
      if (outcome.kind === 'ERROR' || outcome.kind === 'SKIPPED') failed.add(paymentOf(op));
      if (outcome.kind === 'POSTED' && op.kind === 'post') cursors.set(merchantId, cursorField(op.posting.currency, op.posting.window), outcome.closedBySize ? outcome.seq + 1 : outcome.seq);
    });
    pending = pending.slice(reply.outcomes.length);
    if (reply.stale) {
      cursors.set(merchantId, reply.stale.field, reply.stale.currentSeq);
      // rounds without progress (another instance closing batches meanwhile): bounded like postLive's loop
      stale = reply.outcomes.length === 0 ? stale + 1 : 0;
      if (stale >= 8) throw new Error(`posting batch of ${merchantId}: the current batch kept changing`);
    }
  }
  return outcomes.map((o) => o ?? { kind: 'SKIPPED' });
}

/** Does the signed instruction say what the screened event says (payment, merchant, amount)? */
export function instructionMatches(instruction: PaymentInstruction, screened: PaymentScreened): boolean {
  return (
    instruction.payment_id === screened.payment_id &&
    instruction.payee.merchant_id === screened.merchant_id &&
    instruction.amount.minor === screened.amount.minor &&
    instruction.amount.currency === screened.amount.currency
  );
}

/** Verifies a JWS with Payrail's keys: its payload, or undefined when the signature does not verify. */
export type PayloadVerifier = (jws: string) => Promise<unknown>;

/** The instruction a screened event carries, when Payrail's signature verifies and it matches the event. */
export function instructionVerifier(verifyPayload: PayloadVerifier): (screened: PaymentScreened) => Promise<PaymentInstruction | undefined> {
  return async (screened) => {
    const payload = await verifyPayload(screened.instruction_jws);
    if (payload === undefined) return undefined;
    const parsed = PaymentInstructionSchema.safeParse(payload);
    return parsed.success && instructionMatches(parsed.data, screened) ? parsed.data : undefined;
  };
}
