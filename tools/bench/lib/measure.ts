// Small measuring kit shared by the benchmarks: latency percentiles, per-second series, process CPU and memory
// from /proc, and a dependency-free SVG line chart for the markdown reports.
import { readFileSync } from 'node:fs';

/** Nearest-rank percentile of an unsorted sample (copied and sorted once per call). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Counts and latency samples per whole second since `origin` (ms epoch). */
export class PerSecondSeries {
  private readonly counts = new Map<number, number>();
  private readonly samples = new Map<number, number[]>();
  constructor(private readonly origin: number) {}

  add(atMs: number, latencyMs?: number): void {
    const s = Math.floor((atMs - this.origin) / 1000);
    this.counts.set(s, (this.counts.get(s) ?? 0) + 1);
    if (latencyMs !== undefined) {
      const list = this.samples.get(s) ?? [];
      list.push(latencyMs);
      this.samples.set(s, list);
    }
  }

  seconds(): number[] {
    const keys = [...this.counts.keys()];
    if (keys.length === 0) return [];
    const last = Math.max(...keys);
    return Array.from({ length: last + 1 }, (_, i) => i);
  }

  count(second: number): number {
    return this.counts.get(second) ?? 0;
  }

  latency(second: number, p: number): number {
    return percentile(this.samples.get(second) ?? [], p);
  }
}

export interface ProcessSample {
  cpuSeconds: number;
  peakRssMb: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux x86_64/arm64

/** CPU time (user + system) and peak resident set of a live process, from /proc; undefined when gone. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the full line)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return { cpuSeconds: cpuTicks / CLOCK_TICKS, peakRssMb: hwm ? Number(hwm[1]) / 1024 : Number.NaN };
  } catch {
    return undefined;
  }
}

export interface ChartSeries {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
}

/** A plain SVG line chart (x: seconds, y: value), readable in any markdown viewer. */
export function lineChartSvg(title: string, yLabel: string, series: readonly ChartSeries[], width = 760, height = 300): string {
  const pad = { left: 64, right: 16, top: 32, bottom: 40 };
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const maxY = niceCeil(Math.max(1, ...all.map(([, y]) => y)));
  const sx = (x: number) => pad.left + (x / maxX) * (width - pad.left - pad.right);
  const sy = (y: number) => height - pad.bottom - (y / maxY) * (height - pad.top - pad.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const lines = series.map((s) => {
    const d = s.points.filter(([, y]) => Number.isFinite(y)).map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`;
  });
  const legend = series.map((s, i) => `<text x="${pad.left + 8 + i * 180}" y="${pad.top - 10}" fill="${s.color}" font-size="12">${esc(s.name)}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    ...ticks.map((t) => `<line x1="${pad.left}" x2="${width - pad.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/><text x="${pad.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${round(t, 1)}</text>`),
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11">seconds</text>`,
    `<text x="14" y="${height / 2}" font-size="11" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">${esc(yLabel)}</text>`,
    ...lines,
    ...legend,
    '</svg>',
  ].join('\n');
}

function niceCeil(v: number): number {
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

/** Sum and count of each latency histogram a service exports, keyed by `metric{label=value,...}` without `le`. */
export type HistogramTotals = Map<string, { sum: number; count: number }>;

const HOP_METRICS = ['payrail_handler_duration_seconds', 'payrail_consumer_wait_seconds', 'payrail_produce_ack_duration_seconds'];

/** Reads a service's /metrics and totals its per-hop histograms (handler, fetch/queue wait, produce ack). */
export async function scrapeHopHistograms(port: number): Promise<HistogramTotals> {
  const totals: HistogramTotals = new Map();
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (!res?.ok) return totals;
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+)_(sum|count)\{([^}]*)\} ([0-9.eE+-]+)$/.exec(line);
    if (!m || !HOP_METRICS.includes(m[1] ?? '')) continue;
    const labels = (m[3] ?? '').split(',').filter((l) => !l.startsWith('service=') && !l.startsWith('outcome=')).join(',');
    const key = `${m[1]}{${labels}}`;
    const entry = totals.get(key) ?? { sum: 0, count: 0 };
    if (m[2] === 'sum') entry.sum += Number(m[4]);
    else entry.count += Number(m[4]);
    totals.set(key, entry);
  }
  return totals;
}

/** Mean milliseconds per observation between two scrapes, per histogram series. */
export function meanMsBetween(before: HistogramTotals, after: HistogramTotals): Record<string, { mean_ms: number; count: number }> {
  const out: Record<string, { mean_ms: number; count: number }> = {};
  for (const [key, end] of after) {
    const start = before.get(key) ?? { sum: 0, count: 0 };
    const count = end.count - start.count;
    if (count > 0) out[key] = { mean_ms: round(((end.sum - start.sum) / count) * 1000, 2), count };
  }
  return out;
}
