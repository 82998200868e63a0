// What a deployment descriptor asks to run, in one shape for compose and Kubernetes: per workload the image (by
// app), the argv (ENTRYPOINT/CMD as overridden by the descriptor), the environment (ConfigMaps, Secrets, compose
// `environment:`), the files it mounts (Secrets, ConfigMaps, compose secrets and bind volumes), its tmpfs, user,
// read-only root, readiness check and what it waits for. deploy/boot/boot.ts runs these; nothing here is faked:
// every value comes from the rendered descriptor, and a reference it cannot resolve is an error naming it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ImageConfig } from '../sandbox/image-build';
import { renderKustomization, type K8sObject } from '../kustomize';

/** A file the workload sees, materialised on the host and bind-mounted. */
export interface MountedFile {
  /** Path inside the container (a file, or a directory when `entries` is set). */
  target: string;
  /** A host path to bind as it is (compose bind volumes and file secrets keep their host permissions). */
  hostPath?: string;
  /** Or: the files of a projected Secret / ConfigMap volume (name -> content), written with `mode`. */
  entries?: Record<string, Buffer>;
  mode?: number;
  readOnly: boolean;
}

export type Readiness = { kind: 'http'; path: string; port: number } | { kind: 'exec'; argv: string[] };

export interface Workload {
  name: string;
  /** Runs to completion (a Job, a compose service with restart "no") rather than staying up. */
  runToCompletion: boolean;
  /**
   * When a stopped process is started again: always (Deployments, compose unless-stopped), on failure up to a limit
   * (a Job's backoffLimit), or never (compose restart "no": a failed set-up job fails `compose up`).
   */
  restart: { when: 'always' } | { when: 'on-failure'; limit: number } | { when: 'never' };
  /** The Payrail app whose image it runs (payrail/<app> in the descriptor). */
  app: string;
  /** argv, or undefined for the image's ENTRYPOINT + CMD. */
  entrypoint?: string[];
  cmd?: string[];
  env: Record<string, string>;
  files: MountedFile[];
  tmpfs: string[];
  readOnlyRoot: boolean;
  /** `uid:gid` from the descriptor, else the image's USER. */
  user?: string;
  /** Supplementary group the mounted Secret files belong to (Kubernetes fsGroup). */
  fsGroup?: number;
  readiness?: Readiness;
  /** Workloads that must be ready (or completed, for run-to-completion ones) first (compose depends_on). */
  dependsOn: string[];
  /** Names this workload answers to on the network (compose service name, Kubernetes Service names). */
  hostNames: string[];
}

/** The client listener a descriptor's own Kafka declares (docker-compose.yml's kafka, the dev overlay's StatefulSet). */
export interface DeclaredKafkaListener {
  /** Where it is declared, for messages. */
  where: string;
  port: number;
  protocol: string;
  mechanism: string;
}

export interface RenderedTarget {
  target: string;
  workloads: Workload[];
  /** Infrastructure the descriptor runs itself (Kafka, Redis) and the boot test replaces with local provisioning. */
  infrastructure: string[];
  /** What the descriptor's own Kafka says it listens with (PAYRAIL_KAFKA_* of deploy/docker/kafka-start.sh), if it runs one. */
  kafkaDeclared?: DeclaredKafkaListener;
  /** Every name a workload may look up: all resolve to loopback in the boot test's network namespace. */
  hostNames: string[];
}

const APP_IMAGE = /(?:^|\/)payrail\/([a-z-]+)(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/;

function appOfImage(image: string | undefined, where: string): string | undefined {
  if (!image) return undefined;
  const m = APP_IMAGE.exec(image);
  if (!m) return undefined;
  if (m[1] === undefined) throw new Error(`${where}: image ${image} names no app`);
  return m[1];
}

/** Host names in the values a service connects to (KAFKA_BROKERS host:port lists, URLs). */
export function hostsInEnv(env: Record<string, string>): string[] {
  const hosts = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (name === 'KAFKA_BROKERS') for (const b of value.split(',')) hosts.add(b.trim().replace(/:\d+$/, ''));
    else if (/^(rediss?|https?):\/\//.test(value)) hosts.add(new URL(value).hostname);
  }
  return [...hosts].filter((h) => h !== '' && !/^[\d.]+$/.test(h) && h !== 'localhost');
}

/** The listener deploy/docker/kafka-start.sh is told to open (its PAYRAIL_KAFKA_* variables), when `env` runs it. */
function declaredKafkaListener(env: Record<string, string>, where: string): DeclaredKafkaListener | undefined {
  if (env['PAYRAIL_KAFKA_PORT'] === undefined) return undefined;
  return { where, port: Number(env['PAYRAIL_KAFKA_PORT']), protocol: env['PAYRAIL_KAFKA_PROTOCOL'] ?? '', mechanism: env['PAYRAIL_KAFKA_SASL_MECHANISM'] ?? '' };
}

// ------------------------------------------------------------------------------------------------ docker compose

interface ComposeService {
  image?: string;
  build?: { args?: Record<string, string> };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean>;
  secrets?: Array<string | { source: string; target?: string }>;
  volumes?: string[];
  tmpfs?: string[];
  read_only?: boolean;
  user?: string;
  restart?: string;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }> | string[];
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}. */
export function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string | undefined) => {
    const value = vars[name];
    const unset = value === undefined || (op?.startsWith(':') === true && value === '');
    if (op?.endsWith('-')) return unset ? (arg ?? '') : (value as string);
    if (op?.endsWith('?')) {
      if (unset) throw new Error(`compose: ${name} is required: ${arg ?? ''}`);
      return value as string;
    }
    return value ?? '';
  });
}

