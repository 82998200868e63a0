// End-to-end benchmark: the whole pipeline on this machine (the same set-up as `npm start`), driven over HTTP by
// several simulated upstreams with pre-signed payments, observed on Kafka until each payment is final.
//
//   npm run bench -- --json FILE [--rate 1000] [--fixed-s 60] [--max-s 120] [--warmup-s 15] [--concurrency 128]
//                    [--quick] [--profile]
//
// Phases, on one broker and one Redis: (1) a fixed rate (default 1,000/s), (2) the maximum sustained rate (a closed
// loop of `concurrency` upstream connections; steady window after the warm-up), (3) drain: every accepted payment
// must reach a final state (settled, declined, or in review), (4) a raw kafkajs single-hop baseline with the same
// message size on the same broker, (5) the floor (lib/floor.ts): the unavoidable work of a payment timed raw in this run,
// set against the CPU every pipeline process (services, broker, Redis) spent per final payment in the maximum-rate
// window. Writes the JSON, a markdown summary and SVG charts into bench/results/. --profile runs every service with
// --cpu-prof (profiles next to the JSON, in <name>-profiles/) and adds where each service's CPU went to the JSON.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TOPICS } from '@payrail/contracts';
import { Pipeline, Submitter, drain, fixedRate, maxRate, observe, prepare } from './lib/load';
import { ActualCpu, Floor, cpuPerPayment, efficiency, floorSummary, measureFloor, redisServerPid } from './lib/floor';
import { HistogramTotals, ProcessSample, lineChartSvg, meanMsBetween, percentile, round, sampleProcess, scrapeHopHistograms } from './lib/measure';
import { rawSingleHop } from './lib/raw-kafka';
import { CpuProfile, ProfileSummary, summariseProfile } from './lib/cpu-profile';
import { benchKeys } from './lib/run-keys';
import type { Stack as StackType } from '../stack/stack.mjs';


interface Options {
  json: string;
  rate: number;
  fixedS: number;
  maxS: number;
  warmupS: number;
  concurrency: number;
  quick: boolean;
  profile: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      json: { type: 'string' },
      rate: { type: 'string', default: '1000' },
      'fixed-s': { type: 'string' },
      'max-s': { type: 'string' },
      'warmup-s': { type: 'string' },
      concurrency: { type: 'string', default: '128' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick ?? false;
  const o: Options = {
    json: resolve(values.json ?? 'bench/results/e2e.json'),
    rate: Number(values.rate),
    fixedS: Number(values['fixed-s'] ?? (quick ? 15 : 60)),
    maxS: Number(values['max-s'] ?? (quick ? 20 : 120)),
    warmupS: Number(values['warmup-s'] ?? (quick ? 5 : 15)),
    concurrency: Number(values.concurrency),
    quick,
    profile: values.profile ?? false,
  };
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && !(v > 0)) throw new Error(`--${k} must be a positive number`);
  return o;
}

interface PhaseResult {
  from_s: number;
  to_s: number;
  sent: number;
  accepted_per_s: number;
  completed_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
}

/** Rates and end-to-end latencies (submit -> final) of the payments accepted within [fromMs, toMs). */
function phase(pipeline: Pipeline, fromMs: number, toMs: number, sent: number): PhaseResult {
  const latencies: number[] = [];
  let accepted = 0;
  let completed = 0;
  for (const o of pipeline.outcomes.values()) {
    if (o.acceptedAt !== undefined && o.acceptedAt >= fromMs && o.acceptedAt < toMs) {
      accepted++;
      if (o.finalAt !== undefined) latencies.push(o.finalAt - o.submittedAt);
    }
    if (o.finalAt !== undefined && o.finalAt >= fromMs && o.finalAt < toMs) completed++;
  }
  const seconds = (toMs - fromMs) / 1000;
  return {
    from_s: round((fromMs - pipeline.origin) / 1000),
    to_s: round((toMs - pipeline.origin) / 1000),
    sent,
    accepted_per_s: round(accepted / seconds),
    completed_per_s: round(completed / seconds),
    p50_ms: round(percentile(latencies, 50)),
    p95_ms: round(percentile(latencies, 95)),
    p99_ms: round(percentile(latencies, 99)),
  };
}

