// A small Kustomize renderer for the offline checks: exactly the features deploy/k8s uses, with kustomize's
// semantics, and an error for anything else (so a manifest change that needs more fails here instead of rendering
// differently from `kubectl apply -k`). Where kubectl is installed, deploy/k8s.spec.ts also compares the output
// with `kubectl kustomize`.
//
// Supported kustomization fields: resources (files and directories), namespace, labels (metadata only),
// images (newName, newTag, digest), patches (RFC 6902 JSON patches, inline or from a file, with a target).
// Transformers run in kustomize's order: patches, namespace, labels, images.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { applyPatch, Operation } from 'fast-json-patch';
import { parse, parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { target?: PatchTarget; patch?: string; path?: string; options?: unknown }[];
}

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'patches']);
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** Kinds without a namespace (the namespace transformer leaves them alone). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]);

/** Kinds whose namespace also appears inside the object (subjects): kustomize rewrites those; we do not. */
const UNSUPPORTED_KINDS = new Set(['RoleBinding', 'ClusterRoleBinding']);

export class KustomizeError extends Error {
  override readonly name = 'KustomizeError';
}

export function objectId(o: K8sObject): string {
  return `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** Renders the kustomization in `dir` (a directory containing kustomization.yaml) to its list of objects. */
export function renderKustomization(dir: string): K8sObject[] {
  const root = resolve(dir);
  const file = KUSTOMIZATION_FILES.map((f) => join(root, f)).find((f) => existsSync(f));
  if (!file) throw new KustomizeError(`${root}: no kustomization.yaml`);
  const k = parse(readFileSync(file, 'utf8')) as Kustomization;
  const where = relative(process.cwd(), file) || file;
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization') throw new KustomizeError(`${where}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  for (const field of Object.keys(k)) if (!SUPPORTED_FIELDS.has(field)) throw new KustomizeError(`${where}: field ${field} is not supported by this renderer`);

  let objects: K8sObject[] = [];
  for (const entry of k.resources ?? []) objects.push(...loadResource(root, entry, where));
  assertUnique(objects, where);

  for (const patch of k.patches ?? []) objects = applyPatchEntry(root, objects, patch, where);
  if (k.namespace) objects = objects.map((o) => setNamespace(o, k.namespace as string));
  for (const label of k.labels ?? []) {
    if (label.includeSelectors || label.includeTemplates) throw new KustomizeError(`${where}: labels with includeSelectors/includeTemplates are not supported`);
    objects = objects.map((o) => ({ ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...label.pairs } } }));
  }
  for (const image of k.images ?? []) objects = objects.map((o) => setImages(o, image));
  assertUnique(objects, where);
  return objects;
}

function loadResource(root: string, entry: string, where: string): K8sObject[] {
  const path = resolve(root, entry);
  if (!existsSync(path)) throw new KustomizeError(`${where}: resource ${entry} does not exist`);
  if (statSync(path).isDirectory()) return renderKustomization(path);
  // kustomize's default load restrictor: resource files must be inside the kustomization's directory
  if (!path.startsWith(root + sep)) throw new KustomizeError(`${where}: resource file ${entry} is outside the kustomization root`);
  return parseYamlObjects(path);
}