export function renderCompose(file: string, vars: Record<string, string | undefined>): RenderedTarget {
  const text = interpolate(readFileSync(file, 'utf8'), vars);
  const doc = parse(text, { merge: true }) as { services: Record<string, ComposeService>; secrets?: Record<string, { file: string }> };
  const workloads: Workload[] = [];
  const infrastructure: string[] = [];
  let kafkaDeclared: DeclaredKafkaListener | undefined;
  for (const [name, svc] of Object.entries(doc.services)) {
    const where = `docker-compose.yml services.${name}`;
    const app = svc.build?.args?.APP ?? appOfImage(svc.image, where);
    if (!app) {
      infrastructure.push(name);
      kafkaDeclared ??= declaredKafkaListener(Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, String(v)])), where);
      continue;
    }
    const files: MountedFile[] = [];
    for (const s of svc.secrets ?? []) {
      const source = typeof s === 'string' ? s : s.source;
      const target = typeof s === 'string' || !s.target ? `/run/secrets/${source}` : s.target.startsWith('/') ? s.target : `/run/secrets/${s.target}`;
      const secret = doc.secrets?.[source];
      if (!secret) throw new Error(`${where}: secret ${source} is not defined`);
      files.push({ target, hostPath: resolve(join(file, '..'), secret.file), readOnly: true });
    }
    for (const v of svc.volumes ?? []) {
      const [host, target, opts] = v.split(':');
      if (!host || !target) throw new Error(`${where}: volume ${v} is not host:container[:ro]`);
      if (!host.startsWith('/') && !host.startsWith('.')) throw new Error(`${where}: named volume ${host} for a Payrail service is not supported here`);
      files.push({ target, hostPath: resolve(join(file, '..'), host), readOnly: opts === 'ro' });
    }
    const env = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, String(v)]));
    const test = svc.healthcheck?.disable ? undefined : svc.healthcheck?.test;
    const dependsOn = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
    workloads.push({
      name,
      runToCompletion: svc.restart === 'no',
      restart: svc.restart === 'no' ? { when: 'never' } : svc.restart === 'on-failure' ? { when: 'on-failure', limit: Number.MAX_SAFE_INTEGER } : { when: 'always' },
      app,
      entrypoint: svc.entrypoint,
      cmd: svc.command,
      env,
      files,
      tmpfs: (svc.tmpfs ?? []).map((t) => t.split(':')[0] as string),
      readOnlyRoot: svc.read_only === true,
      user: svc.user,
      // CMD-SHELL would need the image's shell; Payrail's healthchecks are exec form
      readiness: test && test[0] === 'CMD' ? { kind: 'exec', argv: test.slice(1) } : undefined,
      dependsOn: dependsOn.filter((d) => !infrastructure.includes(d) && doc.services[d] !== undefined && (doc.services[d]?.build?.args?.APP ?? appOfImage(doc.services[d]?.image, d)) !== undefined),
      hostNames: [name],
    });
  }
  const hostNames = new Set<string>([...Object.keys(doc.services)]);
  for (const w of workloads) for (const h of hostsInEnv(w.env)) hostNames.add(h);
  return { target: 'compose', workloads, infrastructure, hostNames: [...hostNames], kafkaDeclared };
}

// ----------------------------------------------------------------------------------------------------- Kubernetes

interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } } }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
  securityContext?: { readOnlyRootFilesystem?: boolean; runAsUser?: number; runAsGroup?: number };
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  volumes?: Array<{ name: string; emptyDir?: object; secret?: { secretName: string; defaultMode?: number }; configMap?: { name: string; defaultMode?: number } }>;
}

