// deploy/k8s rendered offline, every overlay: each object validated against the Kubernetes (kubernetes-models) and
// KEDA schemas, then checked against the apps themselves: env variable names and values (the app's own config
// loader runs on them), ports, probe paths (the HealthController's routes), consumer group ids and topics (the
// groups each main.ts joins, from libs/contracts), partitions, and what each network policy lets through.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { ConfigError } from '@payrail/config';
import type { ServiceName } from '@payrail/contracts';
import { K8sObject, objectId, overlayDirs, renderKustomization } from './kustomize';
import {
  HEALTH_ROUTES,
  JWKS_ROUTE,
  SERVICE_NAMES,
  consumedTopics,
  keyFileVariables,
  knownVariables,
  loadConfigFrom,
  oneOfRequired,
  openPayrailKeysFrom,
  repoRoot,
  requiredVariables,
  schemaDefault,
  secretVariables,
} from './service-facts';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

// --- the shapes the checks read (the schemas above validate the rest) ---------------------------------------------
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; privileged?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
}
interface Probe { httpGet?: { path: string; port: string | number } }
interface PodSpec {
  containers: Container[];
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  volumes?: { name: string; emptyDir?: object; secret?: { secretName: string }; configMap?: { name: string } }[];
}
interface Workload extends K8sObject { spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } }
interface LabelSelector { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }
interface PolicyPeer { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: object }
interface PolicyRule { to?: PolicyPeer[]; from?: PolicyPeer[]; ports?: { protocol?: string; port?: number | string }[] }
interface Policy extends K8sObject { spec: { podSelector: LabelSelector; policyTypes?: string[]; egress?: PolicyRule[]; ingress?: PolicyRule[] } }
interface Trigger { type: string; metadata: Record<string, string> }

const NAME = 'app.kubernetes.io/name';
const overlays = overlayDirs(join(repoRoot, 'deploy', 'k8s', 'overlays'));

function kubectlAvailable(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    if (e.operator === 'In') return (e.values ?? []).includes(labels[e.key] ?? '\u0000');
    throw new Error(`selector operator ${e.operator} not evaluated by this test`);
  });
  return byLabels && byExpressions;
}

/** A peer as a word: the app it selects (kafka, redis, signing, ...), kube-dns, a namespace, or * for anyone. */
function peerWord(peer: PolicyPeer | undefined): string {
  if (!peer) return '*';
  if (peer.ipBlock) return 'ipBlock';
  const apps = peer.podSelector?.matchLabels?.[NAME] ?? peer.podSelector?.matchLabels?.['k8s-app'] ?? peer.podSelector?.matchExpressions?.find((e) => e.key === NAME)?.values?.join('|');
  if (apps) return apps;
  const ns = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
  return ns ? `ns:${ns}` : '*';
}

/** What the policies let a pod with these labels send (egress) or receive (ingress): "peer:port/protocol". */
function allowed(policies: Policy[], labels: Record<string, string>, direction: 'egress' | 'ingress'): string[] {
  const out = new Set<string>();
  for (const p of policies.filter((pol) => selectorMatches(pol.spec.podSelector, labels))) {
    for (const rule of p.spec[direction] ?? []) {
      const peers = (direction === 'egress' ? rule.to : rule.from) ?? [undefined];
      for (const peer of peers.length > 0 ? peers : [undefined]) for (const port of rule.ports ?? [{}]) out.add(`${peerWord(peer)}:${port.port ?? '*'}/${port.protocol ?? 'TCP'}`);
    }
  }
  return [...out].sort();
}

