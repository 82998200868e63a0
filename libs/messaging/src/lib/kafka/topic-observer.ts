// A read-only consumer for observers (OBSERVER_GROUPS, e.g. the operator console): it watches topics in its own
// consumer group and hands every message to a synchronous callback, decoded when the topic is in the catalogue.
// Unlike BatchConsumer it never dead-letters (a message it cannot decode is the consuming stage's business, and that
// stage has dead-lettered it already), never retries and commits no offsets: an observer holds nothing durable, so
// every start reads the live topics from their end and the `fromBeginning` topics (dead letters) from their start.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { EventEnvelope, TopicContract, topicByName } from '@payrail/contracts';
import { decode } from './batch-consumer';
import type { ConsumerLogger, ConsumerState } from './batch-consumer';

export interface ObservedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  /** The record's broker timestamp, ms since the epoch. */
  readonly timestamp: number;
  /** Every header as UTF-8 text (the first value of a repeated header). */
  readonly headers: Readonly<Record<string, string>>;
  /** The event, when the topic is in the catalogue and the message decodes against its contract. */
  readonly event: { readonly envelope: EventEnvelope; readonly data: unknown } | undefined;
  /** Why a catalogue topic's message did not decode (undefined for decoded messages and non-catalogue topics). */
  readonly undecodable: string | undefined;
}

export interface TopicObserverOptions {
  groupId: string;
  /** Read from their end on every start (live view). */
  liveTopics: readonly string[];
  /** Read from their beginning on every start (e.g. dead-letter topics, whose whole content matters). */
  fromBeginningTopics?: readonly string[];
  /** Called for every message, in order per partition. Must not throw (a throw is logged and the message skipped). */
  onMessage: (message: ObservedMessage) => void;
  logger: ConsumerLogger;
  /** Called when kafkajs gives up on the consumer (no restart). */
  onCrash?: (err: Error) => void;
  maxWaitTimeInMs?: number;
  /** The contract messages of a topic are decoded with (default: the catalogue, topicByName). */
  contractOf?: (topic: string) => TopicContract | undefined;
}

export class TopicObserver {
  private readonly consumer: Consumer;
  private stateValue: ConsumerState = 'idle';
  private assigned = 0;
  private crashError: Error | undefined;

  constructor(kafka: Kafka, private readonly options: TopicObserverOptions) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 250,
    });
    const { CRASH, GROUP_JOIN, STOP } = this.consumer.events;
    this.consumer.on(CRASH, (event) => {
      if (event.payload.restart) {
        options.logger.warn({ err: event.payload.error.message, groupId: options.groupId }, 'observer crashed; kafkajs restarts it');
        return;
      }
      this.stateValue = 'crashed';
      this.crashError = event.payload.error;
      options.logger.error({ err: event.payload.error.message, groupId: options.groupId }, 'observer crashed and will not restart');
      options.onCrash?.(event.payload.error);
    });
    this.consumer.on(GROUP_JOIN, (event) => {
      this.assigned = Object.values(event.payload.memberAssignment).reduce((n, parts) => n + parts.length, 0);
      options.logger.info({ groupId: options.groupId, partitions: this.assigned }, 'observer joined its group');
    });
    this.consumer.on(STOP, () => {
      if (this.stateValue !== 'crashed') this.stateValue = 'stopped';
    });
  }

  get state(): ConsumerState {
    return this.stateValue;
  }

  get assignedPartitions(): number {
    return this.assigned;
  }

  get crashReason(): string | undefined {
    return this.crashError?.message;
  }

  async start(): Promise<void> {
    this.stateValue = 'starting';
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.liveTopics], fromBeginning: false });
    const historic = this.options.fromBeginningTopics ?? [];
    if (historic.length > 0) await this.consumer.subscribe({ topics: [...historic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.stateValue = 'running';
  }

  async stop(): Promise<void> {
    if (this.stateValue === 'idle' || this.stateValue === 'stopped') return;
    this.stateValue = 'stopping';
    await this.consumer.disconnect();
    this.stateValue = 'stopped';
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const contract = (this.options.contractOf ?? topicByName)(batch.topic);
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      try {
        this.options.onMessage(observe(batch.topic, batch.partition, message, contract));
      } catch (err) {
        this.options.logger.warn({ topic: batch.topic, partition: batch.partition, offset: message.offset, err: (err as Error).message }, 'observer callback failed; message skipped');
      }
      resolveOffset(message.offset);
    }
    await heartbeat();
  }
}

/** The observer's view of one record: headers as text, and the event decoded against its topic's contract. */
export function observe(topic: string, partition: number, message: KafkaMessage, contract: TopicContract | undefined = topicByName(topic)): ObservedMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first.toString();
  }
  let event: ObservedMessage['event'];
  let undecodable: string | undefined;
  if (contract) {
    try {
      event = decode(contract, message);
    } catch (err) {
      undecodable = (err as Error).message;
    }
  }
  return { topic, partition, offset: message.offset, key: message.key?.toString('utf8'), timestamp: Number(message.timestamp), headers, event, undecodable };
}