/** A Secret or ConfigMap's data as bytes (Secrets' `data` is base64, `stringData` and ConfigMap `data` are text). */
function dataOf(o: K8sObject): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const data = (o['data'] ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(data)) out[k] = o.kind === 'Secret' ? Buffer.from(v, 'base64') : Buffer.from(v);
  for (const [k, v] of Object.entries((o['stringData'] ?? {}) as Record<string, string>)) out[k] = Buffer.from(v);
  return out;
}

/**
 * The Secrets and ConfigMaps an operator creates before applying (docs/operations.md, "Deploy", step 1), made by
 * running that step's `kubectl create secret generic|configmap` lines on the keys folder: the boot test thereby
 * also checks that the documented commands produce what the manifests reference.
 */
export function documentedSecrets(operationsDoc: string, keysDir: string, literals: Record<string, string>): K8sObject[] {
  const text = readFileSync(operationsDoc, 'utf8').replace(/\\\n\s*/g, ' ');
  const objects: K8sObject[] = [];
  for (const line of text.split('\n')) {
    const m = /kubectl -n \$NS create (secret generic|configmap) ([a-z0-9-]+)((?:\s+--from-(?:file|literal)=\S+)+)/.exec(line);
    if (!m) continue;
    const [, kind, name, sources] = m as unknown as [string, string, string, string];
    const data: Record<string, string> = {};
    for (const src of (sources ?? '').trim().split(/\s+/)) {
      const [, how, spec] = /^--from-(file|literal)=(.*)$/.exec(src) as unknown as [string, string, string];
      if (how === 'literal') {
        const key = spec.split('=')[0] as string;
        // the documented literal is a placeholder for the operator's own value
        const value = literals[`${name}/${key}`];
        if (value === undefined) throw new Error(`docs/operations.md: no value for the literal ${name}/${key}`);
        data[key] = Buffer.from(value).toString('base64');
        continue;
      }
      const [key, rel] = spec.includes('=') ? (spec.split('=') as [string, string]) : [undefined, spec];
      const path = join(keysDir, rel.replace(/^keys\//, ''));
      const entries = statSync(path).isDirectory() ? readdirSync(path).filter((f) => statSync(join(path, f)).isFile()).map((f) => [f, join(path, f)] as const) : [[key ?? rel.split('/').pop() ?? rel, path] as const];
      for (const [k, p] of entries) data[k] = readFileSync(p).toString('base64');
    }
    objects.push(
      kind === 'configmap'
        ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) }
        : { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data },
    );
  }
  return objects;
}

