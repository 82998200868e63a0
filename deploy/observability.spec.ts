// The alert rules and the Grafana dashboard are valid PromQL (parsed with the Prometheus project's own grammar,
// @prometheus-io/lezer-promql, the one its web UI uses) and only name series the services really register: the set
// below is read from a registry holding the messaging metrics, every service's domain metrics (libs/messaging
// domain-metrics.ts) and prom-client's process metrics, exactly as the services build them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser as promql } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';
import { DOMAIN_METRIC_NAMES, FraudMetrics, IngestThrottleMetrics, OperatorAccessMetrics, PrometheusMessagingMetrics, SettlementMetrics, SigningKeyMetrics } from '@payrail/messaging';
import { repoRoot } from './service-facts';

const dir = join(repoRoot, 'deploy', 'observability');
const alerts = parse(readFileSync(join(dir, 'alerts.yaml'), 'utf8')) as { groups: { name: string; rules: { alert: string; expr: string; labels: { severity: string }; annotations: Record<string, string> }[] }[] };
const dashboard = JSON.parse(readFileSync(join(dir, 'grafana-dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];
let exported: Set<string>;

beforeAll(async () => {
  // each service's registry as it builds it: messaging and process metrics, then its own domain metrics
  const registries = {
    ingest: new PrometheusMessagingMetrics({ service: 'ingest' }).registry,
    signing: new PrometheusMessagingMetrics({ service: 'signing' }).registry,
    fraudCheck: new PrometheusMessagingMetrics({ service: 'fraud-check' }).registry,
    settlement: new PrometheusMessagingMetrics({ service: 'settlement' }).registry,
    console: new PrometheusMessagingMetrics({ service: 'console' }).registry,
  };
  new SigningKeyMetrics(registries.signing, () => new Map());
  new FraudMetrics(registries.fraudCheck);
  new SettlementMetrics(registries.settlement);
  new IngestThrottleMetrics(registries.ingest);
  for (const registry of [registries.console, registries.fraudCheck, registries.settlement]) new OperatorAccessMetrics(registry);
  const metrics = (await Promise.all(Object.values(registries).map((r) => r.getMetricsAsJSON()))).flat();
  exported = new Set(metrics.flatMap((m) => (String(m.type) === 'histogram' ? HISTOGRAM_SUFFIXES.map((s) => `${m.name}${s}`) : [m.name])));
});

/** The metric names a PromQL expression selects; throws, naming the spot, when the expression does not parse. */
function seriesIn(expr: string): string[] {
  const names: string[] = [];
  const errors: number[] = [];
  promql.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      // a vector or range selector's metric name (label names, functions and keywords are other node types)
      if (node.name === 'Identifier') names.push(expr.slice(node.from, node.to));
    },
  });
  if (errors.length > 0) throw new Error(`not valid PromQL at offset ${errors[0]}: ${expr}`);
  return names;
}

describe('alert rules', () => {
  const rules = alerts.groups.flatMap((g) => g.rules);

  it('cover consumer lag, dead-letter growth, signature failures and ledger invariant violations', () => {
    const names = rules.map((r) => r.alert);
    expect(names).toEqual(expect.arrayContaining(['PayrailConsumerLagHigh', 'PayrailDeadLettersGrowing', 'PayrailSignatureFailures', 'PayrailLedgerInvariantViolated']));
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s names only exported series, has a severity and tells what to do', (_name, rule) => {
    const series = seriesIn(rule.expr);
    expect(series.length).toBeGreaterThan(0);
    for (const s of series) expect(exported).toContain(s);
    expect(['info', 'warning', 'critical']).toContain(rule.labels.severity);
    expect(rule.annotations['summary']).toBeTruthy();
    expect(rule.annotations['description']).toBeTruthy();
  });

  it('catches what is not PromQL, and reads metric names from selectors only', () => {
    expect(() => seriesIn('sum by (topic (rate(payrail_dead_letters_total[5m]))')).toThrow(/not valid PromQL/);
    expect(() => seriesIn('rate(payrail_dead_letters_total[5m) > 0')).toThrow(/not valid PromQL/);
    expect(seriesIn('sum by (topic) (rate(payrail_dead_letters_total{reason="SchemaInvalidError"}[5m])) / on() group_left process_start_time_seconds')).toEqual([
      'payrail_dead_letters_total',
      'process_start_time_seconds',
    ]);
  });

  it('registers every domain metric name under the payrail_ prefix', () => {
    for (const name of Object.values(DOMAIN_METRIC_NAMES)) {
      expect(name).toMatch(/^payrail_[a-z_]+$/);
      expect(exported).toContain(name);
    }
  });
});

describe('Grafana dashboard', () => {
  it('charts every domain metric', () => {
    const charted = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => seriesIn(t.expr))));
    for (const name of Object.values(DOMAIN_METRIC_NAMES)) expect(charted).toContain(name);
  });

  it('has unique panel titles and only queries exported series', () => {
    const titles = dashboard.panels.map((p) => p.title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) for (const s of seriesIn(target.expr)) expect(exported).toContain(s);
    }
  });
});