/** Payments that became final within [fromMs, toMs). */
function finalIn(pipeline: Pipeline, fromMs: number, toMs: number): number {
  let n = 0;
  for (const o of pipeline.outcomes.values()) if (o.finalAt !== undefined && o.finalAt >= fromMs && o.finalAt < toMs) n++;
  return n;
}

async function scrapeHops(stack: StackType): Promise<Map<string, HistogramTotals>> {
  const out = new Map<string, HistogramTotals>();
  for (const [instance, entry] of stack.services) if (instance !== 'console') out.set(instance, await scrapeHopHistograms(entry.metricsPort));
  return out;
}

function processes(stack: StackType): Map<string, number> {
  const pids = new Map<string, number>();
  for (const [instance, entry] of stack.services) pids.set(instance, entry.child.pid);
  if (stack.infra.kafkaPid) pids.set('kafka', stack.infra.kafkaPid);
  return pids;
}

/**
 * Every process of the pipeline for the CPU per payment: the services and the broker (processes()) and redis-server,
 * found by the pid it reports (INFO server), shared with other clients or not; `missing` names what cannot be sampled
 * on this machine (containers).
 */
async function pipelineProcesses(stack: StackType): Promise<{ pids: Map<string, number>; missing: string[]; redisPid?: number }> {
  const pids = processes(stack);
  const missing = stack.infra.kafkaPid ? [] : ['kafka'];
  const redisPid = await redisServerPid(stack.infra.redisUrl, stack.infra.mode === 'local');
  if (redisPid) pids.set('redis', redisPid);
  else missing.push('redis');
  return { pids, missing, redisPid };
}

function sampleAll(pids: Map<string, number>): Map<string, ProcessSample | undefined> {
  return new Map([...pids].map(([name, pid]) => [name, sampleProcess(pid)]));
}

