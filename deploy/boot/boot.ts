// Deployment boot test: `npm run deploy:boot -- --target compose|k8s-dev|k8s-prod|all [--json FILE] [--payments N]`.
//
// Builds every image from the Dockerfile by executing its instructions (deploy/sandbox/image-build.ts), renders the
// target (docker-compose.yml, or a Kustomize overlay through deploy/kustomize.ts plus the Secrets that
// docs/operations.md tells the operator to create), and starts each workload from its image with exactly what the
// descriptor gives it: argv, environment, mounted Secrets/ConfigMaps/secrets/volumes, tmpfs, user, read-only root.
// Everything runs in a network namespace of its own where every service name resolves to loopback and the ports are
// the descriptor's; Kafka (KRaft, Maven Central jars) and Redis come from the usual local provisioning at the
// addresses the descriptor names. Kafka offers exactly the listener the descriptor's clients use (SASL/SCRAM-SHA-512,
// over TLS where they use it, with a certificate from the CA they are given) and knows exactly the SCRAM users and
// passwords of the secrets they mount: each workload authenticates as its own principal, under the ACLs the topics
// job creates, or does not run. It waits for every readiness check, pushes payments through ingest with the
// upstream kit, follows each to a final state, and writes
// {"target","services_started","probes_ok","payments","settled","declined","in_review","lost",...}.
// Exits non-zero when a figure is bad: a service that did not start or answer its probe, a payment lost or refused.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { assertContainersSupported, runContainer, startContainer, type ContainerSpec, type RunningContainer, type VolumeMount } from '../sandbox/container';
import { ImageBuilder, type BuiltImage } from '../sandbox/image-build';
import type { DemoSummary } from '../../apps/upstream-kit/src/demo';
import type { KafkaTlsFiles } from '../local/kafka.mjs';
import { argvOf, documentedSecrets, kafkaPlanOf, renderCompose, renderK8s, type KafkaPlan, type RenderedTarget, type Workload } from './workloads';

const repoRoot = resolve(__dirname, '..', '..');
const TARGETS = ['compose', 'k8s-dev', 'k8s-prod'] as const;
type Target = (typeof TARGETS)[number];
const INSIDE = 'PAYRAIL_BOOT_PHASE';

const log = (line: string): void => {
  process.stdout.write(`[deploy:boot ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd ?? repoRoot, env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${String(res.status)}): ${(res.stderr || res.stdout || res.error?.message || '').slice(-2000)}`);
  return res.stdout;
}

// ------------------------------------------------------------------------- the network namespace (outer process)

const NETNS_PREFIX = 'payrail-boot-';

/** Deletes namespaces left by killed runs (their pid in the name is gone). */
function reapStaleNamespaces(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const name of list.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(NETNS_PREFIX))) {
    const pid = Number(name.slice(NETNS_PREFIX.length));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      /* gone */
    }
    if (alive) continue;
    killNamespaceProcesses(name);
    spawnSync('ip', ['netns', 'del', name]);
    rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
    log(`removed the network namespace of a killed run: ${name}`);
  }
}