export function renderK8s(overlayDir: string, target: string, preCreated: K8sObject[]): RenderedTarget {
  const rendered = renderKustomization(overlayDir);
  const objects = [...rendered];
  // what the overlay ships wins over an operator-created object of the same name (the dev overlay's Redis Secret)
  for (const o of preCreated) if (!objects.some((x) => x.kind === o.kind && x.metadata.name === o.metadata.name)) objects.push(o);
  const namespace = rendered.find((o) => o.kind === 'Namespace')?.metadata.name ?? 'default';
  const find = (kind: string, name: string, where: string): K8sObject => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`${where}: ${kind} ${name} does not exist (neither in the overlay nor among the documented secrets)`);
    return o;
  };
  const workloads: Workload[] = [];
  const infrastructure: string[] = [];
  let kafkaDeclared: DeclaredKafkaListener | undefined;
  const hostNames = new Set<string>();
  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const n = svc.metadata.name;
    for (const h of [n, `${n}.${namespace}`, `${n}.${namespace}.svc`, `${n}.${namespace}.svc.cluster.local`]) hostNames.add(h);
  }
  for (const o of objects.filter((x) => ['Deployment', 'StatefulSet', 'Job'].includes(x.kind))) {
    const where = `${target} ${o.kind}/${o.metadata.name}`;
    const spec = ((o['spec'] as { template: { spec: PodSpec } }).template.spec) as PodSpec;
    if ((spec.initContainers ?? []).length > 0) throw new Error(`${where}: init containers are not supported by the boot test`);
    if (spec.containers.length !== 1) throw new Error(`${where}: one container per pod expected`);
    const c = spec.containers[0] as Container;
    const app = appOfImage(c.image, where);
    if (!app) {
      infrastructure.push(`${o.kind}/${o.metadata.name}`);
      kafkaDeclared ??= declaredKafkaListener(Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string])), where);
      continue;
    }
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef;
      if (!ref) continue;
      const data = dataOf(find(from.configMapRef ? 'ConfigMap' : 'Secret', ref.name, where));
      for (const [k, v] of Object.entries(data)) env[k] = v.toString('utf8');
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.configMapKeyRef || e.valueFrom?.secretKeyRef) {
        const ref = (e.valueFrom.configMapKeyRef ?? e.valueFrom.secretKeyRef) as { name: string; key: string };
        const value = dataOf(find(e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret', ref.name, where))[ref.key];
        if (value === undefined) throw new Error(`${where}: ${e.name} refers to key ${ref.key} missing from ${ref.name}`);
        env[e.name] = value.toString('utf8');
      } else throw new Error(`${where}: env ${e.name} has a source the boot test does not resolve (only value, configMapKeyRef, secretKeyRef)`);
    }
    const files: MountedFile[] = [];
    const tmpfs: string[] = [];
    for (const m of c.volumeMounts ?? []) {
      const vol = spec.volumes?.find((v) => v.name === m.name);
      if (!vol) throw new Error(`${where}: volumeMount ${m.name} has no volume`);
      if (m.subPath) throw new Error(`${where}: subPath mounts never see updates; not used by Payrail`);
      if (vol.emptyDir) tmpfs.push(m.mountPath);
      else if (vol.secret) files.push({ target: m.mountPath, entries: dataOf(find('Secret', vol.secret.secretName, where)), mode: vol.secret.defaultMode ?? 0o644, readOnly: true });
      else if (vol.configMap) files.push({ target: m.mountPath, entries: dataOf(find('ConfigMap', vol.configMap.name, where)), mode: vol.configMap.defaultMode ?? 0o644, readOnly: true });
      else throw new Error(`${where}: volume ${m.name} has a type the boot test does not mount`);
    }
    const sc = { ...spec.securityContext, ...c.securityContext };
    const probe = c.readinessProbe?.httpGet;
    const port = probe ? (typeof probe.port === 'number' ? probe.port : c.ports?.find((p) => p.name === probe.port)?.containerPort) : undefined;
    if (probe && port === undefined) throw new Error(`${where}: readiness probe port ${String(probe.port)} is not a declared container port`);
    const labels = (o.metadata as { labels?: Record<string, string> }).labels ?? {};
    const ownServices = objects.filter((s) => s.kind === 'Service' && Object.entries(((s['spec'] as { selector?: Record<string, string> }).selector ?? {})).every(([k, v]) => labels[k] === v));
    workloads.push({
      name: o.metadata.name,
      runToCompletion: o.kind === 'Job',
      restart: o.kind === 'Job' ? { when: 'on-failure', limit: (o['spec'] as { backoffLimit?: number }).backoffLimit ?? 6 } : { when: 'always' },
      app,
      entrypoint: c.command,
      cmd: c.args,
      env,
      files,
      tmpfs,
      readOnlyRoot: c.securityContext?.readOnlyRootFilesystem === true,
      user: sc.runAsUser !== undefined ? `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}` : undefined,
      fsGroup: spec.securityContext?.fsGroup,
      readiness: probe && port !== undefined ? { kind: 'http', path: probe.path, port } : undefined,
      // Kubernetes has no ordering: Deployments restart until what they need answers. The Job creates the topics.
      dependsOn: [],
      hostNames: ownServices.map((s) => s.metadata.name),
    });
  }
  for (const w of workloads) for (const h of hostsInEnv(w.env)) hostNames.add(h);
  return { target, workloads, infrastructure, hostNames: [...hostNames], kafkaDeclared };
}

/** The argv a container runs: Docker's ENTRYPOINT/CMD rules, with the descriptor's overrides. */
export function argvOf(w: Workload, image: ImageConfig): string[] {
  // Kubernetes `command` / compose `entrypoint` replaces ENTRYPOINT and drops the image's CMD
  if (w.entrypoint) return [...w.entrypoint, ...(w.cmd ?? [])];
  return [...image.entrypoint, ...(w.cmd ?? image.cmd)];
}

// ---------------------------------------------------------------------------------------------------------- Kafka

/** A file a workload sees at `path`, read from what it mounts (a bound host file or folder, a projected volume). */
export function readMountedFile(w: Workload, path: string): Buffer {
  for (const f of w.files) {
    const inside = path.startsWith(`${f.target}/`) ? path.slice(f.target.length + 1) : undefined;
    if (f.entries) {
      const entry = inside === undefined ? undefined : f.entries[inside];
      if (entry) return entry;
    } else if (f.hostPath && (path === f.target || inside !== undefined)) {
      return readFileSync(inside === undefined ? f.hostPath : join(f.hostPath, inside));
    }
  }
  throw new Error(`${w.name}: ${path} is in none of the files it mounts`);
}

