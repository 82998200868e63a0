// The messaging hooks as Prometheus metrics (prom-client), one registry per service with `service` on every
// series. Names follow Prometheus conventions: `_total` counters, base units (seconds), snake_case labels; label
// values are bounded (topics, partitions, outcomes, error classes), never ids.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MessagingMetrics } from './metrics';

export interface PrometheusMetricsOptions {
  /** The `service` label on every series (ingest, signing, ...). */
  service: string;
  /** Node.js process metrics (CPU, memory, event-loop lag, GC) too (default true). */
  processMetrics?: boolean;
}

/** Handler and produce-ack latencies: 1 ms .. 10 s. */
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const METRIC_NAMES = {
  consumed: 'payrail_messages_consumed_total',
  produced: 'payrail_messages_produced_total',
  retries: 'payrail_consumer_retries_total',
  deadLetters: 'payrail_dead_letters_total',
  lag: 'payrail_consumer_lag',
  handlerSeconds: 'payrail_handler_duration_seconds',
  produceAckSeconds: 'payrail_produce_ack_duration_seconds',
} as const;

export class PrometheusMessagingMetrics implements MessagingMetrics {
  readonly registry = new Registry();
  private readonly consumedTotal: Counter<'topic' | 'outcome'>;
  private readonly producedTotal: Counter<'topic' | 'outcome'>;
  private readonly retriesTotal: Counter<'topic'>;
  private readonly deadLettersTotal: Counter<'topic' | 'reason'>;
  private readonly consumerLag: Gauge<'topic' | 'partition'>;
  private readonly handlerSeconds: Histogram<'topic' | 'outcome'>;
  private readonly produceAckSeconds: Histogram<'topic' | 'outcome'>;

  constructor(options: PrometheusMetricsOptions) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ service: options.service });
    this.consumedTotal = new Counter({
      name: METRIC_NAMES.consumed,
      help: 'Messages that left a consumer, by outcome: ok (handled), duplicate (processed before), dead_lettered.',
      labelNames: ['topic', 'outcome'],
      registers,
    });
    this.producedTotal = new Counter({
      name: METRIC_NAMES.produced,
      help: 'Messages produced, by outcome: ok (acknowledged by all in-sync replicas) or error.',
      labelNames: ['topic', 'outcome'],
      registers,
    });
    this.retriesTotal = new Counter({ name: METRIC_NAMES.retries, help: 'Handler attempts that failed and were retried after a backoff.', labelNames: ['topic'], registers });
    this.deadLettersTotal = new Counter({
      name: METRIC_NAMES.deadLetters,
      help: 'Messages sent to the dead-letter topic, by consumed topic and reason (the error class in the dead letter).',
      labelNames: ['topic', 'reason'],
      registers,
    });
    this.consumerLag = new Gauge({
      name: METRIC_NAMES.lag,
      help: "Messages behind this consumer on a partition after its last batch (high watermark - next offset).",
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.handlerSeconds = new Histogram({
      name: METRIC_NAMES.handlerSeconds,
      help: 'Time from a message reaching the consumer to its outcome, retries and backoff included.',
      labelNames: ['topic', 'outcome'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.produceAckSeconds = new Histogram({
      name: METRIC_NAMES.produceAckSeconds,
      help: 'Time from sending a produce request (one batch) to its acknowledgement.',
      labelNames: ['topic', 'outcome'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every series in the registry. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  produced(topic: string, messages: number, ackMs: number, outcome: 'ok' | 'error'): void {
    this.producedTotal.inc({ topic, outcome }, messages);
    this.produceAckSeconds.observe({ topic, outcome }, ackMs / 1000);
  }

  consumed(topic: string, outcome: 'ok' | 'duplicate' | 'dead_lettered', handlerMs: number): void {
    this.consumedTotal.inc({ topic, outcome });
    this.handlerSeconds.observe({ topic, outcome }, handlerMs / 1000);
  }

  retried(topic: string): void {
    this.retriesTotal.inc({ topic });
  }

  deadLettered(topic: string, reason: string): void {
    this.deadLettersTotal.inc({ topic, reason });
  }

  lag(topic: string, partition: number, lag: number): void {
    this.consumerLag.set({ topic, partition: String(partition) }, lag);
  }
}
