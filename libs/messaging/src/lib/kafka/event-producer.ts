// Publishes Payrail events: schema-checked, wrapped in the CloudEvents envelope (binary mode), and batched.
// kafkajs has no linger setting, and one send per message costs one produce request and one ack wait each:
// this producer gathers what is published within `lingerMs` into one sendBatch. Requests go out one at a time
// (kafkajs idempotence needs one in flight); whatever is published while one is in flight goes in the next, which
// is sent as soon as the previous is acknowledged (up to `maxBatchMessages` / `maxBatchBytes` per request). So a
// quiet producer waits at most `lingerMs`, and a busy one sends fewer, larger requests instead of queueing many
// small ones behind each other.
import { randomUUID } from 'node:crypto';
import type { Kafka, Message, Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import { EventEnvelope, TopicContract, envelopeToHeaders } from '@payrail/contracts';
import type { z } from 'zod';
import { MessagingMetrics, noopMetrics } from '../metrics';
import { activeTraceparent } from '@payrail/telemetry';

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
  /** Messages per produce request (default 2,000). */
  maxBatchMessages?: number;
  /** Bytes per produce request (default 1 MiB: with any key skew, one partition's batch stays under the broker's default message.max.bytes). */
  maxBatchBytes?: number;
  compression?: 'none' | 'gzip';
  metrics?: MessagingMetrics;
}

interface Pending {
  topic: string;
  message: Message;
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

function sizeOf(value: Message['key'] | Message['value'] | string | Buffer | (string | Buffer)[] | undefined): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Array.isArray(value)) return value.reduce((n, v) => n + sizeOf(v), 0);
  return value.length;
}

/** What a message adds to a produce request, roughly: key, value, headers and per-record framing. */
function messageBytes(message: Message): number {
  let bytes = 24 + sizeOf(message.key) + sizeOf(message.value);
  for (const name in message.headers) bytes += 4 + name.length + sizeOf(message.headers[name]);
  return bytes;
}

export class EventProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The running send loop (resolved when idle). */
  private inFlight: Promise<void> = Promise.resolve();
  private sending = false;
  private connected = false;
  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly metrics: MessagingMetrics;

  constructor(kafka: Kafka, private readonly options: ProducerOptions) {
    // Idempotent (no duplicates from producer retries) needs acks=all and, in kafkajs, one request in flight.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.lingerMs = options.lingerMs ?? 5;
    this.maxBatch = options.maxBatchMessages ?? 2_000;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
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
      // the active span's (a handler running in its consumer span, a request in its server span) so each hop is a
      // child of the one before; the caller's (the consumed event's) when tracing is off, so the trace id travels on
      traceparent: activeTraceparent() ?? options.traceparent,
      tracestate: options.tracestate,
    };
    const headers = envelopeToHeaders(envelope);
    if (options.headers) Object.assign(headers, options.headers);
    return { key: options.key, value: JSON.stringify(checked), headers };
  }

  /** Resolves once the broker acknowledged the message (acks=all). */
  publish<S extends z.ZodType>(topic: TopicContract<S>, data: z.input<S>, options: PublishOptions): Promise<void> {
    return this.publishRaw(topic.name, this.encode(topic, data, options));
  }

  /** Sends an already-encoded message (dead letters, replays): no schema check, headers kept as they are. */
  publishRaw(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const bytes = messageBytes(message);
      this.queue.push({ topic, message, bytes, resolve, reject });
      this.queuedBytes += bytes;
      if (this.sending) return; // the running send loop takes it next
      if (this.queue.length >= this.maxBatch || this.queuedBytes >= this.maxBatchBytes) this.startSending();
      else if (!this.timer) this.timer = setTimeout(() => this.startSending(), this.lingerMs);
    });
  }

  /** Sends everything queued now; resolves when it has all been acknowledged (or failed). */
  flush(): Promise<void> {
    this.startSending();
    return this.inFlight;
  }

  private startSending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    this.inFlight = this.sendLoop();
  }

  /** One request at a time until the queue is empty; each takes what has been queued meanwhile. */
  private async sendLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.send(this.takeBatch());
    } finally {
      this.sending = false;
    }
  }

  private takeBatch(): Pending[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.maxBatch) {
      const next = this.queue[count]?.bytes ?? 0;
      if (count > 0 && bytes + next > this.maxBatchBytes) break;
      bytes += next;
      count++;
    }
    const batch = this.queue.splice(0, count);
    this.queuedBytes -= bytes;
    return batch;
  }

  private async send(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic);
      if (list) list.push(p.message);
      else byTopic.set(p.topic, [p.message]);
    }
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
  }

  async disconnect(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    await this.producer.disconnect();
    this.connected = false;
  }
}
