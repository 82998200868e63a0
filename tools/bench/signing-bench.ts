// Throughput of the signing stage alone: payrail.payments.accepted.v1 -> consume -> sign -> produce ->
// payrail.payments.signed.v1, through ONE signing service process (the built dist/apps/signing/main.js) on a real
// broker. Usage:
//   npm run bench:signing -- [--json FILE] [--payments N] [--runs R] [--cpu-prof DIR] [--no-build] [--node-arg FLAG]
// Without KAFKA_BROKERS it starts its own broker as `npm start` does (tools/stack Stack) and stops it at the end.
// With KAFKA_BROKERS it refuses a broker where a signing consumer group is already running (someone's stack).
//
// Each run loads N accepted payments while the service is stopped, starts the service, and measures how fast the
// consumer group's committed offset on the accepted topic advances (an offset is committed only after the signed
// instruction for it was acknowledged by the broker, acks=all). Per run: per_s over the backlog (start-up
// excluded), the service's CPU use in that window, and the machine's. At the end every signed instruction of
// every run is read back: counted (each payment exactly once) and a sample verified with the published keys.
// Type-check: npx tsc -p tools/bench
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONSUMER_GROUPS, PaymentSigned, TOPICS, EVENT_SEAL_TYPES } from '@payrail/contracts';
import { JwsVerifier, PayrailKeyStore, generateDevKeys, writeSealKeys } from '@payrail/crypto';
import { EventProducer, Kafka, createKafka, ensureTopics, kafkaConnectionFromProcessEnv } from '@payrail/messaging';
import { acceptedPayment } from '../../apps/signing/src/testing/accepted-payments';
import { freePort } from '../../apps/signing/src/testing/service-process';

const repoRoot = resolve(__dirname, '..', '..');

interface Options {
  json?: string;
  payments: number;
  runs: number;
  cpuProf?: string;
  build: boolean;
  /** Extra node flags for the service (e.g. --max-semi-space-size=32), to try runtime settings. */
  nodeArgs: string[];
}

function args(argv: string[]): Options {
  const out: Options = { payments: 40_000, runs: 3, build: true, nodeArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') out.json = resolve(value());
    else if (a === '--payments') out.payments = Number(value());
    else if (a === '--runs') out.runs = Number(value());
    else if (a === '--cpu-prof') out.cpuProf = resolve(value());
    else if (a === '--no-build') out.build = false;
    else if (a === '--node-arg') out.nodeArgs.push(value());
    else if (a === '--') continue; // npm run bench:signing -- --json FILE
    else throw new Error(`unknown argument ${String(a)}`);
  }
  if (!(Number.isInteger(out.payments) && out.payments >= 1_000)) throw new Error('--payments must be a whole number >= 1000');
  if (!(Number.isInteger(out.runs) && out.runs >= 1)) throw new Error('--runs must be >= 1');
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[bench:signing +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

/** utime + stime of a process, in seconds (Linux /proc). */
function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const total = n.reduce((s, x) => s + x, 0);
  return { busy: total - idle, total };
}

async function endOffsets(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, 30_000)))]);
  clearTimeout(timer);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

interface RunResult {
  run: number;
  payments: number;
  per_s: number;
  window_s: number;
  startup_s: number;
  service_cpu_cores: number;
  /** CPU time the service spent per payment: the figure that contention on a shared machine does not distort. */
  service_cpu_us_per_payment: number;
  machine_busy_pct: number;
  signed_delta: number;
}