export function parseYamlObjects(file: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const objects: K8sObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new KustomizeError(`${file}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value === null || value === undefined) continue;
    if (!value.apiVersion || !value.kind || !value.metadata?.name) throw new KustomizeError(`${file}: every object needs apiVersion, kind and metadata.name`);
    if (UNSUPPORTED_KINDS.has(value.kind)) throw new KustomizeError(`${file}: ${value.kind} is not supported by this renderer`);
    objects.push(value);
  }
  return objects;
}

function assertUnique(objects: K8sObject[], where: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = objectId(o);
    if (seen.has(id)) throw new KustomizeError(`${where}: ${id} is defined twice`);
    seen.add(id);
  }
}

/** kustomize matches target fields as anchored regular expressions. */
function matches(pattern: string | undefined, value: string | undefined): boolean {
  return pattern === undefined || new RegExp(`^(?:${pattern})$`).test(value ?? '');
}

function groupVersion(apiVersion: string): { group: string; version: string } {
  const [a, b] = apiVersion.split('/');
  return b === undefined ? { group: '', version: a ?? '' } : { group: a ?? '', version: b };
}

export function selects(target: PatchTarget, o: K8sObject): boolean {
  const { group, version } = groupVersion(o.apiVersion);
  return matches(target.group, group) && matches(target.version, version) && matches(target.kind, o.kind) && matches(target.name, o.metadata.name) && matches(target.namespace, o.metadata.namespace);
}

function applyPatchEntry(root: string, objects: K8sObject[], entry: NonNullable<Kustomization['patches']>[number], where: string): K8sObject[] {
  if (entry.options !== undefined) throw new KustomizeError(`${where}: patch options are not supported`);
  if (!entry.target) throw new KustomizeError(`${where}: a patch needs a target (strategic merge patches are not supported)`);
  if ((entry.patch === undefined) === (entry.path === undefined)) throw new KustomizeError(`${where}: a patch needs exactly one of patch or path`);
  let text = entry.patch;
  if (entry.path !== undefined) {
    const file = resolve(root, entry.path);
    if (!file.startsWith(root + sep)) throw new KustomizeError(`${where}: patch file ${entry.path} is outside the kustomization root`);
    text = readFileSync(file, 'utf8');
  }
  const ops = parse(text ?? '') as unknown;
  if (!Array.isArray(ops)) throw new KustomizeError(`${where}: only JSON 6902 patches (a list of operations) are supported`);
  const target = entry.target;
  let hits = 0;
  const result = objects.map((o) => {
    if (!selects(target, o)) return o;
    hits++;
    try {
      // validate: true rejects unknown ops and paths that do not exist (replace/remove/test), as kustomize does
      return applyPatch(structuredClone(o), ops as Operation[], true, false).newDocument;
    } catch (err) {
      throw new KustomizeError(`${where}: patch on ${objectId(o)} failed: ${(err as Error).message}`);
    }
  });
  if (hits === 0) throw new KustomizeError(`${where}: patch target ${JSON.stringify(target)} selects nothing`);
  return result;
}

function setNamespace(o: K8sObject, namespace: string): K8sObject {
  // kustomize renames a Namespace object to the namespace it sets
  if (o.kind === 'Namespace') return { ...o, metadata: { ...o.metadata, name: namespace } };
  if (CLUSTER_SCOPED.has(o.kind)) return o;
  return { ...o, metadata: { ...o.metadata, namespace } };
}

/** Splits an image reference into its name and its tag/digest suffix (":tag", "@sha256:..."). */
export function splitImage(ref: string): { name: string; suffix: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), suffix: ref.slice(at) };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { name: ref.slice(0, colon), suffix: ref.slice(colon) };
  return { name: ref, suffix: '' };
}

function setImages(o: K8sObject, image: NonNullable<Kustomization['images']>[number]): K8sObject {
  const copy = structuredClone(o);
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if ((key === 'containers' || key === 'initContainers') && Array.isArray(value)) {
        for (const container of value as { image?: string }[]) {
          if (typeof container.image !== 'string') continue;
          const { name, suffix } = splitImage(container.image);
          if (name !== image.name) continue;
          const tag = image.digest ? `@${image.digest}` : image.newTag ? `:${image.newTag}` : suffix;
          container.image = `${image.newName ?? name}${tag}`;
        }
      } else {
        visit(value);
      }
    }
  };
  visit(copy);
  return copy;
}

/** The directories under `overlaysDir` that hold a kustomization. */
export function overlayDirs(overlaysDir: string): string[] {
  return readdirSync(overlaysDir)
    .map((d) => join(overlaysDir, d))
    .filter((d) => KUSTOMIZATION_FILES.some((f) => existsSync(join(d, f))))
    .sort();
}