function killNamespaceProcesses(name: string): void {
  const pids = (spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '').split('\n').filter((p) => /^\d+$/.test(p));
  for (const p of pids) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

async function runOutside(): Promise<number> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new Error('deploy:boot needs Linux and root (a network namespace, mount namespaces and overlayfs stand in for the container engine)');
  }
  reapStaleNamespaces();
  // a report from an earlier run must never stand for this one
  const { values } = parseArgs({ strict: false, options: { json: { type: 'string' } } });
  const json = typeof values.json === 'string' ? resolve(values.json) : undefined;
  if (json) rmSync(json, { force: true });
  const ns = `${NETNS_PREFIX}${process.pid}`;
  sh('ip', ['netns', 'add', ns]);
  try {
    // phase 1 (images) in a private mount namespace on the host's network: the build stage's `npm ci` and the tini
    // stage's `apt-get` reach their registries as a Docker build does
    const child = spawn('unshare', ['--mount', '--propagation', 'private', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, [INSIDE]: `build:${ns}` },
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
    const code = await new Promise<number>((r) => child.once('exit', (c, signal) => r(c ?? (signal ? 1 : 0))));
    if (json && !existsSync(json)) {
      writeFileSync(json, `${JSON.stringify({ ok: false, problems: [`deploy:boot ended (exit ${code}) before writing its report: see its output`] }, null, 2)}\n`);
    }
    return code;
  } finally {
    killNamespaceProcesses(ns);
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

// -------------------------------------------------------------------------------- inside: infrastructure, images

/** How to stop the target being booted (its workloads, Kafka, Redis), for the SIGTERM handler. */
let activeStop: (() => Promise<void>) | undefined;

interface Infra {
  stop(): Promise<void>;
}

/**
 * Kafka as the descriptor expects it (`plan`: kafkaPlanOf): one node, or three (replication factor 3,
 * min.insync.replicas 2) on 127.0.0.1-3 when its topics job creates topics with a replication factor above 1 (the
 * prod overlay). Its one client listener is the descriptor's: the port of KAFKA_BROKERS, SASL/SCRAM-SHA-512, over
 * TLS with `tls` (a certificate of the CA the workloads trust) where they connect with SASL_SSL. Its SCRAM users are
 * the workloads' own, with the passwords of the secrets they mount; there is no other way in (no unauthenticated
 * listener), so a workload with a wrong principal, password or CA cannot connect.
 */
async function startInfrastructure(runDir: string, kafkaNodes: 1 | 3, plan: KafkaPlan, tls: KafkaTlsFiles | undefined): Promise<Infra> {
  const kafkaModule = '../local/kafka.mjs' as string; // plain JavaScript (ESM), typed by kafka.d.mts
  const { startKafka, startKafkaCluster, newKafkaCredentials, KAFKA_CLIENT_USERS } = (await import(kafkaModule)) as typeof import('../local/kafka.mjs');
  const kafkaDir = join(runDir, 'kafka');
  const credentials = newKafkaCredentials(kafkaDir, [...new Set([...KAFKA_CLIENT_USERS, ...Object.keys(plan.users)])], plan.users);
  // this namespace has nothing else listening: the descriptor's port, and a controller port next to it
  const port = plan.port;
  const controllerPort = port === 9093 ? 9094 : 9093;
  const kafka =
    kafkaNodes === 3
      ? await startKafkaCluster({ hosts: ['127.0.0.1', '127.0.0.2', '127.0.0.3'], port, controllerPort, runDir: kafkaDir, heapMb: 384, detached: false, credentials, tls })
      : await startKafka({ port, controllerPort, runDir: kafkaDir, heapMb: 512, detached: false, credentials, tls });
  mkdirSync(join(runDir, 'redis'), { recursive: true });
  const redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', join(runDir, 'redis'), '--logfile', join(runDir, 'redis', 'redis.log')], { stdio: 'ignore' });
  const redisExited = new Promise<void>((r) => redis.once('exit', () => r()));
  let pong = false;
  for (let i = 0; i < 100 && !pong; i++) {
    pong = spawnSync('redis-cli', ['-p', '6379', 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
    if (!pong) await sleep(100);
  }
  if (!pong) {
    redis.kill('SIGKILL');
    await kafka.stop();
    throw new Error('redis-server did not answer PING on 127.0.0.1:6379 within 10 s');
  }
  log(`kafka: ${kafkaNodes} node(s) at ${kafka.bootstrap} (${plan.protocol} ${plan.mechanism}; users ${Object.keys(plan.users).join(', ')}), redis at 127.0.0.1:6379 (pid ${String(redis.pid)})`);
  return {
    stop: async () => {
      redis.kill('SIGTERM');
      await redisExited;
      await kafka.stop();
    },
  };
}

// ------------------------------------------------------------------------------------------------- the workloads

interface Started {
  workload: Workload;
  image: BuiltImage;
  running?: RunningContainer;
  restarts: number;
  exitCodes: number[];
  stopping: boolean;
  ready: boolean;
  scratch: string;
  /** The workload's mounted files, written once (every start and every exec probe binds the same ones). */
  volumes?: VolumeMount[];
}

/** The workload's volumes, projected on first use. */
function volumesOf(s: Started): VolumeMount[] {
  s.volumes ??= projectVolumes(s);
  return s.volumes;
}

/** Writes a Secret/ConfigMap volume's files as the kubelet projects them (mode, group fsGroup), or binds host paths. */
function projectVolumes(s: Started): VolumeMount[] {
  return s.workload.files.map((f, n) => {
    if (f.hostPath) {
      if (!existsSync(f.hostPath)) throw new Error(`${s.workload.name}: ${f.hostPath} (mounted at ${f.target}) does not exist`);
      return { source: f.hostPath, target: f.target, readOnly: f.readOnly };
    }
    const dir = join(s.scratch, `volume-${n}`);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const [name, content] of Object.entries(f.entries ?? {})) {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: f.mode ?? 0o644 });
      if (s.workload.fsGroup !== undefined) chownSync(path, 0, s.workload.fsGroup);
    }
    return { source: dir, target: f.target, readOnly: f.readOnly };
  });
}

function containerSpec(s: Started, hosts: Record<string, string>, argv?: string[]): ContainerSpec {
  const w = s.workload;
  return {
    layers: s.image.layers,
    workdir: s.image.config.workdir,
    env: { ...s.image.config.env, HOSTNAME: w.name, ...w.env },
    user: w.user ?? s.image.config.user,
    groups: w.fsGroup !== undefined ? [w.fsGroup] : [],
    argv: argv ?? argvOf(w, s.image.config),
    volumes: volumesOf(s),
    tmpfs: w.tmpfs,
    hosts,
  };
}

function launch(s: Started, hosts: Record<string, string>, logsDir: string): void {
  const out = openSync(join(logsDir, `${s.workload.name}.log`), 'a');
  s.running = startContainer({ ...containerSpec(s, hosts), ...(s.workload.readOnlyRoot ? {} : { upper: mkUpper(s) }) }, { stdio: ['ignore', out, out], scratchParent: s.scratch });
  closeSync(out);
  const child: ChildProcess = s.running.child;
  child.once('exit', (code, signal) => {
    s.exitCodes.push(code ?? (signal === 'SIGTERM' ? 143 : 137));
    s.running?.dispose();
    s.running = undefined;
    if (s.stopping || (s.workload.runToCompletion && code === 0)) return;
    // restart: unless-stopped (compose), restartPolicy Always / a Job's OnFailure up to its backoffLimit, with a
    // growing back-off; compose restart "no" never (a failed set-up job then fails the boot, as it fails `up`)
    const policy = s.workload.restart;
    if (policy.when === 'never' || (policy.when === 'on-failure' && s.restarts >= policy.limit)) {
      log(`${s.workload.name} exited (${String(code ?? signal)}); not restarted (restart policy: ${policy.when})`);
      return;
    }
    s.restarts++;
    const backoffMs = Math.min(10_000, 500 * 2 ** Math.min(s.restarts, 5));
    log(`${s.workload.name} exited (${String(code ?? signal)}); restarting in ${backoffMs} ms (restart ${s.restarts})`);
    setTimeout(() => !s.stopping && launch(s, hosts, logsDir), backoffMs);
  });
}

/** A writable root (no readOnlyRootFilesystem / read_only): changes go to a layer of the container's own. */
function mkUpper(s: Started): string {
  const dir = join(s.scratch, `upper-${s.restarts}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function isReady(s: Started, hosts: Record<string, string>): Promise<boolean> {
  const r = s.workload.readiness;
  if (!r) return s.running !== undefined;
  if (r.kind === 'http') {
    try {
      const res = await fetch(`http://127.0.0.1:${r.port}${r.path}`, { signal: AbortSignal.timeout(3000) });
      return res.ok;
    } catch {
      return false;
    }
  }
  // a compose healthcheck runs in the container: here a container of the same image, environment and user
  const code = await runContainer({ ...containerSpec(s, hosts, r.argv), tmpfs: s.workload.tmpfs }, { stdio: 'ignore', scratchParent: s.scratch });
  return code === 0;
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await sleep(1000);
  }
  log(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
  return false;
}