async function main(): Promise<void> {
  const opts = args(process.argv.slice(2));
  let brokers = process.env['KAFKA_BROKERS'];
  let stack: { stop(): Promise<void> } | undefined;
  const workDir = mkdtempSync(join(tmpdir(), 'payrail-bench-signing-'));
  try {
    if (!brokers) {
      const stackModule: string = '../stack/stack.mjs'; // plain JavaScript (ESM): typed here
      const { Stack } = (await import(stackModule)) as { Stack: new (o: { name: string }) => { installSignalHandlers(): void; startInfra(): Promise<{ kafkaBrokers: string }>; infraEnv(): Record<string, string>; stop(): Promise<void> } };
      const s = new Stack({ name: 'bench-signing' });
      s.installSignalHandlers();
      stack = s;
      brokers = (await s.startInfra()).kafkaBrokers;
      // the bench's clients and the signing process it starts connect as the run's admin (KAFKA_SASL_*)
      Object.assign(process.env, s.infraEnv());
    }
    if (opts.build) {
      log('building the signing service (nx, cached when unchanged)');
      const res = spawnSync('npx', ['nx', 'run', 'signing:build', '--output-style=static'], { cwd: repoRoot, env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' }, stdio: ['ignore', 'pipe', 'inherit'] });
      if (res.status !== 0) throw new Error('nx run signing:build failed');
    }
    // kafkajs' own lines only when something is wrong (the coordinator warm-up noise of a fresh broker is not)
    const quiet = { warn: () => undefined, error: (o: object, m: string) => (process.env['BENCH_DEBUG'] ? log(`${m} ${JSON.stringify(o)}`) : undefined) };
    const kafka = createKafka({ ...kafkaConnectionFromProcessEnv(process.env, 'payrail-bench-signing'), brokers: brokers.split(',') }, quiet);
    await ensureTopics(kafka);
    const admin = kafka.admin();
    await admin.connect();
    const [group] = (await admin.describeGroups([CONSUMER_GROUPS.signing])).groups;
    if (group && group.members.length > 0) {
      await admin.disconnect();
      throw new Error(`consumer group ${CONSUMER_GROUPS.signing} has ${group.members.length} running member(s) on ${brokers}: stop that signing service or use a broker of your own`);
    }

    // this run's keys, never committed anywhere
    const { privateJwks, publicJwks } = await generateDevKeys({ alg: 'ES256', withEncryptionKey: false });
    const keysFile = join(workDir, 'private.jwks.json');
    writeFileSync(keysFile, JSON.stringify(privateJwks), { mode: 0o600 });
    // the payments arrive sealed as ingest seals them (signing signs nothing else)
    const [ingestSeal, settlementSeal] = [await writeSealKeys(join(workDir, 'ingest-seal')), await writeSealKeys(join(workDir, 'settlement-seal'))];
    const asIngest = await ingestSeal.sealer(EVENT_SEAL_TYPES.paymentAccepted);
    const verifier = new JwsVerifier(await PayrailKeyStore.fromJwks(publicJwks), { algorithms: ['ES256'] });

    const producer = new EventProducer(kafka, { source: 'payrail/bench', lingerMs: 10, maxBatchMessages: 2_000 });
    await producer.connect();
    const runs: RunResult[] = [];
    const allIds = new Set<string>();
    let profileDir: string | undefined;
    for (let run = 1; run <= opts.runs; run++) {
      const loadStarted = Date.now();
      log(`run ${run}/${opts.runs}: loading ${opts.payments} accepted payments`);
      const ids: string[] = [];
      for (let start = 0; start < opts.payments; start += 5_000) {
        const sends: Promise<void>[] = [];
        for (let i = start; i < Math.min(start + 5_000, opts.payments); i++) {
          const p = acceptedPayment(run * 1_000_000 + i);
          ids.push(p.payment_id);
          sends.push(producer.publish(TOPICS.paymentsAccepted, asIngest.seal(p), { key: p.payer.fingerprint, correlationId: p.payment_id, eventId: `${p.payment_id}:accepted`, subject: p.payment_id }));
        }
        await Promise.all(sends);
      }
      for (const id of ids) allIds.add(id);
      log(`run ${run}: loaded in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s; starting the signing service`);
      const acceptedEnd = await endOffsets(kafka, TOPICS.paymentsAccepted.name);
      const signedBefore = await endOffsets(kafka, TOPICS.paymentsSigned.name);
      const committedBefore = await committed(admin);

      const port = await freePort();
      const logFile = join(workDir, `signing-run${run}.log`);
      const out = openSync(logFile, 'a');
      const nodeArgs = ['--enable-source-maps', ...opts.nodeArgs];
      if (opts.cpuProf && run === opts.runs) {
        profileDir = join(opts.cpuProf, `signing-${Date.now()}`);
        mkdirSync(profileDir, { recursive: true });
        nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
      }
      const spawnedAt = Date.now();
      const child = spawn('node', [...nodeArgs, 'dist/apps/signing/main.js'], {
        cwd: repoRoot,
        env: { ...process.env, KAFKA_BROKERS: brokers, SIGNING_KEYS_FILE: keysFile, INGEST_SEAL_JWKS_FILE: ingestSeal.publicFile, SETTLEMENT_SEAL_JWKS_FILE: settlementSeal.publicFile, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'production' },
        stdio: ['ignore', out, out],
      });
      try {
        // watch the committed offsets: the first observed progress starts the window, the last payment ends it
        let first: { at: number; committed: number; cpu: number; machine: { busy: number; total: number } } | undefined;
        let last = first;
        const deadline = Date.now() + Math.max(120_000, opts.payments * 10);
        for (;;) {
          if (child.exitCode !== null) throw new Error(`signing exited (${child.exitCode}); see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
          if (Date.now() > deadline) throw new Error(`run ${run}: backlog not drained in time; see ${logFile}`);
          const c = await committed(admin);
          const pid = child.pid ?? 0;
          const sample = { at: Date.now(), committed: c, cpu: processCpuSeconds(pid), machine: machineJiffies() };
          if (c > committedBefore && first === undefined) first = sample;
          if (first) last = sample;
          if (c >= acceptedEnd) break;
          await sleep(100);
        }
        if (!first || !last) throw new Error('no progress observed');
        const windowS = (last.at - first.at) / 1000;
        const done = last.committed - first.committed;
        const perS = windowS > 0 ? done / windowS : Number.NaN;
        const result: RunResult = {
          run,
          payments: opts.payments,
          per_s: Math.round(perS),
          window_s: Number(windowS.toFixed(2)),
          startup_s: Number(((first.at - spawnedAt) / 1000).toFixed(2)),
          service_cpu_cores: Number(((last.cpu - first.cpu) / windowS).toFixed(2)),
          service_cpu_us_per_payment: Math.round(((last.cpu - first.cpu) * 1e6) / Math.max(1, done)),
          machine_busy_pct: Math.round((100 * (last.machine.busy - first.machine.busy)) / Math.max(1, last.machine.total - first.machine.total)),
          signed_delta: 0,
        };
        await stopChild(child);
        result.signed_delta = (await endOffsets(kafka, TOPICS.paymentsSigned.name)) - signedBefore;
        runs.push(result);
        log(`run ${run}: ${result.per_s} payments/s over ${result.window_s} s (service ${result.service_cpu_cores} cores, ${result.service_cpu_us_per_payment} us CPU/payment, machine ${result.machine_busy_pct}% busy, signed +${result.signed_delta})`);
      } finally {
        await stopChild(child);
      }
    }
    await producer.disconnect();
    await admin.disconnect();
    log('reading the signed instructions back');
    const check = await readBack(kafka, allIds, verifier);
    const perS = runs.map((r) => r.per_s).sort((a, b) => a - b);
    const median = perS[Math.floor(perS.length / 2)] ?? 0;
    const profile = profileDir ? summariseProfile(profileDir) : undefined;
    const report = {
      per_s: median,
      per_s_runs: runs.map((r) => r.per_s),
      goal_per_s: 6_000,
      payments_per_run: opts.payments,
      runs,
      read_back: check,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg_1m: Number((loadavg()[0] ?? 0).toFixed(2)), node: process.version },
      broker: brokers,
      profile,
    };
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    printSummary(report);
    if (check.missing > 0 || check.duplicates > 0 || check.invalid > 0) process.exitCode = 1;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    await stack?.stop();
  }

  async function committed(admin: ReturnType<Kafka['admin']>): Promise<number> {
    const [t] = await admin.fetchOffsets({ groupId: CONSUMER_GROUPS.signing, topics: [TOPICS.paymentsAccepted.name] });
    return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  }
}

/** Reads the signed topic back: every payment of the bench exactly once; every 25th signature verified. */
async function readBack(kafka: Kafka, ids: Set<string>, verifier: JwsVerifier): Promise<{ expected: number; found: number; missing: number; duplicates: number; verified: number; invalid: number }> {
  const seen = new Map<string, number>();
  let verified = 0;
  let invalid = 0;
  let n = 0;
  const target = await endOffsets(kafka, TOPICS.paymentsSigned.name);
  const consumer = kafka.consumer({ groupId: `payrail-bench-readback-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPICS.paymentsSigned.name], fromBeginning: true });
  let read = 0;
  const finished = new Promise<void>((done) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          read++;
          const signed = JSON.parse(m.value?.toString('utf8') ?? '{}') as PaymentSigned;
          if (!ids.has(signed.payment_id)) continue;
          seen.set(signed.payment_id, (seen.get(signed.payment_id) ?? 0) + 1);
          if (n++ % 25 === 0) {
            try {
              await verifier.verify(signed.instruction_jws);
              verified++;
            } catch {
              invalid++;
            }
          }
        }
        if (read >= target) done();
      },
    });
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise<void>((r) => (timer = setTimeout(r, 120_000)))]);
  clearTimeout(timer);
  await consumer.disconnect();
  const duplicates = [...seen.values()].filter((c) => c > 1).length;
  return { expected: ids.size, found: seen.size, missing: ids.size - seen.size, duplicates, verified, invalid };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Functions whose presence in a stack marks start-up work (module loading, Nest bootstrap), left out of the summary. */
