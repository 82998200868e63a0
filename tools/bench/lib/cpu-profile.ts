// Where a process's CPU went, from the V8 CPU profile Node writes with `--cpu-prof` (a .cpuprofile file): self time
// per function and per area (a package under node_modules, a Node built-in module, Payrail's own bundle, the
// garbage collector), as shares of the busy time (idle excluded). `npm run bench -- --profile` runs every service
// with --cpu-prof and puts these summaries into its JSON.

/** The parts of a .cpuprofile this reads (Chrome DevTools protocol Profiler.Profile). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  /** Sampled wall time (ms) and how much of it the process was busy (not idle). */
  sampled_ms: number;
  busy_ms: number;
  /** Busy time per area, as a share of busy time, largest first. */
  by_area: { area: string; share: number; ms: number }[];
  /** The functions with the most self time, as a share of busy time. */
  top_functions: { function: string; area: string; share: number; ms: number }[];
}

/** The area a frame belongs to: a node_modules package, a Node built-in, a V8 pseudo-frame, or Payrail's code. */
export function areaOf(functionName: string, url: string): string {
  if (url === '') {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(program)') return 'v8 (program)';
    return 'native';
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  const builtin = /^node:([^/]+)/.exec(url);
  if (builtin?.[1]) return `node:${builtin[1]}`;
  return 'payrail';
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const share = (part: number, whole: number): number => (whole > 0 ? Math.round((part / whole) * 1000) / 1000 : 0);

/** Self time per function and area (time per sample from timeDeltas, or the mean interval when absent). */
export function summariseProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    // timeDeltas[i] is the time before sample i: the time sample i stands for is the next delta
    for (let i = 0; i < samples.length; i++) {
      const node = samples[i] as number;
      const us = deltas[i + 1] ?? (deltas[i] as number);
      selfUs.set(node, (selfUs.get(node) ?? 0) + Math.max(0, us));
    }
  } else {
    const hits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
    const interval = hits > 0 ? (profile.endTime - profile.startTime) / hits : 0;
    for (const node of profile.nodes) selfUs.set(node.id, (node.hitCount ?? 0) * interval);
  }
  const byFunction = new Map<string, { area: string; us: number }>();
  const byArea = new Map<string, number>();
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(functionName, url);
    totalUs += us;
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const name = `${functionName || '(anonymous)'}${url ? ` ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`;
    const entry = byFunction.get(name) ?? { area, us: 0 };
    entry.us += us;
    byFunction.set(name, entry);
  }
  const idleUs = byArea.get('(idle)') ?? 0;
  const busyUs = totalUs - idleUs;
  byArea.delete('(idle)');
  byFunction.delete('(idle)');
  return {
    sampled_ms: round1(totalUs / 1000),
    busy_ms: round1(busyUs / 1000),
    by_area: [...byArea].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, share: share(us, busyUs), ms: round1(us / 1000) })),
    top_functions: [...byFunction]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([fn, { area, us }]) => ({ function: fn, area, share: share(us, busyUs), ms: round1(us / 1000) })),
  };
}