/** The upstream kit's demo summary figures, and what the boot itself measured. */
interface BootReport extends Pick<DemoSummary, 'accepted' | 'rejected' | 'settled' | 'declined' | 'in_review' | 'lost'> {
  target: Target;
  services_started: number;
  services_expected: number;
  probes_ok: boolean;
  payments: number;
  restarts: Record<string, number>;
  jobs_completed: string[];
  infrastructure_replaced: string[];
  host_names: string[];
  image_base: string;
  kafka_brokers: number;
  /** The listener the descriptor asked for and the principal each workload connected as. */
  kafka: { listener: string; port: number; principals: Record<string, string> };
  duration_s: number;
  ok: boolean;
  problems: string[];
}

const KAFKA_TLS_MODULE = '../local/kafka-tls.mjs' as string; // plain JavaScript (ESM), typed by kafka-tls.d.mts

/** The sandbox broker's PEM keystore and truststore: a certificate for the plan's host names and 127.0.0.1-3. */
async function brokerTls(keysDir: string, target: Target, plan: KafkaPlan): Promise<KafkaTlsFiles> {
  const { issueBrokerCertificate } = (await import(KAFKA_TLS_MODULE)) as typeof import('../local/kafka-tls.mjs');
  const issued = issueBrokerCertificate(join(keysDir, 'kafka'), [...plan.hosts, '127.0.0.1', '127.0.0.2', '127.0.0.3'], `deploy-boot-${target}`);
  return { keystore: issued.pem, truststore: issued.ca };
}