const STARTUP_FRAMES = new Set(['Module._load', 'bootstrapService', 'compileFunction', 'wrapSafe']);

/**
 * Self time by function (top 15) and by area, from the .cpuprofile written by --cpu-prof, over the samples taken
 * while the service worked (start-up stacks and idle samples left out), in percent of those samples.
 */
function summariseProfile(dir: string): { file: string; samples: number; top: { fn: string; self_pct: number }[]; areas: Record<string, number> } | undefined {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return undefined;
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const startup = new Map<number, boolean>();
  const isStartup = (id: number): boolean => {
    const known = startup.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const result = node !== undefined && (STARTUP_FRAMES.has(node.callFrame.functionName) || (up !== undefined && isStartup(up)));
    startup.set(id, result);
    return result;
  };
  const byFn = new Map<string, number>();
  const areas: Record<string, number> = {};
  let total = 0;
  for (const id of profile.samples) {
    const n = byId.get(id);
    if (!n || n.callFrame.functionName === '(idle)' || isStartup(id)) continue;
    total++;
    const url = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(apps|libs|dist)\//, '$1/');
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + 1);
    const area = areaOf(n.callFrame.functionName, n.callFrame.url);
    areas[area] = (areas[area] ?? 0) + 1;
  }
  const pct = (hits: number) => Number(((100 * hits) / Math.max(1, total)).toFixed(1));
  const top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([fn, hits]) => ({ fn, self_pct: pct(hits) }));
  const byArea: Record<string, number> = {};
  for (const [k, v] of Object.entries(areas).sort((a, b) => b[1] - a[1])) byArea[k] = pct(v);
  return { file: join(dir, file), samples: total, top, areas: byArea };
}

function areaOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'native, outside JS (I/O, V8)';
  if (fn === 'signOneShot' || fn === 'rawSign') return 'ES256 signature (node:crypto)';
  if (url.includes('dist/apps/signing') && (fn === 'write' || fn === 'canonicalJson')) return 'canonical JSON (RFC 8785)';
  if (url.includes('kafkajs/src/protocol/requests/fetch') || url.includes('recordBatch/v0/decoder') || url.includes('record/v0/decoder')) return 'kafkajs: decoding fetched records';
  if (url.includes('kafkajs/src/protocol') || url.includes('kafkajs/src/producer')) return 'kafkajs: encoding produce requests';
  if (url.includes('kafkajs')) return 'kafkajs: other';
  if (url.includes('zod')) return 'zod (schema checks in and out)';
  if (url.includes('@nestjs') || url.includes('rxjs')) return 'NestJS transport / rxjs';
  if (url.includes('pino')) return 'logging';
  if (url.startsWith('node:')) return 'node internals (buffers, promises, timers)';
  return 'Payrail code and other';
}

function printSummary(report: { per_s: number; per_s_runs: number[]; runs: RunResult[]; read_back: Record<string, number>; machine: Record<string, unknown>; profile?: { samples: number; top: { fn: string; self_pct: number }[]; areas: Record<string, number> } }): void {
  const lines = [
    `signing stage (accepted -> sign -> signed, one instance): ${report.per_s} payments/s median of ${report.runs.length} run(s) [${report.per_s_runs.join(', ')}]; goal 6000/s`,
    ...report.runs.map((r) => `  run ${r.run}: ${r.per_s}/s over ${r.window_s} s, start-up ${r.startup_s} s, service CPU ${r.service_cpu_cores} cores = ${r.service_cpu_us_per_payment} us/payment, machine ${r.machine_busy_pct}% busy, signed +${r.signed_delta}`),
    `  read back: ${report.read_back['found']}/${report.read_back['expected']} signed once (missing ${report.read_back['missing']}, duplicated ${report.read_back['duplicates']}), ${report.read_back['verified']} signatures verified, ${report.read_back['invalid']} invalid`,
    `  machine: ${String(report.machine['cpus'])} cpus, load ${String(report.machine['loadavg_1m'])}, node ${String(report.machine['node'])}`,
  ];
  if (report.profile) {
    lines.push(`  where the service spent its CPU after start-up (self time, ${report.profile.samples} samples):`);
    for (const [area, pct] of Object.entries(report.profile.areas)) lines.push(`    ${String(pct).padStart(5)}%  ${area}`);
    lines.push('  top functions:');
    for (const t of report.profile.top) lines.push(`    ${String(t.self_pct).padStart(5)}%  ${t.fn}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
