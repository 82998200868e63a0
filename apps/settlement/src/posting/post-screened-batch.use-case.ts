// Posting the screened payments of one consumed partition batch at once (framework-free: the Nest wiring is in
// posting.providers.ts, the handler in posting.handler.ts).
//
// 1. Every event is checked on its own, as before: fraud-check's seal over the decision (fraud-check's public sealing
//    keys only; a forged or unsealed decision raises a security alert and is dead-lettered, nothing is written), and
//    for an APPROVE Payrail's signature over the instruction (settlement trusts no upstream stage blindly), its
//    schema, and that it says what the event says. The fee, net and window are computed (planPosting).
// 2. Each merchant's decisions of the batch go to Redis in ONE script (LedgerRepository.postBatch: the merchant's keys
//    share its `{merchant}` hash tag, so one slot per script, Redis Cluster ready); the merchants' scripts are sent
//    together (one round trip). Inside the script each payment's posting hash is checked first: a posting found is a
//    DUPLICATE answered with the first posting's facts, so a redelivered batch, a re-sent script or a payment twice
//    in one batch posts nothing twice. REVIEW / DECLINE record the hold, so the ledger itself refuses to post a
//    declined payment; an analyst's APPROVE of a payment held in REVIEW (a screened event with `review`) posts it.
// 3. Every posting's `settled` event (sealed by settlement: deterministic EdDSA, so a duplicate re-publishes the same
//    bytes) is published at once (the producer gathers them into one produce request); a duplicate re-publishes what
//    was posted the first time, so a crash between posting and publishing loses nothing.
//
// Order. The events of one partition batch come in offset order, and the topic is keyed by merchant. What needs an
// order is the decisions of ONE payment (a REVIEW then the analyst's APPROVE; a DECLINE then an APPROVE, which the
// decline makes final; an APPROVE then a DECLINE, which finds the posting): the script runs a merchant's operations
// in offset order, and when one event of a payment fails, the later events of that payment in the call fail too
// (they come back with it, in order). Across payments, even of one merchant, order changes nothing that matters:
// balances are sums, and the batch a posting lands in is whichever is current for its window when it runs (as with
// two instances), told by its settled event, which a rebuild follows. So a failed event holds back only its own
// payment's later events, not the merchant's.
import { PaymentInstruction, PaymentInstructionSchema, PaymentScreened, PaymentSettled, TOPICS } from '@payrail/contracts';
import { CryptoError, SealCheck, isTokenVerdict } from '@payrail/crypto';
import { BatchOperation, BatchOperationOutcome, BatchPolicy, FeeSchedule, PostingPlan, instructionMatches, planPosting } from '@payrail/ledger';
import { ConsumedEvent, DependencyUnavailableError, EventProducer, EventResult, PermanentError, SettlementMetrics, refuseForgedEvent } from '@payrail/messaging';

/** The ledger as the posting stage uses it (the service's Ledger provider; an in-memory one in unit tests). */
export interface PostingLedger {
  /** The merchant's keys join the service's epoch (waits while the ledger is restored); idempotent, cached. */
  registerMerchant(merchantId: string): Promise<void>;
  /** One merchant's operations in order, one outcome each (waits for the ledger when Redis lost it). */
  postBatch(merchantId: string, operations: readonly BatchOperation[], postedAt: string): Promise<BatchOperationOutcome[]>;
  /** Changes when Redis lost the ledger and it was restored (or adopted again). */
  readonly attachedEpoch: string | undefined;
  /** Puts a posting back as its settled event told it (Redis was lost while the event was published). */
  reassert(plan: PostingPlan, told: PaymentSettled): Promise<void>;
}

export interface PostingLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PostScreenedBatchDeps {
  ledger: PostingLedger;
  fees: FeeSchedule;
  policy: BatchPolicy;
  /** fraud-check's seal over the decision (never throws for a bad seal). */
  checkDecision(screened: PaymentScreened): Promise<SealCheck>;
  /** Payrail's signature over the instruction: its payload; throws CryptoError when it does not verify. */
  verifyInstruction(jws: string): Promise<unknown>;
  sealSettled(settled: PaymentSettled): PaymentSettled;
  producer: Pick<EventProducer, 'publish'>;
  metrics: Pick<SettlementMetrics, 'posted' | 'batchClosed' | 'verificationFailed'>;
  logger: PostingLogger;
  now?: () => Date;
}

/** An event checked and turned into its ledger operation. */
interface Prepared {
  index: number;
  /** The screened event's trace: the settled event continues it. */
  traceparent: string | undefined;
  screened: PaymentScreened;
  op: BatchOperation;
  instruction?: PaymentInstruction;
  plan?: PostingPlan;
}

