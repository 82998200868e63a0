import { PrometheusMessagingMetrics } from './prometheus-metrics';

type Labels = Record<string, string | number>;

/** The value of one series (labels matched exactly, `service` included) from the registry. */
async function value(metrics: PrometheusMessagingMetrics, name: string, labels: Labels): Promise<number | undefined> {
  const all = await metrics.registry.getMetricsAsJSON();
  const wanted = JSON.stringify(Object.entries(labels).map(([k, v]) => [k, String(v)]).sort());
  for (const metric of all) {
    for (const sample of metric.values) {
      const sampleName = (sample as { metricName?: string }).metricName ?? metric.name;
      const got = JSON.stringify(Object.entries(sample.labels).map(([k, v]) => [k, String(v)]).sort());
      if (sampleName === name && got === wanted) return sample.value;
    }
  }
  return undefined;
}

describe('PrometheusMessagingMetrics', () => {
  const screened = 'payrail.payments.screened.v1';
  const settled = 'payrail.payments.settled.v1';

  it('exposes every messaging hook under its payrail_ name with the service label', async () => {
    const metrics = new PrometheusMessagingMetrics({ service: 'settlement', processMetrics: false });
    metrics.produced(settled, 3, 12, 'ok');
    metrics.produced(settled, 1, 40, 'error');
    metrics.consumed(screened, 'ok', 4);
    metrics.consumed(screened, 'ok', 6);
    metrics.consumed(screened, 'duplicate', 1);
    metrics.consumed(screened, 'dead_lettered', 520);
    metrics.retried(screened);
    metrics.retried(screened);
    metrics.deadLettered(screened, 'SchemaInvalidError');
    metrics.lag(screened, 7, 42);
    metrics.lag(screened, 7, 0);
    const service = 'settlement';
    expect(await value(metrics, 'payrail_messages_produced_total', { service, topic: settled, outcome: 'ok' })).toBe(3);
    expect(await value(metrics, 'payrail_messages_produced_total', { service, topic: settled, outcome: 'error' })).toBe(1);
    expect(await value(metrics, 'payrail_messages_consumed_total', { service, topic: screened, outcome: 'ok' })).toBe(2);
    expect(await value(metrics, 'payrail_messages_consumed_total', { service, topic: screened, outcome: 'duplicate' })).toBe(1);
    expect(await value(metrics, 'payrail_messages_consumed_total', { service, topic: screened, outcome: 'dead_lettered' })).toBe(1);
    expect(await value(metrics, 'payrail_consumer_retries_total', { service, topic: screened })).toBe(2);
    expect(await value(metrics, 'payrail_dead_letters_total', { service, topic: screened, reason: 'SchemaInvalidError' })).toBe(1);
    expect(await value(metrics, 'payrail_consumer_lag', { service, topic: screened, partition: 7 })).toBe(0);
    // 4 ms and 6 ms fall in the 5 ms and 10 ms buckets; the sum is in seconds
    expect(await value(metrics, 'payrail_handler_duration_seconds_bucket', { service, topic: screened, outcome: 'ok', le: 0.005 })).toBe(1);
    expect(await value(metrics, 'payrail_handler_duration_seconds_bucket', { service, topic: screened, outcome: 'ok', le: 0.01 })).toBe(2);
    expect(await value(metrics, 'payrail_handler_duration_seconds_sum', { service, topic: screened, outcome: 'ok' })).toBeCloseTo(0.01, 6);
    expect(await value(metrics, 'payrail_produce_ack_duration_seconds_count', { service, topic: settled, outcome: 'ok' })).toBe(1);
    const text = await metrics.exposition();
    expect(text).toContain('# TYPE payrail_messages_consumed_total counter');
    expect(text).toContain('# TYPE payrail_consumer_lag gauge');
    expect(text).toContain('# TYPE payrail_handler_duration_seconds histogram');
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('keeps each service in its own registry (several in one process do not collide) and adds process metrics', async () => {
    const a = new PrometheusMessagingMetrics({ service: 'ingest' });
    const b = new PrometheusMessagingMetrics({ service: 'signing' });
    a.retried('t');
    expect(await value(a, 'payrail_consumer_retries_total', { service: 'ingest', topic: 't' })).toBe(1);
    expect(await value(b, 'payrail_consumer_retries_total', { service: 'signing', topic: 't' })).toBeUndefined();
    expect(await b.exposition()).toContain('process_cpu_user_seconds_total{service="signing"}');
  });
});