async function bootTarget(target: Target, images: Map<string, BuiltImage>, keysDir: string, runDir: string, payments: number): Promise<BootReport> {
  const started = Date.now();
  const rendered: RenderedTarget =
    target === 'compose'
      ? renderCompose(join(repoRoot, 'docker-compose.yml'), { ...process.env, PAYRAIL_KEYS_DIR: keysDir })
      : renderK8s(join(repoRoot, 'deploy', 'k8s', 'overlays', target === 'k8s-dev' ? 'dev' : 'prod'), target, documentedSecrets(join(repoRoot, 'docs', 'operations.md'), keysDir, { 'payrail-redis/url': 'redis://redis:6379/0' }));
  const hosts = Object.fromEntries(rendered.hostNames.map((h) => [h, '127.0.0.1']));
  log(`${target}: ${rendered.workloads.map((w) => `${w.name} (${w.app})`).join(', ')}; replaced by local provisioning: ${rendered.infrastructure.join(', ') || 'none'}`);
  const logsDir = join(runDir, target, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const replication = Math.max(1, ...rendered.workloads.map((w) => Number((w.cmd ?? [])[(w.cmd ?? []).indexOf('--replication') + 1] ?? 1) || 1));
  const plan = kafkaPlanOf(rendered);
  // where the workloads speak TLS: a certificate for every name they (and the brokers) connect to, from the CA whose
  // certificate the descriptor hands them (keys/kafka/ca.crt: docs/operations.md, "Deploy", step 1)
  const tls = plan.protocol === 'SASL_SSL' ? await brokerTls(keysDir, target, plan) : undefined;
  log(`${target}: Kafka ${plan.protocol} ${plan.mechanism} on port ${plan.port}; principals ${Object.entries(plan.principals).map(([w, u]) => `${w}=${u}`).join(', ')}`);
  const infra = await startInfrastructure(join(runDir, target), replication > 1 ? 3 : 1, plan, tls);
  const all: Started[] = rendered.workloads.map((w) => {
    const image = images.get(w.app);
    if (!image) throw new Error(`${w.name}: no image built for ${w.app}`);
    const scratch = join(runDir, 'sandbox', target, w.name);
    mkdirSync(scratch, { recursive: true });
    return { workload: w, image, restarts: 0, exitCodes: [], stopping: false, ready: false, scratch };
  });
  // the stop path, once: from the end of the boot, or from SIGTERM (a step deadline) while it runs
  let stopped: Promise<void> | undefined;
  const stopEverything = (): Promise<void> =>
    (stopped ??= (async () => {
      for (const s of all) s.stopping = true;
      for (const s of all) s.running?.signal('SIGTERM');
      await waitFor('the workloads to stop', 40_000, () => all.every((s) => s.running === undefined));
      for (const s of all) s.running?.signal('SIGKILL');
      await infra.stop();
    })());
  activeStop = stopEverything;
  const problems: string[] = [];
  const report: BootReport = {
    target,
    services_started: 0,
    services_expected: all.filter((s) => !s.workload.runToCompletion).length,
    probes_ok: false,
    payments,
    accepted: 0,
    rejected: 0,
    settled: 0,
    declined: 0,
    in_review: 0,
    lost: payments,
    restarts: {},
    jobs_completed: [],
    infrastructure_replaced: rendered.infrastructure,
    host_names: rendered.hostNames,
    image_base: [...images.values()][0]?.base ?? '',
    kafka_brokers: replication > 1 ? 3 : 1,
    kafka: { listener: `${plan.protocol} ${plan.mechanism}`, port: plan.port, principals: plan.principals },
    duration_s: 0,
    ok: false,
    problems,
  };
  try {
    // start in dependency order (compose depends_on); Kubernetes starts everything at once
    const pending = new Set(all);
    const byName = new Map(all.map((s) => [s.workload.name, s]));
    const done = (name: string): boolean => {
      const s = byName.get(name);
      return s === undefined || (s.workload.runToCompletion ? s.exitCodes.includes(0) : s.ready);
    };
    const deadline = Date.now() + 240_000;
    while (pending.size > 0 && Date.now() < deadline) {
      for (const s of [...pending]) {
        if (!s.workload.dependsOn.every(done)) continue;
        pending.delete(s);
        log(`${target}: starting ${s.workload.name}: ${argvOf(s.workload, s.image.config).join(' ')}`);
        launch(s, hosts, logsDir);
      }
      for (const s of all) if (!s.workload.runToCompletion && s.running && !s.ready) s.ready = await isReady(s, hosts);
      await sleep(1000);
    }
    for (const s of pending) problems.push(`${s.workload.name} never started: waiting for ${s.workload.dependsOn.filter((d) => !done(d)).join(', ')}`);
    const jobs = all.filter((s) => s.workload.runToCompletion);
    await waitFor('the set-up jobs to complete', 180_000, () => jobs.every((j) => j.exitCodes.includes(0)));
    report.jobs_completed = jobs.filter((j) => j.exitCodes.includes(0)).map((j) => j.workload.name);
    for (const j of jobs) if (!j.exitCodes.includes(0)) problems.push(`job ${j.workload.name} did not complete (exit codes ${j.exitCodes.join(',') || 'none'})`);
    const services = all.filter((s) => !s.workload.runToCompletion);
    await waitFor('every readiness probe', 180_000, async () => {
      for (const s of services) s.ready = s.running !== undefined && (await isReady(s, hosts));
      return services.every((s) => s.ready);
    });
    report.services_started = services.filter((s) => s.running !== undefined).length;
    report.probes_ok = services.every((s) => s.ready);
    for (const s of services) if (!s.ready) problems.push(`${s.workload.name} is not ready (see ${join(logsDir, `${s.workload.name}.log`)})`);
    if (report.probes_ok) {
      const ingest = services.find((s) => s.workload.app === 'ingest');
      // payments go to ingest's public port (HTTP_PORT); its probes are on the operations listener (OPS_PORT)
      const port = Number(ingest?.workload.env['HTTP_PORT'] ?? 8080);
      const summaryFile = join(runDir, target, 'payments.json');
      log(`${target}: every service ready; pushing ${payments} payments through ingest (upstream kit)`);
      // asynchronous: crashes and restarts of the workloads are handled (and counted) while the payments flow
      const exitsBefore = new Map(services.map((s) => [s, s.exitCodes.length]));
      const demoChild = spawn(process.execPath, ['dist/apps/upstream-kit/main.js', 'demo', '--ingest', `http://127.0.0.1:${port}`, '--upstreams', join(keysDir, 'upstreams'), '--keys', join(keysDir, 'upstream-keys'), '--payments', String(payments), '--summary', summaryFile], { cwd: repoRoot, stdio: 'inherit' });
      const demoTimer = setTimeout(() => {
        problems.push('the upstream kit did not finish within 300 s');
        demoChild.kill('SIGKILL');
      }, 300_000);
      const demo = await new Promise<{ status: number | null }>((r) => demoChild.once('exit', (status) => r({ status })));
      clearTimeout(demoTimer);
      for (const s of services) {
        const during = s.exitCodes.slice(exitsBefore.get(s) ?? 0);
        if (during.length > 0) problems.push(`${s.workload.name} exited while the payments flowed (exit codes ${during.join(',')})`);
      }
      if (existsSync(summaryFile)) {
        const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as DemoSummary;
        for (const k of ['accepted', 'rejected', 'settled', 'declined', 'in_review', 'lost'] as const) report[k] = s[k];
      } else problems.push(`the upstream kit wrote no summary (exit ${String(demo.status)})`);
      if (report.rejected > 0) problems.push(`${report.rejected} payments rejected by ingest`);
      if (report.lost > 0) problems.push(`${report.lost} payments lost`);
      if (report.settled + report.declined + report.in_review !== payments) problems.push(`final states add up to ${report.settled + report.declined + report.in_review}, not ${payments}`);
    }
  } finally {
    await stopEverything();
    for (const s of all) if (s.restarts > 0) report.restarts[s.workload.name] = s.restarts;
  }
  if (report.services_started < report.services_expected) problems.push(`${report.services_started} of ${report.services_expected} services started`);
  report.duration_s = Math.round((Date.now() - started) / 1000);
  report.ok = problems.length === 0;
  return report;
}

interface BootPlan {
  targets: Target[];
  payments: number;
  json?: string;
  runDir: string;
  keysDir: string;
  images: Record<string, BuiltImage>;
  imageBuildSeconds: number;
}

/**
 * Where a Docker engine answers: the real image, built by the engine and exported as one layer (its whole root
 * filesystem) with its config, run by the same engine-less containers as the executed recipe's images.
 */
function dockerImage(app: string, dir: string): BuiltImage {
  const tag = `payrail/${app}:deploy-boot`;
  sh('docker', ['build', '--build-arg', `APP=${app}`, '-t', tag, '.']);
  const inspected = JSON.parse(sh('docker', ['image', 'inspect', tag])) as Array<{ Config: { Env?: string[]; WorkingDir?: string; User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null; Healthcheck?: { Test?: string[] }; StopSignal?: string; Labels?: Record<string, string> } }>;
  const config = inspected[0]?.Config;
  if (!config) throw new Error(`docker image inspect ${tag}: no config`);
  const id = sh('docker', ['create', tag]).trim();
  try {
    mkdirSync(dir, { recursive: true });
    sh('sh', ['-c', `docker export ${id} | tar -x -C '${dir}'`]);
  } finally {
    spawnSync('docker', ['rm', id]);
  }
  const test = config.Healthcheck?.Test;
  return {
    base: 'the image built by the Docker engine',
    layers: [dir],
    config: {
      env: Object.fromEntries((config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      workdir: config.WorkingDir || '/',
      user: config.User || undefined,
      entrypoint: config.Entrypoint ?? [],
      cmd: config.Cmd ?? [],
      healthcheck: test && test[0] === 'CMD' ? test.slice(1) : undefined,
      stopSignal: config.StopSignal,
      labels: config.Labels ?? {},
    },
  };
}

/** The names of the dev overlay's Kafka Service (the broker certificate of docs/operations.md, "Deploy", step 1). */
const DEV_KAFKA_TLS_NAMES = ['kafka', 'kafka.payrail-dev.svc', 'kafka.payrail-dev.svc.cluster.local'];

/** Phase 1: the images, the keys and the host tools; then phase 2 in the network namespace, same mount namespace. */
async function runBuildPhase(ns: string): Promise<number> {
  const { values } = parseArgs({ options: { target: { type: 'string', default: 'compose' }, json: { type: 'string' }, payments: { type: 'string', default: '200' } } });
  const targets: Target[] = values.target === 'all' ? [...TARGETS] : [values.target as Target];
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`--target ${t}: use compose, k8s-dev, k8s-prod or all`);
  const runDir = join(repoRoot, '.payrail', `deploy-boot-${targets.join('+')}`);
  rmSync(runDir, { recursive: true, force: true });
  // layers and containers' scratch space on a tmpfs of this mount namespace: gone with it, whatever happens
  const sandbox = join(runDir, 'sandbox');
  mkdirSync(sandbox, { recursive: true });
  sh('mount', ['-t', 'tmpfs', '-o', 'size=12g,mode=0755', 'tmpfs', sandbox]);
  process.env['TMPDIR'] = sandbox;
  assertContainersSupported();

  log('building the upstream kit and the CLI on the host (keys, payments)');
  sh('npx', ['nx', 'run-many', '-t', 'build', '-p', 'payrail-cli', 'upstream-kit', '--output-style=static'], { env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } });
  const keysDir = join(runDir, 'keys');
  // as docs/operations.md says for compose: the key files handed to the images' user (uid 1000)
  sh(process.execPath, ['dist/apps/payrail-cli/main.js', 'dev-setup', '--dir', keysDir, '--owner', '1000:1000']);
  // the Kafka CA and the dev overlay's broker certificate, made as docs/operations.md ("Deploy", step 1) makes them
  sh(process.execPath, ['deploy/local/kafka-tls.mjs', join(keysDir, 'kafka'), ...DEV_KAFKA_TLS_NAMES]);

  const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000 });
  const useEngine = engine.status === 0 && engine.stdout.trim() !== '';
  log(useEngine ? `Docker engine ${engine.stdout.trim()} answers: building the real images with docker build` : 'no Docker engine answers: executing the Dockerfile instruction by instruction (deploy/sandbox/image-build.ts)');
  const builder = useEngine ? undefined : new ImageBuilder({ contextDir: repoRoot, buildArgs: {}, workDir: join(sandbox, 'build'), log });
  const images: Record<string, BuiltImage> = {};
  const buildStarted = Date.now();
  for (const app of ['payrail-cli', 'signing', 'ingest', 'fraud-check', 'settlement']) {
    const t0 = Date.now();
    images[app] = builder ? await builder.build({ APP: app }) : dockerImage(app, join(sandbox, 'images', app));
    log(`image payrail/${app}: ${images[app]?.layers.length} layers in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const payments = Number(values.payments);
  if (!Number.isInteger(payments) || payments < 1) throw new Error(`--payments must be a whole number >= 1, got ${String(values.payments)}`);
  const plan: BootPlan = { targets, payments, json: values.json ? resolve(values.json) : undefined, runDir, keysDir, images, imageBuildSeconds: Math.round((Date.now() - buildStarted) / 1000) };
  const planFile = join(sandbox, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const child = spawn('nsenter', [`--net=/run/netns/${ns}`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, [INSIDE]: `boot:${planFile}` } });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  return new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 1 : 0))));
}

/** A target that could not even be rendered or started: every figure says so. */
function failedReport(target: Target, payments: number, err: unknown): BootReport {
  return {
    target, services_started: 0, services_expected: 4, probes_ok: false, payments, accepted: 0, rejected: 0, settled: 0, declined: 0, in_review: 0, lost: payments,
    restarts: {}, jobs_completed: [], infrastructure_replaced: [], host_names: [], image_base: '', kafka_brokers: 0, kafka: { listener: '', port: 0, principals: {} }, duration_s: 0, ok: false,
    problems: [err instanceof Error ? err.message : String(err)],
  };
}

/** Phase 2, in the network namespace: infrastructure, the workloads from their images, payments. */
async function runBootPhase(planFile: string): Promise<number> {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as BootPlan;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the workloads, Kafka and Redis`);
      void (activeStop?.() ?? Promise.resolve()).finally(() => process.exit(143));
    });
  }
  spawnSync('ip', ['link', 'set', 'lo', 'up']);
  const images = new Map(Object.entries(plan.images));
  const reports: BootReport[] = [];
  for (const t of plan.targets) {
    const r = await bootTarget(t, images, plan.keysDir, plan.runDir, plan.payments).catch((err: unknown) => failedReport(t, plan.payments, err));
    reports.push(r);
    log(`${t}: ${r.ok ? 'OK' : 'FAILED'} services ${r.services_started}/${r.services_expected}, probes ${r.probes_ok ? 'ok' : 'NOT ok'}, payments ${r.payments}: settled ${r.settled}, declined ${r.declined}, in review ${r.in_review}, lost ${r.lost} (${r.duration_s} s)${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`);
  }
  const out = reports.length === 1 ? { ...reports[0], image_build_s: plan.imageBuildSeconds } : { targets: reports, image_build_s: plan.imageBuildSeconds, ok: reports.every((r) => r.ok) };
  if (plan.json) {
    mkdirSync(resolve(plan.json, '..'), { recursive: true });
    writeFileSync(plan.json, `${JSON.stringify(out, null, 2)}\n`);
    log(`report: ${plan.json}`);
  }
  return reports.every((r) => r.ok) ? 0 : 1;
}

function main(): Promise<number> {
  const phase = process.env[INSIDE];
  if (phase?.startsWith('build:')) return runBuildPhase(phase.slice('build:'.length));
  if (phase?.startsWith('boot:')) return runBootPhase(phase.slice('boot:'.length));
  return runOutside();
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
