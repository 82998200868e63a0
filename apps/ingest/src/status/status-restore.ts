// The status read model after a Redis loss. GET /v1/payments/{id} reads one Redis hash per payment, written from the
// accepted, signed, screened and settled topics; a Redis that restarts empty would answer 404 for every payment
// accepted before, though the upstream was told 202. The events are facts on Kafka, so when this Redis has no
// status marker (`status:restored`, once per Redis life; also at a first start), one ingest instance (a lease,
// renewed while it runs) replays the four topics over the status lifetime into the read model with the same
// idempotent writes as the live handler (first acceptance time kept, later events only add), and writes the marker
// last, only while it still holds the lease. It runs in the background: admissions do not wait for it.
import { randomUUID } from 'node:crypto';
import { PaymentAccepted, PaymentScreened, PaymentSettled, PaymentSigned, TOPICS, TopicContract } from '@payrail/contracts';
import { Kafka, RangeVisitor, Redis, decode, readPartitionRanges } from '@payrail/messaging';

type KafkaMessage = Parameters<RangeVisitor>[2];
import { PaymentStatusStore } from './payment-status.store';

const MARKER = 'status:restored';
const LEASE = 'status:lock:restore';
const LEASE_MS = 30_000;

export interface StatusRestoreReport {
  events: number;
  ms: number;
}

export class StatusRestore {
  private running: Promise<StatusRestoreReport | undefined> | undefined;
  private readonly holder = randomUUID();

  constructor(
    private readonly redis: Redis,
    private readonly kafka: Kafka,
    private readonly status: PaymentStatusStore,
    /** How far back to read: the read model's lifetime (its keys expire after it). */
    private readonly windowS: number,
  ) {}

  /** Restores when this Redis has no marker; undefined when it had one, or another instance holds the lease. */
  check(): Promise<StatusRestoreReport | undefined> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<StatusRestoreReport | undefined> {
    if ((await this.redis.exists(MARKER)) === 1) return undefined;
    if ((await this.redis.set(LEASE, this.holder, 'PX', LEASE_MS, 'NX')) !== 'OK') return undefined;
    const renew = setInterval(() => void this.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0", 1, LEASE, this.holder, String(LEASE_MS)).catch(() => undefined), LEASE_MS / 3);
    renew.unref();
    const started = Date.now();
    try {
      const sinceMs = started - this.windowS * 1000;
      let events = 0;
      // accepted first: a status exists only once its acceptance is recorded; then the stages in pipeline order
      events += await this.replay(TOPICS.paymentsAccepted, sinceMs, (e: PaymentAccepted) => this.status.recordAccepted({ paymentId: e.payment_id, upstreamId: e.upstream_id, upstreamReference: e.upstream_reference, at: e.accepted_at }));
      events += await this.replay(TOPICS.paymentsSigned, sinceMs, (e: PaymentSigned, time) => this.status.recordSigned(e.payment_id, time));
      events += await this.replay(TOPICS.paymentsScreened, sinceMs, (e: PaymentScreened) => this.status.recordScreenedEvent(e));
      events += await this.replay(TOPICS.paymentsSettled, sinceMs, (e: PaymentSettled) => this.status.recordSettledEvent(e));
      const done = await this.redis.eval("if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end redis.call('SET', KEYS[1], ARGV[1]) return 1", 2, MARKER, LEASE, new Date().toISOString(), this.holder);
      if (done !== 1) throw new Error('the status restore lost its lease (Redis lost its data again?): not completed');
      return { events, ms: Date.now() - started };
    } finally {
      clearInterval(renew);
      await this.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, LEASE, this.holder);
    }
  }

  /** One topic from `sinceMs` to its end as it was when the replay started; writes in chunks of 500. */
  private async replay<T>(topic: TopicContract, sinceMs: number, apply: (event: T, time: string) => Promise<unknown>): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    let ranges: { topic: string; partition: number; start: bigint; end: bigint }[];
    try {
      const [from, to] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic.name, sinceMs), admin.fetchTopicOffsets(topic.name)]);
      const high = new Map(to.map((o) => [o.partition, BigInt(o.high)]));
      ranges = from.map((o) => ({ topic: topic.name, partition: o.partition, start: BigInt(o.offset), end: high.get(o.partition) ?? BigInt(o.offset) }));
    } finally {
      await admin.disconnect();
    }
    const messages: KafkaMessage[] = [];
    await readPartitionRanges(this.kafka, ranges, (_t, _p, message) => (messages.push(message), 'continue'), { clientLabel: 'payrail-ingest-status-restore' });
    let applied = 0;
    for (let i = 0; i < messages.length; i += 500) {
      await Promise.all(
        messages.slice(i, i + 500).map(async (message) => {
          let decoded: { envelope: { time: string }; data: unknown };
          try {
            decoded = decode(topic, message);
          } catch {
            return; // dead-lettered when it was consumed: nothing the status showed
          }
          await apply(decoded.data as T, decoded.envelope.time);
          applied++;
        }),
      );
    }
    return applied;
  }
}