describe.each(overlays.map((dir) => [dir.split('/').pop() as string, dir]))('deploy/k8s/overlays/%s', (overlay, dir) => {
  const objects = renderKustomization(dir);
  const find = <T extends K8sObject>(kind: string, name: string): T => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`${overlay}: no ${kind} ${name}`);
    return o as T;
  };
  const ofKind = <T extends K8sObject>(kind: string): T[] => objects.filter((o) => o.kind === kind) as T[];
  const configData = (name: string): Record<string, string> => (find<K8sObject & { data?: Record<string, string> }>('ConfigMap', name).data ?? {});
  const policies = ofKind<Policy>('NetworkPolicy');
  const deployment = (s: ServiceName) => find<Workload>('Deployment', `payrail-${s}`);
  const container = (s: ServiceName): Container => {
    const c = deployment(s).spec.template.spec.containers.find((x) => x.name === s);
    if (!c) throw new Error(`payrail-${s} has no container ${s}`);
    return c;
  };

  /** The environment the container gets, as values (Secrets not in the overlay get a stand-in). */
  const environment = (c: Container): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) Object.assign(env, configData(from.configMapRef.name));
      if (from.secretRef) throw new Error('envFrom secretRef: secrets come as files or single keys');
    }
    for (const v of c.env ?? []) {
      if (v.value !== undefined) env[v.name] = v.value;
      else if (v.valueFrom?.configMapKeyRef) env[v.name] = configData(v.valueFrom.configMapKeyRef.name)[v.valueFrom.configMapKeyRef.key] ?? '';
      else if (v.valueFrom?.secretKeyRef) {
        const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === v.valueFrom?.secretKeyRef?.name) as (K8sObject & { stringData?: Record<string, string> }) | undefined;
        env[v.name] = secret?.stringData?.[v.valueFrom.secretKeyRef.key] ?? (v.name === 'REDIS_URL' ? 'redis://redis.invalid:6379' : 'stand-in');
      }
    }
    return env;
  };

  it('renders exactly what kubectl kustomize renders (where kubectl is installed: it is on this project\'s machines)', () => {
    if (!kubectlAvailable()) {
      console.warn('kubectl not on PATH: cross-check with kubectl kustomize not run');
      return expect(objects.length).toBeGreaterThan(0);
    }
    const res = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    const theirs = parseAllDocuments(res.stdout).map((d) => d.toJS() as K8sObject);
    const key = (list: K8sObject[]) => Object.fromEntries(list.map((o) => [objectId(o), sortKeys(o)]));
    expect(key(objects)).toEqual(key(theirs));
  });

  it('every object is valid against the Kubernetes / KEDA schema of its kind', () => {
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect({ id: objectId(o), known: Model !== undefined }).toEqual({ id: objectId(o), known: true });
      expect(() => new (Model as new (data: unknown) => { validate(): void })(o).validate()).not.toThrow();
    }
  });

  it('puts every Payrail object in the overlay namespace, which it declares', () => {
    const ns = ofKind('Namespace');
    expect(ns).toHaveLength(1);
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace).toBe(ns[0]?.metadata.name);
  });

  describe.each(SERVICE_NAMES)('%s', (s: ServiceName) => {
    it('runs hardened: non-root, seccomp RuntimeDefault, read-only root filesystem, no capabilities, no service account token', () => {
      const pod = deployment(s).spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(container(s).securityContext).toEqual({ allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      const tmp = container(s).volumeMounts?.find((m) => m.mountPath === '/tmp');
      expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    });

    it("sets only variables its config schema reads, every required one, and the app's own loader accepts them", () => {
      const env = environment(container(s));
      const names = Object.keys(env);
      const known = knownVariables(s);
      expect(names.filter((v) => !known.has(v))).toEqual([]);
      expect(requiredVariables(s).filter((v) => !names.includes(v))).toEqual([]);
      for (const group of oneOfRequired(s)) expect(group.filter((v) => names.includes(v))).toHaveLength(1);
      for (const secret of secretVariables(s)) expect(names).not.toContain(secret);
      expect(() => loadConfigFrom(s, env)).not.toThrow();
    });

    it('listens on HTTP_PORT as its port "http" (ingest: OPS_PORT as "ops" too), probed on the health routes of the port that serves them', () => {
      const c = container(s);
      const env = environment(c);
      const port = Number(env['HTTP_PORT'] ?? schemaDefault(s, 'HTTP_PORT'));
      // ingest's public port serves no metrics: its probes and scrapes go to the operations listener
      const ops = s === 'ingest' ? Number(env['OPS_PORT'] ?? schemaDefault(s, 'OPS_PORT')) : undefined;
      expect(c.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }, ...(ops ? [{ name: 'ops', containerPort: ops, protocol: 'TCP' }] : [])]);
      if (ops) expect(env['OPS_HOST']).toBe('0.0.0.0'); // reachable on the pod IP by the kubelet and Prometheus
      const probed = ops ? 'ops' : 'http';
      expect(c.startupProbe?.httpGet).toEqual({ path: HEALTH_ROUTES.live, port: probed });
      expect(c.livenessProbe?.httpGet).toEqual({ path: HEALTH_ROUTES.live, port: probed });
      expect(c.readinessProbe?.httpGet).toEqual({ path: HEALTH_ROUTES.ready, port: probed });
    });

    it('requests CPU and memory and caps memory', () => {
      const r = container(s).resources;
      expect(r?.requests?.['cpu']).toMatch(/^\d+m?$/);
      expect(r?.requests?.['memory']).toMatch(/^\d+(Mi|Gi)$/);
      expect(r?.limits?.['memory']).toMatch(/^\d+(Mi|Gi)$/);
    });

    it('reads its keys from Secrets mounted read-only as whole volumes (so rotated keys reach the pod)', () => {
      const c = container(s);
      const pod = deployment(s).spec.template.spec;
      const env = environment(c);
      for (const variable of keyFileVariables(s).filter((v) => env[v] !== undefined)) {
        const path = env[variable] as string;
        const mount = c.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
        expect({ variable, mounted: mount !== undefined, readOnly: mount?.readOnly, subPath: mount?.subPath }).toEqual({ variable, mounted: true, readOnly: true, subPath: undefined });
        expect(pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName).toMatch(/^payrail-/);
      }
      // directories the app re-reads (upstream registrations) come from a ConfigMap volume
      if (env['UPSTREAMS_DIR']) {
        const mount = c.volumeMounts?.find((m) => m.mountPath === env['UPSTREAMS_DIR']);
        expect(pod.volumes?.find((v) => v.name === mount?.name)?.configMap?.name).toBe('payrail-upstreams');
      }
    });

    it('gets longer to stop than the app takes to drain (terminationGracePeriodSeconds > SHUTDOWN_TIMEOUT_S)', () => {
      const shutdown = Number(environment(container(s))['SHUTDOWN_TIMEOUT_S'] ?? schemaDefault(s, 'SHUTDOWN_TIMEOUT_S'));
      expect(deployment(s).spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(shutdown);
    });

    it('has a Service on its HTTP port and a PodDisruptionBudget, both selecting its pods', () => {
      const podLabels = deployment(s).spec.template.metadata.labels;
      expect(selectorMatches(deployment(s).spec.selector, podLabels)).toBe(true);
      const svc = find<K8sObject & { spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] } }>('Service', `payrail-${s}`);
      expect(selectorMatches({ matchLabels: svc.spec.selector }, podLabels)).toBe(true);
      expect(svc.spec.ports.map((p) => [p.name, p.targetPort])).toEqual([['http', 'http']]);
      const pdb = find<K8sObject & { spec: { selector: LabelSelector; maxUnavailable?: number } }>('PodDisruptionBudget', `payrail-${s}`);
      expect(selectorMatches(pdb.spec.selector, podLabels)).toBe(true);
      expect(pdb.spec.maxUnavailable).toBe(1);
    });

    it('is scaled by exactly one autoscaler, which owns the replica count', () => {
      expect(deployment(s).spec.replicas).toBeUndefined();
      const scalers = [
        ...ofKind<K8sObject & { spec: { scaleTargetRef: { name: string } } }>('ScaledObject'),
        ...ofKind<K8sObject & { spec: { scaleTargetRef: { name: string } } }>('HorizontalPodAutoscaler'),
      ].filter((o) => o.spec.scaleTargetRef.name === `payrail-${s}`);
      expect(scalers.map((o) => o.kind)).toEqual([s === 'ingest' ? 'HorizontalPodAutoscaler' : 'ScaledObject']);
    });

    it('may reach exactly what it needs: DNS, Kafka, Redis if its config has one, signing\'s JWKS if it verifies', () => {
      const labels = deployment(s).spec.template.metadata.labels;
      const keys = knownVariables(s);
      const signingPort = Number(environment(container('signing'))['HTTP_PORT']);
      const expected = ['kube-dns:53/TCP', 'kube-dns:53/UDP', 'kafka:9092/TCP'];
      if (keys.has('REDIS_URL')) expected.push('redis:6379/TCP');
      if (keys.has('SIGNING_JWKS_URL')) expected.push(`signing:${signingPort}/TCP`);
      expect(allowed(policies, labels, 'egress')).toEqual(expected.sort());
      // and a default deny covers it both ways
      const deny = policies.filter((p) => selectorMatches(p.spec.podSelector, labels) && !p.spec.egress && !p.spec.ingress);
      expect(deny.flatMap((p) => p.spec.policyTypes ?? []).sort()).toEqual(['Egress', 'Ingress']);
    });
  });

  it('lets anyone reach ingest\'s HTTP port, only ingest, fraud-check and settlement reach signing (its JWKS), and monitoring scrape all', () => {
    const port = (s: ServiceName) => Number(environment(container(s))['HTTP_PORT']);
    const ingress = (s: ServiceName) => allowed(policies, deployment(s).spec.template.metadata.labels, 'ingress');
    // the monitoring rule names both ports; `ops` only exists on ingest's pods (the only ones it opens there)
    const monitoring = ['ns:monitoring:http/TCP', 'ns:monitoring:ops/TCP'];
    expect(ingress('ingest')).toEqual([`*:${port('ingest')}/TCP`, ...monitoring]);
    expect(ingress('signing')).toEqual([`ingest|fraud-check|settlement:${port('signing')}/TCP`, ...monitoring]);
    expect(ingress('fraud-check')).toEqual(monitoring);
    expect(ingress('settlement')).toEqual(monitoring);
    // and anyone reaches ingest on its public port only: not on the operations listener
    expect(ingress('ingest').filter((rule) => rule.startsWith('*:'))).toEqual([`*:${port('ingest')}/TCP`]);
  });

  it("points SIGNING_JWKS_URL at signing's Service, port and real JWKS route, over plain http by the explicit opt-in", () => {
    const svc = find<K8sObject & { spec: { ports: { port: number }[] } }>('Service', 'payrail-signing');
    for (const s of SERVICE_NAMES.filter((x) => knownVariables(x).has('SIGNING_JWKS_URL'))) {
      expect(environment(container(s))['SIGNING_JWKS_URL']).toBe(`http://payrail-signing:${svc.spec.ports[0]?.port}${JWKS_ROUTE}`);
      expect(environment(container(s))['SIGNING_JWKS_ALLOW_HTTP']).toBe('true');
    }
  });

  it('builds the JWKS client each verifier uses from the rendered environment, as at boot (no request made); the opt-in is what makes it start', async () => {
    const verifiers = SERVICE_NAMES.filter((x) => knownVariables(x).has('SIGNING_JWKS_URL'));
    expect(verifiers).toEqual(['ingest', 'fraud-check', 'settlement']);
    for (const s of verifiers) {
      const env = environment(container(s));
      const source = await openPayrailKeysFrom(s, env);
      expect({ s, source }).toEqual({ s, source: { url: env['SIGNING_JWKS_URL'], allowInsecureClusterHttp: true } });
      // without the opt-in (the original bug) the service stops at start (exit 78) naming SIGNING_JWKS_URL
      const { SIGNING_JWKS_ALLOW_HTTP: _optIn, ...withoutOptIn } = env;
      await expect(openPayrailKeysFrom(s, withoutOptIn)).rejects.toThrow(ConfigError);
      await expect(openPayrailKeysFrom(s, withoutOptIn)).rejects.toMatchObject({ problems: [{ variable: 'SIGNING_JWKS_URL' }] });
    }
  });

  it('scales each consumer service with KEDA on the lag of the groups its main.ts joins, up to the partition count', () => {
    const brokers = configData('payrail-common')['KAFKA_BROKERS'];
    for (const s of SERVICE_NAMES.filter((x) => x !== 'ingest')) {
      const so = find<K8sObject & { spec: { maxReplicaCount: number; minReplicaCount: number; triggers: Trigger[] } }>('ScaledObject', `payrail-${s}`);
      const consumed = consumedTopics(s);
      expect(consumed.length).toBeGreaterThan(0);
      expect(so.spec.triggers.map((t) => [t.type, t.metadata['consumerGroup'], t.metadata['topic']])).toEqual(consumed.map((c) => ['kafka', c.groupId, c.topic]));
      for (const t of so.spec.triggers) {
        expect(t.metadata['bootstrapServers']).toBe(brokers);
        expect(t.metadata['allowIdleConsumers']).toBe('false');
        expect(t.metadata['offsetResetPolicy']).toBe('earliest');
      }
      expect(so.spec.maxReplicaCount).toBe(Math.max(...consumed.map((c) => c.partitions)));
      expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    }
  });

  it("scales ingest with an HPA on CPU, never beyond its consumer groups' partitions", () => {
    const hpa = find<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } }>('HorizontalPodAutoscaler', 'payrail-ingest');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'payrail-ingest' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(1);
    expect(hpa.spec.maxReplicas).toBeLessThanOrEqual(Math.min(...consumedTopics('ingest').map((c) => c.partitions)));
  });

  it('declares the topics with a Job running payrail-cli topics ensure, hardened, on the same brokers', () => {
    const job = find<K8sObject & { spec: { template: { spec: PodSpec } } }>('Job', 'payrail-topics');
    const [c] = job.spec.template.spec.containers;
    expect(c?.image).toMatch(/(^|\/)payrail\/payrail-cli[:@]/);
    expect(c?.args?.slice(0, 4)).toEqual(['node', 'main.js', 'topics', 'ensure']);
    const replication = Number(c?.args?.[c.args.indexOf('--replication') + 1]);
    expect(replication).toBe(overlay === 'prod' ? 3 : 1);
    expect(environment(c as Container)['KAFKA_BROKERS']).toBe(configData('payrail-common')['KAFKA_BROKERS']);
    expect(c?.securityContext).toEqual({ allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(job.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(allowed(policies, { [NAME]: 'topics', 'app.kubernetes.io/part-of': 'payrail' }, 'egress')).toEqual(['kafka:9092/TCP', 'kube-dns:53/TCP', 'kube-dns:53/UDP']);
  });

  it('runs the images of this overlay: pinned release tags in prod', () => {
    for (const s of SERVICE_NAMES) {
      const image = container(s).image;
      expect(image).toMatch(new RegExp(`(^|/)payrail/${s}:[A-Za-z0-9._-]+$`));
      if (overlay === 'prod') expect(image).toMatch(/:\d+\.\d+\.\d+$/);
    }
  });
});

describe('deploy/k8s/overlays', () => {
  it('has the dev and prod overlays', () => {
    expect(overlays.map((d) => d.split('/').pop())).toEqual(['dev', 'prod']);
  });
});
