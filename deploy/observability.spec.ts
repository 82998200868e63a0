// The alert rules and the Grafana dashboard only name series the services really export: the messaging metrics
// (libs/messaging METRIC_NAMES), settlement's ledger gauge and prom-client's process metrics.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { METRIC_NAMES } from '@payrail/messaging';
import { repoRoot } from './service-facts';

const dir = join(repoRoot, 'deploy', 'observability');
const alerts = parse(readFileSync(join(dir, 'alerts.yaml'), 'utf8')) as { groups: { name: string; rules: { alert: string; expr: string; labels: { severity: string }; annotations: Record<string, string> }[] }[] };
const dashboard = JSON.parse(readFileSync(join(dir, 'grafana-dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];
const exported = new Set<string>([
  ...Object.values(METRIC_NAMES).flatMap((n) => [n, ...HISTOGRAM_SUFFIXES.map((s) => `${n}${s}`)]),
  'payrail_ledger_invariant_violations',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
]);
const sourceOfSettlementGauge = readFileSync(join(repoRoot, 'apps', 'settlement', 'src', 'invariants', 'invariant-monitor.service.ts'), 'utf8');

function seriesIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:payrail|process)_[a-z_]+)\b/g)].map((m) => m[1] ?? '');
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
    expect(['warning', 'critical']).toContain(rule.labels.severity);
    expect(rule.annotations['summary']).toBeTruthy();
    expect(rule.annotations['description']).toBeTruthy();
  });

  it('alerts on the ledger gauge settlement really registers', () => {
    expect(sourceOfSettlementGauge).toContain("name: 'payrail_ledger_invariant_violations'");
  });
});

describe('Grafana dashboard', () => {
  it('has unique panel titles and only queries exported series', () => {
    const titles = dashboard.panels.map((p) => p.title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) for (const s of seriesIn(target.expr)) expect(exported).toContain(s);
    }
  });
});
