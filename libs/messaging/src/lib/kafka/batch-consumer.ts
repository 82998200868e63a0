// Consumes a set of Payrail topics as one consumer group with eachBatch. A topic's route has either a per-message
// handler (messages with different keys handled concurrently, messages with the same key in order) or a batch
// handler (every decoded message of one fetched partition batch at once, in offset order: one verification pass, one
// Redis round trip, one produce request for the lot). Each message is decoded (envelope, JSON, schema version, zod
// schema) before a handler sees it; undecodable or invalid messages, permanent handler errors and exhausted retries
// go to the stage's dead-letter topic with the reason in headers. Offsets are committed only up to the last message
// whose handling (or dead-lettering) finished, so a crash re-delivers and never skips. They are committed every
// `commitIntervalMs` (and when the consumer stops), not after every batch: kafkajs' auto-commit sends an OffsetCommit
// request, a write to the broker's __consumer_offsets log, per batch. A crash or a rebalance re-delivers at most the
// interval's messages, which every handler tolerates (redelivery is always possible).
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Message } from 'kafkajs';
import {
  DLQ_HEADERS,
  DLQ_VALUE_PROTECTION,
  EventEnvelope,
  RawHeaders,
  TopicContract,
  headersToEnvelope,
  redactCardNumbers,
} from '@payrail/contracts';
import { DependencyUnavailableError, PermanentError, SchemaInvalidError, UndecodableMessageError, WrongVersionError } from './errors';
import type { EventProducer } from './event-producer';
import { MessagingMetrics, noopMetrics } from '../metrics';
import { OpenConsumerSpan, startConsumerSpan, withConsumerSpan, withLogContext } from '@payrail/telemetry';

export interface ConsumedEvent<T = unknown> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly envelope: EventEnvelope;
  readonly data: T;
  readonly headers: RawHeaders;
  /** 1 on first delivery to the handler within this process; grows with retries. */
  readonly attempt: number;
}

/** What a handler may report: `duplicate` when the event had been processed before (counted apart in metrics). */
export type HandlerOutcome = 'ok' | 'duplicate';

export type EventHandler = (event: ConsumedEvent) => Promise<void | HandlerOutcome>;

/** What became of one event of a batch: handled, recognised as a redelivery, or failed (retried, then dead-lettered). */
export type EventResult = HandlerOutcome | { readonly error: Error };

/**
 * Handles the decoded events of one fetched partition batch at once, in offset order; resolves to one result per
 * event, in the same order. The events that failed come back (alone, in offset order) after the backoff, up to the
 * consumer's attempts; a PermanentError is dead-lettered at once. A throw fails every event of the call. Per-key
 * order is the handler's to keep: where it matters for the effect, an event after a failed one of the same key must
 * fail too (not be applied). With tracing on, the consumer opens a CONSUMER span per event (not active: one call serves
 * many events) and hands the event over with that span's traceparent in its envelope, so what the handler publishes
 * with `traceparent: event.envelope.traceparent` hangs under it.
 */
export type BatchEventHandler = (events: readonly ConsumedEvent[]) => Promise<readonly EventResult[]>;

/** A topic and what handles it: one message at a time (`handler`) or a batch at a time (`batchHandler`). */
export type EventRoute = { readonly topic: TopicContract } & ({ readonly handler: EventHandler; readonly batchHandler?: never } | { readonly batchHandler: BatchEventHandler; readonly handler?: never });

