// Publishes Payrail events: schema-checked, wrapped in the CloudEvents envelope (binary mode), and batched.
// kafkajs has no linger setting, and one send per message costs one produce request and one ack wait each:
// this producer gathers what is published within `lingerMs` (or up to `maxBatchMessages`) into one sendBatch.
import { randomUUID } from 'node:crypto';
import type { Kafka, Message, Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import { EventEnvelope, TopicContract, envelopeToHeaders } from '@payrail/contracts';
import type { z } from 'zod';
import { MessagingMetrics, noopMetrics } from '../metrics';

export interface PublishOptions {
  /** Message key: decides the partition, so the ordering (see the topic's contract). */
  key: string;
  correlationId: string;
  /** Deterministic event id (e.g. derived from the payment id and stage) lets consumers drop redeliveries. */
  eventId?: string;
  subject?: string;
  traceparent?: string;
  tracestate?: string;
  /** Extra headers (not part of the envelope). */
  headers?: Record<string, string>;
}

export interface ProducerOptions {
  source: string;
  lingerMs?: number;
  maxBatchMessages?: number;
  compression?: 'none' | 'gzip';
  metrics?: MessagingMetrics;
}

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class EventProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private connected = false;
  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly metrics: MessagingMetrics;

  constructor(kafka: Kafka, private readonly options: ProducerOptions) {
    // Idempotent (no duplicates from producer retries) needs acks=all and, in kafkajs, one request in flight.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.lingerMs = options.lingerMs ?? 5;
    this.maxBatch = options.maxBatchMessages ?? 500;
    this.metrics = options.metrics ?? noopMetrics;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Builds the envelope and value; throws if `data` does not satisfy the topic's schema (a bug in the caller). */
  encode<S extends z.ZodType>(topic: TopicContract<S>, data: z.input<S>, options: PublishOptions): Message {
    const checked = topic.schema.parse(data);
    const envelope: EventEnvelope = {
      specversion: '1.0',
      id: options.eventId ?? randomUUID(),
      type: topic.eventType,
      source: this.options.source,
      time: new Date().toISOString(),
      subject: options.subject,
      dataschema: `urn:payrail:schema:${topic.name}`,
      schemaversion: topic.schemaVersion,
      correlationid: options.correlationId,
      datacontenttype: 'application/json',
      traceparent: options.traceparent,
      tracestate: options.tracestate,
    };
    return { key: options.key, value: JSON.stringify(checked), headers: { ...envelopeToHeaders(envelope), ...options.headers } };
  }

  /** Resolves once the broker acknowledged the message (acks=all). */
  publish<S extends z.ZodType>(topic: TopicContract<S>, data: z.input<S>, options: PublishOptions): Promise<void> {
    return this.publishRaw(topic.name, this.encode(topic, data, options));
  }

  /** Sends an already-encoded message (dead letters, replays): no schema check, headers kept as they are. */
  publishRaw(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flushSoon(0);
      else this.flushSoon(this.lingerMs);
    });
  }

  private flushSoon(delay: number): void {
    if (delay === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
      return;
    }
    if (!this.timer) this.timer = setTimeout(() => { this.timer = undefined; void this.flush(); }, delay);
  }

  /** Sends everything queued; batches go out one after another (kafkajs idempotence needs one in flight). */
  flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return this.inFlight;
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(p.message);
      byTopic.set(p.topic, list);
    }
    this.inFlight = this.inFlight.then(async () => {
      // measured from the send, not from the queueing: batches wait for the one in flight before them
      const started = Date.now();
      try {
        await this.producer.sendBatch({
          acks: -1,
          compression: this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        const ackMs = Date.now() - started;
        for (const [topic, messages] of byTopic) this.metrics.produced(topic, messages.length, ackMs, 'ok');
        for (const p of batch) p.resolve();
      } catch (err) {
        const failedMs = Date.now() - started;
        for (const [topic, messages] of byTopic) this.metrics.produced(topic, messages.length, failedMs, 'error');
        for (const p of batch) p.reject(err as Error);
      }
    });
    return this.inFlight;
  }

  async disconnect(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    await this.producer.disconnect();
    this.connected = false;
  }
}