async function main(): Promise<void> {
  const o = options();
  const { Stack } = (await import('../stack/stack.mjs')) as { Stack: typeof StackType };
  const profileDir = o.profile ? o.json.replace(/\.json$/, '') + '-profiles' : undefined;
  if (profileDir) {
    rmSync(profileDir, { recursive: true, force: true });
    process.env['PAYRAIL_CPU_PROF_DIR'] = profileDir; // the stack starts every service with --cpu-prof into it
  }
  const stack = new Stack({ name: 'bench' });
  stack.installSignalHandlers();
  let report: { result: Parameters<typeof writeReport>[1]; pipeline: Pipeline } | undefined;
  try {
    await stack.up({ preferWellKnown: false });
    const ingestPort = stack.ports['ingest'];
    if (!ingestPort) throw new Error('ingest has no port');
    const ingestUrl = `http://127.0.0.1:${ingestPort}`;

    process.stderr.write(`bench: pre-signing payments for ${o.fixedS} s at ${o.rate}/s\n`);
    const fixedQueue = await prepare(stack.keys.upstreamKeysDir, ingestUrl, Math.round(o.rate * (o.fixedS + o.warmupS)), 1);
    const pipeline = new Pipeline(Date.now());
    const stopObserving = await observe(stack.kafkaClientConfig(), pipeline);
    const submitter = new Submitter(ingestPort, pipeline);
    const pids = processes(stack);
    const pipelineProcs = await pipelineProcesses(stack);

    process.stderr.write(`bench: fixed rate ${o.rate}/s for ${o.warmupS + o.fixedS} s (first ${o.warmupS} s are warm-up)\n`);
    const fixedStart = Date.now();
    const fixedSent = await fixedRate(submitter, fixedQueue, o.rate, o.warmupS + o.fixedS);
    fixedQueue.length = 0; // sent: its JWS strings (tens of MB) need not weigh on this process's GC any more
    const fixedEnd = Date.now();
    await drain(pipeline, 30_000);

    const maxCount = Math.round(4_000 * (o.maxS + o.warmupS));
    process.stderr.write(`bench: pre-signing ${maxCount} payments for the maximum-rate phase\n`);
    const maxQueue = await prepare(stack.keys.upstreamKeysDir, ingestUrl, maxCount, 2);
    process.stderr.write(`bench: maximum rate with ${o.concurrency} connections for ${o.warmupS + o.maxS} s (first ${o.warmupS} s are warm-up)\n`);
    const maxStart = Date.now();
    const cpuBefore = sampleAll(pipelineProcs.pids);
    let cpuAfterWarmup = cpuBefore;
    let cpuWindowStart = maxStart;
    let hopsAfterWarmup = new Map<string, HistogramTotals>();
    const warmupTimer = setTimeout(() => {
      cpuAfterWarmup = sampleAll(pipelineProcs.pids);
      cpuWindowStart = Date.now();
      void scrapeHops(stack).then((h) => (hopsAfterWarmup = h));
    }, o.warmupS * 1000);
    const maxSent = await maxRate(submitter, maxQueue, o.concurrency, o.warmupS + o.maxS);
    // the unsent rest (~100 MB of JWS) would otherwise stay live and tax the GC of the in-process baseline and floor
    maxQueue.length = 0;
    const maxEnd = Date.now();
    clearTimeout(warmupTimer);
    const cpuAtEnd = sampleAll(pipelineProcs.pids);
    const hopsAtEnd = await scrapeHops(stack);
    const backlogAtEnd = pipeline.pending();
    const lost = await drain(pipeline, 120_000);
    submitter.close();
    await stopObserving();

    const fixed = phase(pipeline, fixedStart + o.warmupS * 1000, fixedEnd, fixedSent);
    const max = phase(pipeline, maxStart + o.warmupS * 1000, maxEnd, maxSent);
    const completedInWindow = max.completed_per_s * ((maxEnd - maxStart) / 1000 - o.warmupS);
    const perService: Record<string, { cpu_s_per_1000: number; peak_rss_mb: number }> = {};
    const cpuSeconds: Record<string, number> = {};
    for (const [name, end] of cpuAtEnd) {
      const begin = cpuAfterWarmup.get(name);
      if (!end || !begin) continue;
      cpuSeconds[name] = end.cpuSeconds - begin.cpuSeconds;
      if (!pids.has(name)) continue; // per_service: the services and the broker, as before
      perService[name] = { cpu_s_per_1000: round(((end.cpuSeconds - begin.cpuSeconds) / Math.max(1, completedInWindow)) * 1000, 2), peak_rss_mb: round(end.peakRssMb) };
    }
    let duplicates = 0;
    for (const outcome of pipeline.outcomes.values()) if (outcome.settledCount > 1) duplicates++;

    process.stderr.write('bench: raw kafkajs single-hop baseline on the same broker\n');
    const raw = await rawSingleHop({ brokers: stack.infra.kafkaBrokers, sasl: stack.kafkaClientConfig().sasl, messages: 100_000, messageBytes: 1_200, partitions: TOPICS.paymentsAccepted.partitions, brokerPid: stack.infra.kafkaPid });
    process.stderr.write('bench: the floor (crypto, Redis calls timed raw; the Kafka hop above)\n');
    const floorKeys = await benchKeys('floor', stack.infra.redisUrl, stack.infra.redisKeyPrefix);
    const floor = await measureFloor({ kafkaHop: raw, redis: { url: stack.infra.redisUrl, prefix: floorKeys.prefix, pid: pipelineProcs.redisPid, shared: stack.infra.redisShared }, quick: o.quick });
    await floorKeys.release();
    // the CPU samples' own window (the warm-up timer may fire late on a busy machine): payments final within it
    const cpu = cpuPerPayment(cpuSeconds, [...pipelineProcs.missing, ...[...pipelineProcs.pids.keys()].filter((n) => !(n in cpuSeconds))], finalIn(pipeline, cpuWindowStart, maxEnd), (maxEnd - cpuWindowStart) / 1000);

    const result = {
      machine: { node: process.version, cpus: cpus().length },
      e2e_per_s: max.completed_per_s,
      raw_single_hop_per_s: round(raw.perS),
      ratio: round(max.completed_per_s / raw.perS, 3),
      p50_ms: max.p50_ms,
      p95_ms: max.p95_ms,
      p99_ms: max.p99_ms,
      p99_ms_at_1000_per_s: o.rate === 1000 ? fixed.p99_ms : null,
      // CPU of every pipeline process (services, broker, Redis) per payment final in the maximum-rate window; the floor
      // is the unavoidable work of a payment timed raw in this run (lib/floor.ts); efficiency = floor / actual
      cpu_ms_per_payment: cpu.ms_per_payment,
      floor_cpu_ms_per_payment: floor.total_ms_per_payment,
      efficiency: cpu.ms_per_payment === null ? null : round(efficiency(floor.total_ms_per_payment, cpu.ms_per_payment), 3),
      redis_shared: stack.infra.redisShared,
      fixed_rate: { rate_per_s: o.rate, ...fixed },
      max_rate: { concurrency: o.concurrency, backlog_at_end: backlogAtEnd, ...max },
      lost,
      duplicates,
      responses: pipeline.responses,
      unexpected_responses: pipeline.unexpected,
      per_service: perService,
      // mean ms per message in the maximum-rate window, per service: produce ack, fetch wait (produced -> fetched),
      // queue wait (fetched -> handler start), handler
      per_hop: Object.fromEntries([...hopsAtEnd].map(([service, end]) => [service, meanMsBetween(hopsAfterWarmup.get(service) ?? new Map(), end)])),
      cpu,
      floor,
    };
    report = { result, pipeline };
  } finally {
    await stack.stop();
  }
  if (!report) return;
  // the services wrote their profiles when they stopped
  const profiles = profileDir ? summariseProfiles(profileDir) : undefined;
  if (profiles) {
    for (const [service, summary] of Object.entries(profiles)) {
      process.stderr.write(`bench: ${service} busy ${summary.busy_ms} ms: ${summary.by_area.slice(0, 6).map((a) => `${a.area} ${Math.round(a.share * 100)}%`).join(', ')}\n`);
      for (const f of summary.top_functions.slice(0, 8)) process.stderr.write(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.function}\n`);
    }
  }
  writeReport(o.json, profiles ? { ...report.result, profiles, profiles_dir: profileDir } : report.result, report.pipeline);
}

/** Per service instance: its .cpuprofile files (a restarted process writes another) summarised together. */
function summariseProfiles(dir: string): Record<string, ProfileSummary> {
  const out: Record<string, ProfileSummary> = {};
  if (!existsSync(dir)) return out;
  for (const instance of readdirSync(dir)) {
    const files = readdirSync(join(dir, instance)).filter((f) => f.endsWith('.cpuprofile'));
    const [first, ...rest] = files.map((f) => JSON.parse(readFileSync(join(dir, instance, f), 'utf8')) as CpuProfile);
    if (!first) continue;
    // one process in the normal case; a restarted one's profiles are merged node by node
    const merged = rest.reduce<CpuProfile>((acc, p) => {
      const offset = Math.max(...acc.nodes.map((n) => n.id)) + 1;
      return {
        ...acc,
        nodes: [...acc.nodes, ...p.nodes.map((n) => ({ ...n, id: n.id + offset }))],
        samples: [...(acc.samples ?? []), ...(p.samples ?? []).map((s) => s + offset)],
        timeDeltas: [...(acc.timeDeltas ?? []), ...(p.timeDeltas ?? [])],
        endTime: acc.endTime + (p.endTime - p.startTime),
      };
    }, first);
    out[instance] = summariseProfile(merged);
  }
  return out;
}

interface CpuFigures {
  cpu_ms_per_payment: number | null;
  floor_cpu_ms_per_payment: number;
  efficiency: number | null;
  redis_shared: boolean;
  cpu: ActualCpu;
  floor: Floor;
}

/** CPU per payment against the floor, for the console and the markdown. */
function cpuLines(r: CpuFigures): string[] {
  const processes = Object.entries(r.cpu.ms_per_payment_by_process).map(([name, ms]) => `${name} ${ms}`).join(', ');
  return [
    `  CPU per final payment ${r.cpu_ms_per_payment ?? 'n/a'} ms (${r.cpu.final_payments} final in ${r.cpu.window_s} s; ${processes}${r.redis_shared ? '; redis-server shared with other clients' : ''}${r.cpu.missing.length > 0 ? `; not sampled: ${r.cpu.missing.join(', ')}` : ''})`,
    `  floor ${r.floor_cpu_ms_per_payment} ms per payment, efficiency (floor / actual) ${r.efficiency ?? 'n/a'}:`,
    ...floorSummary(r.floor),
  ];
}

function writeReport(jsonFile: string, result: Record<string, unknown> & CpuFigures & { e2e_per_s: number }, pipeline: Pipeline): void {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  const stem = jsonFile.replace(/\.json$/, '');
  const seconds = pipeline.accepted.seconds().length >= pipeline.completed.seconds().length ? pipeline.accepted.seconds() : pipeline.completed.seconds();
  writeFileSync(
    `${stem}-throughput.svg`,
    lineChartSvg('Throughput', 'payments / s', [
      { name: 'accepted by ingest', color: '#1f77b4', points: seconds.map((s) => [s, pipeline.accepted.count(s)]) },
      { name: 'final (settled/declined/review)', color: '#2ca02c', points: seconds.map((s) => [s, pipeline.completed.count(s)]) },
    ]),
  );
  writeFileSync(
    `${stem}-latency.svg`,
    lineChartSvg('End-to-end latency (submit -> final)', 'ms', [
      { name: 'p50', color: '#1f77b4', points: seconds.map((s) => [s, pipeline.completed.latency(s, 50)]) },
      { name: 'p99', color: '#d62728', points: seconds.map((s) => [s, pipeline.completed.latency(s, 99)]) },
    ]),
  );
  const md = [
    '# Payrail end-to-end benchmark',
    '',
    '## CPU per payment and its floor',
    '',
    '```',
    ...cpuLines(result),
    '```',
    '',
    '```json',
    JSON.stringify(result, null, 2),
    '```',
    '',
    `![throughput](${basename(stem)}-throughput.svg)`,
    '',
    `![latency](${basename(stem)}-latency.svg)`,
    '',
  ].join('\n');
  writeFileSync(`${stem}.md`, md);
  const r = result as unknown as { fixed_rate: PhaseResult & { rate_per_s: number }; max_rate: PhaseResult; raw_single_hop_per_s: number; ratio: number; lost: number; duplicates: number };
  process.stdout.write(
    [
      `payrail e2e bench (${cpus().length} CPUs, node ${process.version})`,
      `  fixed ${r.fixed_rate.rate_per_s}/s: accepted ${r.fixed_rate.accepted_per_s}/s, final ${r.fixed_rate.completed_per_s}/s, p50 ${r.fixed_rate.p50_ms} ms, p99 ${r.fixed_rate.p99_ms} ms`,
      `  max: accepted ${r.max_rate.accepted_per_s}/s, final ${r.max_rate.completed_per_s}/s, p50 ${r.max_rate.p50_ms} ms, p99 ${r.max_rate.p99_ms} ms`,
      `  raw kafkajs single hop ${r.raw_single_hop_per_s}/s, ratio ${r.ratio}; lost ${r.lost}, duplicates ${r.duplicates}`,
      ...cpuLines(result),
      `  wrote ${jsonFile} (+ .md, -throughput.svg, -latency.svg)`,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