/** The attributes of an event's CONSUMER span (built only when a span is). */
function spanAttributes(topic: string, partition: number, offset: string, envelope: EventEnvelope) {
  return () => ({ 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.kafka.partition': partition, 'messaging.kafka.offset': offset, 'payrail.correlation_id': envelope.correlationid ?? '' });
}

/**
 * Runs a per-message handler as the handling of one event: inside a consumer span continuing the producer's trace (so
 * what it publishes carries the payment's traceparent; a no-op with tracing off), with the event's ids in the log
 * context. A batch route gets a span per event from startConsumerSpan instead.
 */
function withEventContext<T>(event: Pick<ConsumedEvent, 'topic' | 'partition' | 'offset' | 'envelope'>, fn: () => Promise<T>): Promise<T> {
  const { topic, partition, offset, envelope } = event;
  const attributes = spanAttributes(topic, partition, offset, envelope);
  const logFields: Record<string, string> = envelope.correlationid ? { event_id: envelope.id, correlation_id: envelope.correlationid } : { event_id: envelope.id };
  return withConsumerSpan(envelope.traceparent, `${topic} process`, attributes, () => withLogContext(logFields, fn));
}

export interface ConsumerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface BatchConsumerOptions {
  groupId: string;
  /** Handlers by topic name; the topic's contract decides how its messages are decoded. */
  routes: EventRoute[];
  deadLetterTopic: string;
  producer: EventProducer;
  logger: ConsumerLogger;
  metrics?: MessagingMetrics;
  /** Attempts per message before it is dead-lettered (default 3). */
  maxAttempts?: number;
  /** Backoff before retry n (ms); the last value repeats (default 100, 400). */
  backoffMs?: number[];
  /** Keys handled at once within one batch (default 64). */
  keyConcurrency?: number;
  /** Partitions handled at once (default 4). */
  partitionsConcurrently?: number;
  fromBeginning?: boolean;
  /**
   * Seals the value of a dead letter from a topic with card numbers in clear (TopicContract.cardNumbersInClear),
   * e.g. as a JWE to the data-protection key. Without one, or when it fails, such a value is withheld: a dead letter
   * never keeps a readable card number.
   */
  protectDeadLetterValue?: (value: Buffer) => Promise<Buffer>;
  /** Called when kafkajs gives up on the consumer (no restart): the service must turn unhealthy. */
  onCrash?: (err: Error) => void;
  /**
   * Crashes in a row (no batch finished in between, each within 5 min of the last) kafkajs may restart the consumer
   * after (default 5); past that the consumer is crashed for good instead of restarting forever behind a
   * live-looking process.
   */
  maxConsecutiveRestarts?: number;
  sessionTimeoutMs?: number;
  maxWaitTimeInMs?: number;
  /** How often finished offsets are committed (default 500 ms); also when the consumer stops. */
  commitIntervalMs?: number;
}

/** `restarting`: kafkajs crashed and restarts the consumer (not ready); `crashed`: for good (not live). */
export type ConsumerState = 'idle' | 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'crashed';

/** One decoded message on its way to the handler. */
interface Delivery {
  topic: string;
  partition: number;
  message: KafkaMessage;
  route: { topic: TopicContract; handler: EventHandler };
  decoded: { envelope: EventEnvelope; data: unknown };
  headers: RawHeaders;
  key: string | undefined;
  started: number;
}

interface FailureRecord {
  attempts: number;
  first: Date;
  last: Date;
  error: Error;
}

export class BatchConsumer {
  private readonly consumer: Consumer;
  private readonly routes: Map<string, EventRoute>;
  private readonly metrics: MessagingMetrics;
  private readonly maxAttempts: number;
  private readonly backoffMs: number[];
  private readonly keyConcurrency: number;
  private stateValue: ConsumerState = 'idle';
  private crashError: Error | undefined;
  private assigned = 0;
  private consecutiveRestarts = 0;
  private lastCrashAt = 0;
  /** The next offset to consume per "topic\u0000partition", finished but not committed yet. */
  private readonly uncommitted = new Map<string, { topic: string; partition: number; offset: string }>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();

  constructor(kafka: Kafka, private readonly options: BatchConsumerOptions) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100,
      rebalanceTimeout: 60_000,
      retry: {
        retries: 5,
        restartOnFailure: async () => this.consecutiveRestarts < (options.maxConsecutiveRestarts ?? 5),
      },
    });
    for (const route of options.routes) {
      if (typeof route.handler === typeof route.batchHandler) throw new Error(`route ${route.topic.name}: give either a handler or a batchHandler`);
    }
    this.routes = new Map(options.routes.map((r) => [r.topic.name, r]));
    this.metrics = options.metrics ?? noopMetrics;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffMs = options.backoffMs ?? [100, 400];
    this.keyConcurrency = options.keyConcurrency ?? 64;
    const { CRASH, GROUP_JOIN, REBALANCING, STOP } = this.consumer.events;
    // a partition may move to another member: what was finished here and not committed is consumed again there
    this.consumer.on(REBALANCING, () => this.uncommitted.clear());
    this.consumer.on(CRASH, (event) => {
      const error = event.payload.error;
      this.uncommitted.clear(); // the restarted consumer resumes from the committed offsets
      if (event.payload.restart) {
        // crashes far apart (a broker restart now and then) are not a crash loop
        if (Date.now() - this.lastCrashAt > CRASH_LOOP_WINDOW_MS) this.consecutiveRestarts = 0;
        this.lastCrashAt = Date.now();
        this.consecutiveRestarts++;
        this.stateValue = 'restarting';
        this.options.logger.warn({ err: error.message, groupId: options.groupId, restarts: this.consecutiveRestarts }, 'consumer crashed; kafkajs restarts it');
        return;
      }
      this.stateValue = 'crashed';
      this.crashError = error;
      this.options.logger.error({ err: error.message, groupId: options.groupId }, 'consumer crashed and will not restart');
      this.options.onCrash?.(error);
    });
    this.consumer.on(GROUP_JOIN, (event) => {
      this.assigned = Object.values(event.payload.memberAssignment).reduce((n, parts) => n + parts.length, 0);
      if (this.stateValue === 'restarting') this.stateValue = 'running';
      this.options.logger.info({ groupId: options.groupId, assignment: event.payload.memberAssignment }, 'joined consumer group');
    });
    this.consumer.on(STOP, () => {
      if (this.stateValue !== 'crashed') this.stateValue = 'stopped';
    });
  }

  get state(): ConsumerState {
    return this.stateValue;
  }

  get crashReason(): string | undefined {
    return this.crashError?.message;
  }

  get assignedPartitions(): number {
    return this.assigned;
  }

  async start(): Promise<void> {
    this.stateValue = 'starting';
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.routes.keys()], fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false, // committed every commitIntervalMs by commitFinished, not by kafkajs after every batch
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 4,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    // kafkajs reports a crash while joining through the CRASH event, not by rejecting run()
    if (this.stateValue === 'starting') this.stateValue = 'running';
    this.commitTimer = setInterval(() => void this.commitFinished(), this.options.commitIntervalMs ?? 500);
    this.commitTimer.unref();
  }

  /** Commits the finished offsets not committed yet (one request at a time; a failure leaves them for the next). */
  private commitFinished(): Promise<void> {
    this.committing = this.committing.then(async () => {
      if (this.uncommitted.size === 0) return;
      const offsets = [...this.uncommitted.values()];
      this.uncommitted.clear();
      try {
        await this.consumer.commitOffsets(offsets);
      } catch (err) {
        // not lost: put back unless a newer offset of the partition was finished meanwhile (or a rebalance cleared it)
        for (const o of offsets) if (!this.uncommitted.has(`${o.topic}\u0000${o.partition}`)) this.uncommitted.set(`${o.topic}\u0000${o.partition}`, o);
        this.options.logger.warn({ err: (err as Error).message, groupId: this.options.groupId, partitions: offsets.length }, 'offset commit failed; retried with the next');
      }
    });
    return this.committing;
  }

  /** Stops fetching, lets the in-flight batch finish its current messages, commits them, leaves the group. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'idle') return;
    const crashed = this.stateValue === 'crashed';
    this.stateValue = 'stopping';
    clearInterval(this.commitTimer);
    if (!crashed) await this.commitFinished(); // what finished before now; a batch still in flight commits its own
    await this.consumer.disconnect();
    this.stateValue = crashed ? 'crashed' : 'stopped';
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning } = payload;
    const route = this.routes.get(batch.topic);
    if (!route || batch.messages.length === 0) return;
    const fetchedAt = Date.now();
    for (const message of batch.messages) this.metrics.waited(batch.topic, 'fetch_wait', fetchedAt - Number(message.timestamp));
    const completed = new Set<string>();
    if (route.batchHandler) {
      await this.processBatch(batch.topic, batch.partition, batch.messages, route.topic, route.batchHandler, fetchedAt, completed, payload);
    } else {
      await this.processByKey(batch.topic, batch.partition, batch.messages, { topic: route.topic, handler: route.handler }, fetchedAt, completed, payload);
    }

    // Commit the contiguous prefix that finished (all of it, unless we are stopping or were revoked).
    let lastDone: string | undefined;
    for (const message of batch.messages) {
      if (!completed.has(message.offset)) break;
      lastDone = message.offset;
    }
    if (lastDone !== undefined) {
      resolveOffset(lastDone);
      this.uncommitted.set(`${batch.topic}\u0000${batch.partition}`, { topic: batch.topic, partition: batch.partition, offset: String(BigInt(lastDone) + 1n) });
    }
    // stopping: kafkajs leaves the group after this batch without committing, so commit what finished now
    if (!isRunning()) await this.commitFinished();
    await heartbeat();
    // what is left behind this batch on the partition: its high watermark minus the next offset to consume
    const nextOffset = lastDone !== undefined ? BigInt(lastDone) + 1n : BigInt(batch.firstOffset() ?? '0');
    const lag = BigInt(batch.highWatermark) - nextOffset;
    this.metrics.lag(batch.topic, batch.partition, Number(lag > 0n ? lag : 0n));
    if (lastDone !== undefined) this.consecutiveRestarts = 0;
  }

  /** Per-message handler: same key in order, different keys concurrently (bounded); `completed` gets what finished. */
  private async processByKey(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    route: { topic: TopicContract; handler: EventHandler },
    fetchedAt: number,
    completed: Set<string>,
    { heartbeat, isRunning, isStale }: Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>,
  ): Promise<void> {
    const byKey = new Map<string, KafkaMessage[]>();
    for (const message of messages) {
      const key = message.key?.toString('utf8') ?? `\u0000offset:${message.offset}`;
      const list = byKey.get(key);
      if (list) list.push(message);
      else byKey.set(key, [message]);
    }
    const keyQueues = [...byKey.values()];
    let next = 0;
    let lastHeartbeat = Date.now();
    const worker = async (): Promise<void> => {
      while (next < keyQueues.length) {
        const queue = keyQueues[next++];
        if (!queue) break;
        for (const message of queue) {
          if (!isRunning() || isStale()) return;
          // false: stopped during a dependency outage; the message and the rest of its key stay for the restart
          if (!(await this.processMessage(topic, partition, message, route, fetchedAt, { isRunning, heartbeat }))) return;
          completed.add(message.offset);
          if (Date.now() - lastHeartbeat > 1_000) {
            lastHeartbeat = Date.now();
            await heartbeat();
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.keyConcurrency, keyQueues.length) }, worker));
  }

  /**
   * Batch handler: decode every message (undecodable ones dead-lettered), hand the events over at once, retry the
   * failed ones as a smaller batch after the backoff, dead-letter what is permanent or exhausted. `completed` gets
   * every offset handled or dead-lettered; stopping or a revoked partition leaves the rest uncommitted (redelivered).
   */
  private async processBatch(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    contract: TopicContract,
    batchHandler: BatchEventHandler,
    fetchedAt: number,
    completed: Set<string>,
    { heartbeat, isRunning, isStale }: Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>,
  ): Promise<void> {
    const started = Date.now();
    interface Pending {
      message: KafkaMessage;
      event: Omit<ConsumedEvent, 'attempt'>;
      failure?: FailureRecord;
      /** Failures that count against maxAttempts (a dependency outage does not). */
      counted: number;
      /** Its CONSUMER span (tracing on), ended when the event is handled or dead-lettered. */
      span?: OpenConsumerSpan;
    }
    let pending: Pending[] = [];
    for (const message of messages) {
      this.metrics.waited(topic, 'queue_wait', started - fetchedAt);
      try {
        const { envelope, data } = decode(contract, message);
        const span = startConsumerSpan(envelope.traceparent, `${topic} process`, spanAttributes(topic, partition, message.offset, envelope));
        const traced = span?.traceparent ? { ...envelope, traceparent: span.traceparent } : envelope;
        pending.push({ message, counted: 0, span, event: { topic, partition, offset: message.offset, key: message.key?.toString('utf8'), envelope: traced, data, headers: (message.headers ?? {}) as RawHeaders } });
      } catch (err) {
        const now = new Date();
        await this.deadLetter(topic, partition, message, { attempts: 1, first: now, last: now, error: err as Error }, Date.now() - started);
        completed.add(message.offset);
      }
    }
    let outages = 0;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (!isRunning() || isStale()) {
        for (const item of pending) item.span?.end(new Error('not handled: the consumer stopped or lost the partition'));
        return;
      }
      const events: ConsumedEvent[] = pending.map((p) => ({ ...p.event, attempt }));
      let results: readonly EventResult[];
      try {
        results = await batchHandler(events);
        if (results.length !== events.length) throw new Error(`batch handler returned ${results.length} results for ${events.length} events`);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        results = events.map(() => ({ error }));
      }
      const retry: Pending[] = [];
      const now = new Date();
      let outageOnly = true;
      for (const [i, result] of results.entries()) {
        const item = pending[i] as Pending;
        if (typeof result === 'string') {
          this.metrics.consumed(topic, result === 'duplicate' ? 'duplicate' : 'ok', Date.now() - started);
          completed.add(item.message.offset);
          item.span?.end();
          continue;
        }
        if (result.error instanceof DependencyUnavailableError) {
          retry.push(item); // not the message's fault: retried for as long as the outage lasts, no attempt counted
          continue;
        }
        outageOnly = false;
        const counted = item.counted + 1;
        const failure: FailureRecord = item.failure ? { ...item.failure, attempts: counted, last: now, error: result.error } : { attempts: counted, first: now, last: now, error: result.error };
        if (result.error instanceof PermanentError || counted >= this.maxAttempts) {
          await this.deadLetter(topic, partition, item.message, failure, Date.now() - started);
          completed.add(item.message.offset);
          item.span?.end(result.error);
        } else {
          retry.push({ ...item, failure, counted });
        }
      }
      pending = retry;
      if (pending.length === 0) break;
      for (let i = 0; i < pending.length; i++) this.metrics.retried(topic);
      outages = outageOnly ? outages + 1 : 0;
      const firstError = results.find((r): r is { error: Error } => typeof r !== 'string')?.error;
      if (outages <= 1 || outages % 10 === 0) this.options.logger.warn({ topic, partition, attempt, failed: pending.length, offsets: pending.slice(0, 10).map((p) => p.message.offset), err: firstError?.message }, outageOnly ? 'a dependency is unavailable; retrying the batch until it answers' : 'batch handler failed events; retrying them');
      await heartbeat();
      await sleep(outageOnly ? outageBackoffMs(outages) : (this.backoffMs[Math.min(attempt - 1, this.backoffMs.length - 1)] ?? 100));
    }
  }

  /** Handles (or dead-letters) one message; false when the consumer stopped while a dependency was unavailable. */
  private async processMessage(
    topic: string,
    partition: number,
    message: KafkaMessage,
    route: { topic: TopicContract; handler: EventHandler },
    fetchedAt: number,
    control: Pick<EachBatchPayload, 'isRunning' | 'heartbeat'>,
  ): Promise<boolean> {
    const started = Date.now();
    this.metrics.waited(topic, 'queue_wait', started - fetchedAt);
    const headers = (message.headers ?? {}) as RawHeaders;
    const key = message.key?.toString('utf8');
    let decoded: { envelope: EventEnvelope; data: unknown };
    try {
      decoded = decode(route.topic, message);
    } catch (err) {
      const now = new Date();
      await this.deadLetter(topic, partition, message, { attempts: 1, first: now, last: now, error: err as Error }, Date.now() - started);
      return true;
    }
    // one trace per payment: the handler runs in a span continuing the producer's trace (no-op with tracing off)
    const failure = await withEventContext({ topic, partition, offset: message.offset, envelope: decoded.envelope }, () =>
      this.runHandler({ topic, partition, message, route, decoded, headers, key, started }, control),
    );
    if (failure === 'stopped') return false;
    if (failure) await this.deadLetter(topic, partition, message, failure, Date.now() - started);
    return true;
  }

  /**
   * The handler with bounded retries; resolves to the failure record when it never succeeded, or 'stopped' when the
   * consumer stopped while a dependency was unavailable (those retries are not bounded and count no attempt).
   */
  private async runHandler(delivery: Delivery, { isRunning, heartbeat }: Pick<EachBatchPayload, 'isRunning' | 'heartbeat'>): Promise<FailureRecord | undefined | 'stopped'> {
    const { topic, partition, message, route, decoded, headers, key, started } = delivery;
    let failure: FailureRecord | undefined;
    let counted = 0;
    let outages = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await route.handler({ topic, partition, offset: message.offset, key, envelope: decoded.envelope, data: decoded.data, headers, attempt });
        this.metrics.consumed(topic, outcome === 'duplicate' ? 'duplicate' : 'ok', Date.now() - started);
        return undefined;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (error instanceof DependencyUnavailableError) {
          if (!isRunning()) return 'stopped';
          outages++;
          this.metrics.retried(topic);
          if (outages === 1 || outages % 10 === 0) this.options.logger.warn({ topic, partition, offset: message.offset, dependency: error.dependency, retries: outages, err: error.message }, 'a dependency is unavailable; retrying until it answers');
          await heartbeat();
          await sleep(outageBackoffMs(outages));
          continue;
        }
        counted++;
        const now = new Date();
        failure = failure ? { ...failure, attempts: counted, last: now, error } : { attempts: counted, first: now, last: now, error };
        if (error instanceof PermanentError || counted >= this.maxAttempts) return failure;
        this.metrics.retried(topic);
        this.options.logger.warn({ topic, partition, offset: message.offset, attempt: counted, err: error.message }, 'handler failed; retrying');
        await sleep(this.backoffMs[Math.min(counted - 1, this.backoffMs.length - 1)] ?? 100);
      }
    }
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, failure: FailureRecord, elapsedMs: number): Promise<void> {
    const errorClass = failure.error.name || 'Error';
    const cardBearing = this.options.routes.some((r) => r.topic.name === topic && r.topic.cardNumbersInClear === true);
    // a parse error may quote the bytes it choked on
    const reason = cardBearing ? redactCardNumbers(failure.error.message) : failure.error.message;
    const protectedValue = cardBearing ? await this.protectValue(message.value) : undefined;
    const dlqMessage: Message = {
      key: message.key,
      value: protectedValue ? protectedValue.value : message.value,
      headers: {
        ...(message.headers ?? {}),
        ...(protectedValue ? { [DLQ_HEADERS.valueProtection]: protectedValue.protection } : {}),
        [DLQ_HEADERS.originalTopic]: topic,
        [DLQ_HEADERS.originalPartition]: String(partition),
        [DLQ_HEADERS.originalOffset]: message.offset,
        [DLQ_HEADERS.errorClass]: errorClass,
        [DLQ_HEADERS.errorMessage]: reason.slice(0, 1000),
        [DLQ_HEADERS.attempts]: String(failure.attempts),
        [DLQ_HEADERS.firstFailureAt]: failure.first.toISOString(),
        [DLQ_HEADERS.lastFailureAt]: failure.last.toISOString(),
        [DLQ_HEADERS.consumerGroup]: this.options.groupId,
      },
    };
    await this.options.producer.publishRaw(this.options.deadLetterTopic, dlqMessage);
    this.metrics.deadLettered(topic, errorClass);
    this.metrics.consumed(topic, 'dead_lettered', elapsedMs);
    this.options.logger.warn(
      { topic, partition, offset: message.offset, errorClass, reason, attempts: failure.attempts, dlq: this.options.deadLetterTopic, valueProtection: protectedValue?.protection },
      'message dead-lettered',
    );
  }

  private async protectValue(value: Buffer | null): Promise<{ value: Buffer | null; protection: string }> {
    const seal = this.options.protectDeadLetterValue;
    if (value === null || !seal) return { value: null, protection: DLQ_VALUE_PROTECTION.withheld };
    try {
      return { value: await seal(value), protection: DLQ_VALUE_PROTECTION.jwe };
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, 'could not seal a dead letter: its value is withheld');
      return { value: null, protection: DLQ_VALUE_PROTECTION.withheld };
    }
  }
}

