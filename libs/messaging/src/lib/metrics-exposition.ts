// Reading a service's GET /metrics (Prometheus text exposition): the value of one series, labels matched exactly
// (the `service` label every series carries is left out of the match). Used by the integration tests.
export type SeriesLabels = Readonly<Record<string, string>>;

/** Values of `name` in an exposition, one per label set (labels as given in the text, `service` dropped). */
export function seriesValues(exposition: string, name: string): { labels: Record<string, string>; value: number }[] {
  const found: { labels: Record<string, string>; value: number }[] = [];
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (key && key !== 'service') labels[key] = (raw ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

/** The value of the series `name{labels}` (0 when the series does not exist yet: counters start there). */
export function seriesValue(exposition: string, name: string, labels: SeriesLabels = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return seriesValues(exposition, name).find((s) => JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value ?? 0;
}

/** GETs `metricsUrl` and returns the value of `name{labels}`. */
export async function scrapeSeries(metricsUrl: string, name: string, labels: SeriesLabels = {}): Promise<number> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET ${metricsUrl}: ${res.status}`);
  return seriesValue(await res.text(), name, labels);
}
