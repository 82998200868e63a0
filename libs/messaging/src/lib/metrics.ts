/** Hooks the messaging core calls; the service wires them to Prometheus (prom-client) or leaves them no-ops. */
export interface MessagingMetrics {
  produced(messages: number, ackMs: number): void;
  consumed(topic: string, outcome: 'ok' | 'duplicate' | 'dead_lettered', handlerMs: number): void;
  retried(topic: string): void;
  deadLettered(topic: string, reason: string): void;
  lag(topic: string, partition: number, lag: number): void;
}

export const noopMetrics: MessagingMetrics = {
  produced: () => undefined,
  consumed: () => undefined,
  retried: () => undefined,
  deadLettered: () => undefined,
  lag: () => undefined,
};