/** Envelope, JSON, schema version and schema: any failure is permanent (retrying cannot fix the bytes). */
export function decode(contract: TopicContract, message: KafkaMessage): { envelope: EventEnvelope; data: unknown } {
  const envelope = headersToEnvelope((message.headers ?? {}) as RawHeaders);
  if (!envelope.ok) throw new UndecodableMessageError(envelope.reason, 'undecodable');
  if (envelope.envelope.schemaversion !== contract.schemaVersion || envelope.envelope.type !== contract.eventType) {
    throw new WrongVersionError(
      `expected ${contract.eventType} schema version ${contract.schemaVersion}, got ${envelope.envelope.type} version ${envelope.envelope.schemaversion}`,
      'wrong_version',
    );
  }
  if (!message.value) throw new UndecodableMessageError('empty message value', 'undecodable');
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch {
    throw new UndecodableMessageError('message value is not valid JSON', 'undecodable');
  }
  const parsed = contract.schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SchemaInvalidError(`schema: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`, 'schema_invalid');
  }
  return { envelope: envelope.envelope, data: parsed.data };
}

/** Crashes further apart than this do not count as one crash loop. */
const CRASH_LOOP_WINDOW_MS = 5 * 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits between retries during a dependency outage: 200 ms doubling up to 5 s. */
const outageBackoffMs = (retries: number): number => Math.min(200 * 2 ** Math.max(0, retries - 1), 5_000);
