// The status read model after a Redis loss. GET /v1/payments/{id} reads one Redis hash per payment, written from the
// accepted, signed, screened and settled topics; a Redis that restarts empty would answer 404 for every payment
// accepted before, though the upstream was told 202. The events are facts on Kafka, so when this Redis has no
// status marker (`status:restored`, once per Redis life; also at a first start), one ingest instance (a lease,
// renewed while it runs) replays the four topics over the status lifetime into the read model with the same
// idempotent writes as the live handler (first acceptance time kept, later events only add), and writes the marker
// last, only while it still holds the lease. It runs in the background: admissions do not wait for it. Only events
// their producers made are restored (ingest's own seal on accepted payments, then StatusEvidence): the others are
// counted as forged and skipped, as the live handler dead-letters them.
import { PaymentAccepted, PaymentScreened, PaymentSettled, PaymentSigned, TOPIC_RESTORES, TOPICS, TopicContract } from '@payrail/contracts';
import { Kafka, Redis, RedisLease, decode, partitionRangesSince, readPartitionRanges } from '@payrail/messaging';

import { PaymentStatusStore } from './payment-status.store';

const MARKER = 'status:restored';
const LEASE = 'status:lock:restore';

export interface StatusRestoreReport {
  events: number;
  /** Events whose seal or signature did not verify: not restored. */
  forged: number;
  ms: number;
}

/** Whether an event of each topic the restore reads was made by its producer. */
export interface StatusRestoreTrust {
  accepted(e: PaymentAccepted): Promise<boolean>;
  signed(e: PaymentSigned): Promise<boolean>;
  screened(e: PaymentScreened): Promise<boolean>;
  settled(e: PaymentSettled): Promise<boolean>;
}

export class StatusRestore {
  private readonly lease: RedisLease;

  constructor(
    private readonly redis: Redis,
    private readonly kafka: Kafka,
    private readonly status: PaymentStatusStore,
    /** How far back to read: the read model's lifetime (its keys expire after it). */
    private readonly windowS: number,
    private readonly trust: StatusRestoreTrust,
  ) {
    this.lease = new RedisLease(redis, LEASE);
  }

  /** Restores when this Redis has no marker; undefined when it had one, or another instance holds the lease. */
  async check(): Promise<StatusRestoreReport | undefined> {
    if ((await this.redis.exists(MARKER)) === 1 || !(await this.lease.acquire())) return undefined;
    return this.lease.hold(async () => {
      const started = Date.now();
      const sinceMs = started - this.windowS * 1000;
      const counts = { events: 0, forged: 0 };
      // accepted first: a status exists only once its acceptance is recorded; then the stages in pipeline order
      await this.replay(TOPICS.paymentsAccepted, sinceMs, counts, this.trust.accepted, (e: PaymentAccepted) => this.status.recordAccepted({ paymentId: e.payment_id, upstreamId: e.upstream_id, upstreamReference: e.upstream_reference, at: e.accepted_at }));
      await this.replay(TOPICS.paymentsSigned, sinceMs, counts, this.trust.signed, (e: PaymentSigned, time) => this.status.recordSigned(e.payment_id, time));
      await this.replay(TOPICS.paymentsScreened, sinceMs, counts, this.trust.screened, (e: PaymentScreened) => this.status.recordScreenedEvent(e));
      await this.replay(TOPICS.paymentsSettled, sinceMs, counts, this.trust.settled, (e: PaymentSettled) => this.status.recordSettledEvent(e));
      if (!(await this.lease.setIfHeld(MARKER, new Date().toISOString()))) throw new Error('the status restore lost its lease (Redis lost its data again?): not completed');
      return { ...counts, ms: Date.now() - started };
    });
  }

  /** One topic from `sinceMs` to its end as it was when the replay started. */
  private async replay<T>(topic: TopicContract, sinceMs: number, counts: { events: number; forged: number }, genuine: (event: T) => Promise<boolean>, apply: (event: T, time: string) => Promise<unknown>): Promise<void> {
    const ranges = await partitionRangesSince(this.kafka, topic.name, sinceMs);
    // each message is written as it is read (a finished write is dropped at once): nothing holds a whole topic
    const writing = new Set<Promise<void>>();
    let failed: unknown;
    await readPartitionRanges(
      this.kafka,
      ranges,
      (_t, _p, message) => {
        let decoded: { envelope: { time: string }; data: unknown };
        try {
          decoded = decode(topic, message);
        } catch {
          return 'continue'; // dead-lettered when it was consumed: nothing the status showed
        }
        const event = decoded.data as T;
        const write: Promise<void> = genuine(event)
          .then(async (ok) => {
            if (!ok) return void counts.forged++;
            await apply(event, decoded.envelope.time);
            counts.events++;
          })
          .catch((err: unknown) => void (failed ??= err))
          .finally(() => writing.delete(write));
        writing.add(write);
        return 'continue';
      },
      { clientLabel: TOPIC_RESTORES.ingestStatus.label },
    );
    await Promise.all(writing);
    if (failed) throw failed;
  }
}