/** What a posted (or found) payment publishes. */
interface Publication {
  settled: PaymentSettled;
  plan: PostingPlan;
  sent: Promise<void>;
}

export class PostScreenedBatchUseCase {
  private readonly now: () => Date;

  constructor(private readonly deps: PostScreenedBatchDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** One result per event, in order (see the file's head for what is checked, written and published). */
  async execute(events: readonly ConsumedEvent<PaymentScreened>[]): Promise<EventResult[]> {
    const results: (EventResult | undefined)[] = new Array(events.length).fill(undefined);
    const fail = (i: number, error: unknown) => (results[i] = { error: error instanceof Error ? error : new Error(String(error)) });

    // 1. checks, event by event (each its own result); a payment's later events wait for a failed earlier one
    const checked = await Promise.all(events.map((event, index) => this.prepare(event.data, index, event.envelope.traceparent).catch((err: unknown) => err)));
    const failedPayments = new Set<string>();
    const byMerchant = new Map<string, Prepared[]>();
    checked.forEach((c, i) => {
      const screened = events[i]?.data as PaymentScreened;
      if (failedPayments.has(screened.payment_id)) fail(i, new Error('after a failed event of the same payment'));
      else if (!isPrepared(c)) {
        failedPayments.add(screened.payment_id);
        fail(i, c);
      } else {
        const list = byMerchant.get(screened.merchant_id);
        if (list) list.push(c);
        else byMerchant.set(screened.merchant_id, [c]);
      }
    });

    // 2. one script per merchant, all merchants at once
    const postedAt = this.now().toISOString();
    const publications = new Map<string, Publication>();
    const sends: { index: number; publication: Publication; outcome: 'ok' | 'duplicate'; epoch: string | undefined }[] = [];
    await Promise.all(
      [...byMerchant].map(async ([merchantId, prepared]) => {
        let outcomes: BatchOperationOutcome[];
        try {
          await this.deps.ledger.registerMerchant(merchantId);
          outcomes = await this.deps.ledger.postBatch(
            merchantId,
            prepared.map((p) => p.op),
            postedAt,
          );
        } catch (err) {
          // nothing or part of it written: the retry finds what was (each operation is idempotent)
          for (const p of prepared) fail(p.index, err);
          return;
        }
        // the epoch the postings were written in (a restore while the events are published changes it)
        const epoch = this.deps.ledger.attachedEpoch;
        prepared.forEach((p, j) => {
          const outcome = outcomes[j];
          const published = outcome && this.settle(p, outcome, postedAt, publications);
          if (!outcome) fail(p.index, new Error('no posting outcome'));
          else if (published) sends.push({ index: p.index, ...published, epoch });
          else if (outcome.kind === 'ERROR') fail(p.index, new Error(`posting refused by the ledger: ${outcome.message}`));
          else if (outcome.kind === 'SKIPPED') fail(p.index, new Error('after a failed event of the same payment'));
          else results[p.index] = 'ok';
        });
      }),
    );

    // 3. every settled event at once; a failed publish is retried (the redelivery finds the posting)
    await Promise.all(
      sends.map(async ({ index, publication, outcome }) => {
        try {
          await publication.sent;
          results[index] = outcome;
        } catch (err) {
          fail(index, err);
        }
      }),
    );
    // Redis lost the ledger while these were published: the restore may have read the settled topic before them
    const lost = new Set(sends.filter((s) => s.epoch !== this.deps.ledger.attachedEpoch).map((s) => s.publication));
    for (const publication of lost) await this.deps.ledger.reassert(publication.plan, publication.settled);
    return results.map((r) => r ?? { error: new Error('not handled') });
  }

  /** The checks of one event; throws (PermanentError for what no retry can fix) when it must not be acted on. */
  private async prepare(screened: PaymentScreened, index: number, traceparent: string | undefined): Promise<Prepared> {
    await this.verifiedDecision(screened);
    if (screened.decision !== 'APPROVE') return { index, traceparent, screened, op: { kind: 'hold', paymentId: screened.payment_id, decision: screened.decision } };
    const instruction = await this.verifiedInstruction(screened);
    const plan = planPosting(instruction, screened.screened_at, this.deps.fees, this.deps.policy, screened.review !== undefined);
    return { index, traceparent, screened, instruction, plan, op: { kind: 'post', posting: plan } };
  }

  /** Logs what needs logging; the publication when the payment is posted (now or before). */
  private settle(p: Prepared, outcome: BatchOperationOutcome, postedAt: string, publications: Map<string, Publication>): { publication: Publication; outcome: 'ok' | 'duplicate' } | undefined {
    const { screened, plan, instruction } = p;
    const ids = { payment_id: screened.payment_id, merchant_id: screened.merchant_id };
    switch (outcome.kind) {
      case 'ALREADY_POSTED':
        // settlement never reverses a posting on its own: operators see it here and in reconcile
        if (p.op.kind === 'hold' && p.op.decision === 'DECLINE') this.deps.logger.error(ids, 'DECLINE for a payment already posted: the posting stands');
        return undefined;
      case 'DECLINED':
        this.deps.logger.error(ids, 'approval of a payment declined earlier: not posted (a decline is final)');
        return undefined;
      case 'IN_REVIEW':
        this.deps.logger.error(ids, 'automatic approval of a payment held in REVIEW: not posted (only an analyst releases a review)');
        return undefined;
      case 'POSTED':
      case 'DUPLICATE': {
        if (!plan || !instruction) throw new Error('posting outcome for a hold');
        this.deps.metrics.posted(plan.currency, outcome.kind === 'POSTED' ? 'posted' : 'duplicate');
        if (outcome.kind === 'POSTED' && outcome.closedBySize) this.deps.metrics.batchClosed('size');
        // a payment twice in this batch: its second event finds the first posting; the same event goes out once
        const earlier = publications.get(plan.paymentId);
        if (earlier) return { publication: earlier, outcome: 'duplicate' };
        // on a duplicate, publish what was posted the first time
        const posted = outcome.kind === 'DUPLICATE' ? { fee: outcome.fee, net: outcome.net, postedAt: outcome.postedAt } : { fee: plan.fee, net: plan.net, postedAt };
        const settled = this.deps.sealSettled({
          payment_id: plan.paymentId,
          merchant_id: plan.merchantId,
          amount: instruction.amount,
          fee: { minor: posted.fee.toString(), currency: instruction.amount.currency },
          net: { minor: posted.net.toString(), currency: instruction.amount.currency },
          posted_at: posted.postedAt,
          batch_id: outcome.batchId,
        });
        const sent = this.deps.producer.publish(TOPICS.paymentsSettled, settled, { key: settled.merchant_id, correlationId: settled.payment_id, eventId: `${settled.payment_id}:settled`, subject: settled.payment_id, traceparent: p.traceparent });
        const publication = { settled, plan, sent };
        sent.catch(() => undefined); // awaited by every event it answers
        publications.set(plan.paymentId, publication);
        return { publication, outcome: outcome.kind === 'POSTED' ? 'ok' : 'duplicate' };
      }
      default:
        return undefined;
    }
  }

  /** fraud-check's seal over this exact decision; otherwise a security alert and a PermanentError (dead letter). */
  private async verifiedDecision(screened: PaymentScreened): Promise<void> {
    const check = await this.deps.checkDecision(screened);
    if (check.ok) return;
    this.deps.metrics.verificationFailed('event_seal');
    this.deps.logger.error({ payment_id: screened.payment_id, reason: check.reason, kid: check.kid }, 'screened event without a fraud-check seal that verifies: dead-lettered, not posted');
    await refuseForgedEvent(this.deps.producer as EventProducer, { service: 'settlement', topic: TOPICS.paymentsScreened.name, subject: screened.payment_id, paymentId: screened.payment_id, reason: check.reason, kid: check.kid });
  }

  private async verifiedInstruction(screened: PaymentScreened): Promise<PaymentInstruction> {
    let instruction: PaymentInstruction;
    try {
      instruction = PaymentInstructionSchema.parse(await this.deps.verifyInstruction(screened.instruction_jws));
    } catch (err) {
      if (isTokenVerdict(err)) {
        this.deps.metrics.verificationFailed('payment_instruction');
        await this.deps.producer.publish(
          TOPICS.securityAlerts,
          { alert: 'signature_invalid', service: 'settlement', payment_id: screened.payment_id, detail: 'approved payment with an invalid Payrail signature was not posted', raised_at: this.now().toISOString() },
          { key: screened.payment_id, correlationId: screened.payment_id, eventId: `${screened.payment_id}:alert:settlement-signature` },
        );
        throw new PermanentError('payment instruction signature invalid: not posted', 'signature_invalid');
      }
      // Payrail's JWKS unreadable is no verdict: the event waits until it can be checked
      if (err instanceof CryptoError) throw new DependencyUnavailableError('the signing JWKS', err.message);
      throw err;
    }
    if (!instructionMatches(instruction, screened)) {
      throw new PermanentError('screened event does not match its signed instruction', 'mismatch');
    }
    return instruction;
  }
}

function isPrepared(c: unknown): c is Prepared {
  return typeof c === 'object' && c !== null && 'op' in c && 'screened' in c;
}
