// The status read model, a batch at a time: one consumed batch of the signed, screened or settled topic (one
// partition, offset order) is verified as a whole (every event's signature or seal, concurrently), and the writes of
// the genuine events go to Redis in ONE pipeline instead of one MULTI round trip per event.
//   - dedupe: an event id seen twice in one batch (a producer's re-send) is verified and written once; the copy
//     answers `duplicate`;
//   - forged events (signature or seal does not verify) raise the security alert and are dead-lettered
//     (PermanentError), as before; they never touch the read model;
//   - per-payment order: two events of one payment in a batch are written in offset order (an analyst's decision
//     after the screening replaces its decision). If an event fails (say the signing JWKS is unreachable), the
//     later events of the same payment in this call fail too, so they are retried after it, never before;
//   - every write is an idempotent HSET + EXPIRE: a redelivered batch writes the same fields again.
import { PaymentScreened, PaymentSettled, PaymentSigned, TOPICS, TopicContract } from '@payrail/contracts';
import type { SealCheck } from '@payrail/crypto';
import { type ConsumedEvent, type EventResult, PermanentError } from '@payrail/messaging';
import { StatusWrite, screenedEventWrite, settledEventWrite, signedWrite } from './payment-status.store';

/** What became of one event: handled, a redelivery, or failed (retried; a PermanentError is dead-lettered). */
export type StatusEventResult = EventResult;

/** The checks of StatusEvidence the batch needs. */
export interface StatusChecks {
  checkSigned(signed: PaymentSigned): Promise<SealCheck>;
  checkScreened(screened: PaymentScreened): Promise<SealCheck>;
  checkSettled(settled: PaymentSettled): Promise<SealCheck>;
}

/** The store's batched write (PaymentStatusStore.writeMany): one entry per write, undefined or its error. */
export interface StatusWriter {
  writeMany(writes: readonly StatusWrite[]): Promise<readonly (Error | undefined)[]>;
}

/** Raises the security alert for a forged event and throws the PermanentError that dead-letters it (refuseForgedEvent). */
export type RefuseForged = (forged: { topic: TopicContract; paymentId: string; check: Extract<SealCheck, { ok: false }> }) => Promise<never>;

const AFTER_FAILED = 'after a failed event of the same payment';

export class ApplyStatusBatch {
  constructor(
    private readonly checks: StatusChecks,
    private readonly writer: StatusWriter,
    private readonly refuseForged: RefuseForged,
  ) {}

  async execute(events: readonly ConsumedEvent[]): Promise<StatusEventResult[]> {
    const results: (StatusEventResult | undefined)[] = new Array(events.length);
    // the first occurrence of each event id; later copies take its result
    const firstOf = new Map<string, number>();
    const copyOf: (number | undefined)[] = new Array(events.length);
    events.forEach((event, i) => {
      const first = firstOf.get(event.envelope.id);
      if (first === undefined) firstOf.set(event.envelope.id, i);
      else copyOf[i] = first;
    });

    // every signature and seal of the batch at once
    const verdicts = await Promise.all(
      events.map((event, i) =>
        copyOf[i] !== undefined
          ? undefined
          : this.check(event).then(
              (check) => ({ check }),
              (err: unknown) => ({ error: asError(err) }),
            ),
      ),
    );

    // offset order: forged ones are refused, genuine ones become writes, unless an earlier event of the payment failed
    const failedPayments = new Set<string>();
    const writes: StatusWrite[] = [];
    const writeOf: number[] = [];
    for (let i = 0; i < events.length; i++) {
      const verdict = verdicts[i];
      if (verdict === undefined) continue;
      const event = events[i] as ConsumedEvent;
      const paymentId = paymentIdOf(event);
      if (failedPayments.has(paymentId)) {
        results[i] = { error: new Error(AFTER_FAILED) };
        continue;
      }
      if ('error' in verdict) {
        results[i] = { error: verdict.error };
        failedPayments.add(paymentId);
        continue;
      }
      if (!verdict.check.ok) {
        // dead-lettered for good: it never blocks the payment's genuine events
        results[i] = { error: await this.refuseForged({ topic: topicOf(event), paymentId, check: verdict.check }).catch(asError) };
        continue;
      }
      writes.push(writeFor(event));
      writeOf.push(i);
    }

    const written = await this.writer.writeMany(writes).catch((err: unknown) => writes.map(() => asError(err)));
    for (let w = 0; w < writeOf.length; w++) {
      const i = writeOf[w] as number;
      const failed = written[w];
      results[i] = failed ? { error: failed } : 'ok';
      // a later write of the same payment in this pipeline was sent after a failed one: retried after it
      if (failed) failedPayments.add(paymentIdOf(events[i] as ConsumedEvent));
    }
    for (let w = 0; w < writeOf.length; w++) {
      const i = writeOf[w] as number;
      if (results[i] === 'ok' && failedPayments.has(paymentIdOf(events[i] as ConsumedEvent)) && firstFailureBefore(results, events, i)) results[i] = { error: new Error(AFTER_FAILED) };
    }

    return events.map((_, i) => {
      const first = copyOf[i];
      if (first === undefined) return results[i] as StatusEventResult;
      const original = results[first] as StatusEventResult;
      return original === 'ok' ? 'duplicate' : original;
    });
  }

  private check(event: ConsumedEvent): Promise<SealCheck> {
    switch (event.topic) {
      case TOPICS.paymentsSigned.name:
        return this.checks.checkSigned(event.data as PaymentSigned);
      case TOPICS.paymentsScreened.name:
        return this.checks.checkScreened(event.data as PaymentScreened);
      case TOPICS.paymentsSettled.name:
        return this.checks.checkSettled(event.data as PaymentSettled);
      default:
        return Promise.reject(new PermanentError(`the status read model does not consume ${event.topic}`));
    }
  }
}

function writeFor(event: ConsumedEvent): StatusWrite {
  switch (event.topic) {
    case TOPICS.paymentsSigned.name:
      return signedWrite((event.data as PaymentSigned).payment_id, event.envelope.time);
    case TOPICS.paymentsScreened.name:
      return screenedEventWrite(event.data as PaymentScreened);
    default:
      return settledEventWrite(event.data as PaymentSettled);
  }
}

function topicOf(event: ConsumedEvent): TopicContract {
  return event.topic === TOPICS.paymentsSigned.name ? TOPICS.paymentsSigned : event.topic === TOPICS.paymentsScreened.name ? TOPICS.paymentsScreened : TOPICS.paymentsSettled;
}

function paymentIdOf(event: ConsumedEvent): string {
  return (event.data as { payment_id: string }).payment_id;
}

/** Whether an event of the same payment before `i` failed (its write or an earlier step). */
function firstFailureBefore(results: readonly (StatusEventResult | undefined)[], events: readonly ConsumedEvent[], i: number): boolean {
  const paymentId = paymentIdOf(events[i] as ConsumedEvent);
  for (let j = 0; j < i; j++) {
    const r = results[j];
    if (r !== undefined && typeof r === 'object' && !(r.error instanceof PermanentError) && paymentIdOf(events[j] as ConsumedEvent) === paymentId) return true;
  }
  return false;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
