/**
 * Hooks the messaging core calls. `PrometheusMessagingMetrics` (prometheus-metrics.ts) is what the services use;
 * `noopMetrics` is for tools and tests that do not care.
 */
export interface MessagingMetrics {
  /** One produce request (a batch) for `topic` was acknowledged (or failed) after `ackMs`. */
  produced(topic: string, messages: number, ackMs: number, outcome: 'ok' | 'error'): void;
  /** A message left the consumer: handled, recognised as already processed, or dead-lettered. */
  consumed(topic: string, outcome: 'ok' | 'duplicate' | 'dead_lettered', handlerMs: number): void;
  retried(topic: string): void;
  /** `reason`: the error class in the dead letter's headers (SchemaInvalidError, PermanentError, Error, ...). */
  deadLettered(topic: string, reason: string): void;
  /** Messages behind the consumer on one partition after its last batch (high watermark - next offset). */
  lag(topic: string, partition: number, lag: number): void;
}

export const noopMetrics: MessagingMetrics = {
  produced: () => undefined,
  consumed: () => undefined,
  retried: () => undefined,
  deadLettered: () => undefined,
  lag: () => undefined,
};
