// From a verified payment instruction to a posting: the fee, the net and the settlement window are pure
// functions of the instruction, its screening time and the configured schedule, so the service, the reconcile
// command and a rebuild from Kafka compute the same posting. The live path posts into the window's current
// batch; the script says when another batch has become current (closed by size or by cutoff meanwhile).
import { PaymentInstruction, PaymentInstructionSchema, PaymentScreened } from '@payrail/contracts';
import { BatchWindow, batchWindow, cursorField } from './batch-id';
import { computeFee } from './fees';
import { LedgerRepository, PostingAmounts, PostingOutcome } from './ledger.repository';

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