/** How the descriptor's workloads connect to Kafka, which the boot's broker must then offer. */
export interface KafkaPlan {
  /** The client listener: the port of KAFKA_BROKERS, SASL_SSL where the clients use TLS, else SASL_PLAINTEXT. */
  port: number;
  protocol: 'SASL_PLAINTEXT' | 'SASL_SSL';
  mechanism: 'SCRAM-SHA-512';
  /** Host names in KAFKA_BROKERS (the broker's certificate must carry them). */
  hosts: string[];
  /** SCRAM user -> password, as the workloads read them from the secrets they mount. */
  users: Record<string, string>;
  /** Workload -> the principal it connects as. */
  principals: Record<string, string>;
}

/**
 * The Kafka the workloads of a rendered descriptor expect, from their own settings: KAFKA_BROKERS, KAFKA_SSL /
 * KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password in the file KAFKA_SASL_PASSWORD_FILE
 * names (read from what the workload mounts). Throws, naming every workload, when one would connect without SASL,
 * the workloads disagree on the listener, two give one user different passwords, or the descriptor's own broker
 * declares another listener than its clients use.
 */
export function kafkaPlanOf(rendered: RenderedTarget): KafkaPlan {
  const problems: string[] = [];
  const listeners = new Map<string, string[]>();
  const users: Record<string, string> = {};
  const principals: Record<string, string> = {};
  const hosts = new Set<string>();
  for (const w of rendered.workloads) {
    const env = w.env;
    const brokers = (env['KAFKA_BROKERS'] ?? '').split(',').map((b) => b.trim()).filter(Boolean);
    if (brokers.length === 0) {
      problems.push(`${w.name}: no KAFKA_BROKERS`);
      continue;
    }
    if (env['KAFKA_SASL_MECHANISM'] !== 'scram-sha-512') {
      problems.push(`${w.name}: connects to Kafka without SASL/SCRAM-SHA-512 (KAFKA_SASL_MECHANISM=${env['KAFKA_SASL_MECHANISM'] ?? 'unset'})`);
      continue;
    }
    const username = env['KAFKA_SASL_USERNAME'];
    let password = env['KAFKA_SASL_PASSWORD'];
    try {
      // trimmed as the services read it (readSecret)
      if (password === undefined && env['KAFKA_SASL_PASSWORD_FILE']) password = readMountedFile(w, env['KAFKA_SASL_PASSWORD_FILE']).toString('utf8').trim();
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
      continue;
    }
    if (!username || !password) {
      problems.push(`${w.name}: KAFKA_SASL_USERNAME and a password (KAFKA_SASL_PASSWORD_FILE) are required`);
      continue;
    }
    if (users[username] !== undefined && users[username] !== password) problems.push(`${w.name}: ${username} has another password than in ${Object.keys(principals).filter((n) => principals[n] === username).join(', ')}`);
    users[username] = password;
    principals[w.name] = username;
    const tls = env['KAFKA_SSL'] === 'true' || env['KAFKA_SSL_CA_FILE'] !== undefined;
    for (const b of brokers) {
      const port = /:(\d+)$/.exec(b)?.[1];
      hosts.add(b.replace(/:\d+$/, ''));
      const key = `${tls ? 'SASL_SSL' : 'SASL_PLAINTEXT'}:${port ?? '?'}`;
      listeners.set(key, [...(listeners.get(key) ?? []), w.name]);
    }
  }
  if (listeners.size > 1) problems.push(`the workloads expect different Kafka listeners: ${[...listeners].map(([k, names]) => `${k} (${[...new Set(names)].join(', ')})`).join('; ')}`);
  const [listener] = [...listeners.keys()];
  const [protocol, port] = (listener ?? 'SASL_PLAINTEXT:0').split(':') as ['SASL_PLAINTEXT' | 'SASL_SSL', string];
  const declared = rendered.kafkaDeclared;
  if (declared && (declared.port !== Number(port) || declared.protocol !== protocol || declared.mechanism !== 'SCRAM-SHA-512')) {
    problems.push(`${declared.where} listens with ${declared.protocol} ${declared.mechanism} on ${declared.port}, its clients expect ${protocol} SCRAM-SHA-512 on ${port}`);
  }
  if (problems.length > 0) throw new Error(`${rendered.target}: ${problems.join('; ')}`);
  return { port: Number(port), protocol, mechanism: 'SCRAM-SHA-512', hosts: [...hosts], users, principals };
}
