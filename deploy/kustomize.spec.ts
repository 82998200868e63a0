// The renderer behind the offline checks, on small fixtures whose expected output is what `kubectl kustomize`
// (kustomize v5) renders for them; and its refusals: anything it does not implement fails loudly.
import { join } from 'node:path';
import { KustomizeError, objectId, renderKustomization, splitImage } from './kustomize';

const fixture = (name: string) => join(__dirname, 'fixtures', 'kustomize', name);

describe('renderKustomization', () => {
  const objects = renderKustomization(fixture('overlay'));
  const byId = Object.fromEntries(objects.map((o) => [objectId(o), o]));

  it('collects resources from files and nested kustomizations, and applies the base\'s own patches (regex target)', () => {
    expect(Object.keys(byId).sort()).toEqual(['apps/v1/Deployment/team/app-a', 'apps/v1/Deployment/team/app-b', 'v1/ConfigMap/team/settings', 'v1/Namespace//team']);
    expect((byId['apps/v1/Deployment/team/app-a'] as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2);
    expect((byId['apps/v1/Deployment/team/app-b'] as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2);
  });

  it('sets the namespace on namespaced objects and renames a Namespace object to it, as kustomize does', () => {
    expect(byId['v1/Namespace//team']?.metadata).toEqual({ name: 'team', labels: { env: 'test' } });
    expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'team')).toBe(true);
  });

  it('adds labels to metadata only (not selectors or pod templates), overriding an existing value', () => {
    expect(byId['v1/ConfigMap/team/settings']?.metadata.labels).toEqual({ env: 'test' });
    const a = byId['apps/v1/Deployment/team/app-a'] as unknown as { spec: { selector: unknown; template: { metadata: unknown } } };
    expect(a.spec.selector).toEqual({ matchLabels: { app: 'a' } });
    expect(a.spec.template.metadata).toEqual({ labels: { app: 'a' } });
  });

  it('rewrites images by name: tag, new name with digest, untouched digests, containers and initContainers', () => {
    const pod = (id: string) => (byId[id] as unknown as { spec: { template: { spec: { containers: { image: string }[]; initContainers?: { image: string }[] } } } }).spec.template.spec;
    expect(pod('apps/v1/Deployment/team/app-a').containers.map((c) => c.image)).toEqual(['example/app:2.0', 'example/sidecar@sha256:abc']);
    expect(pod('apps/v1/Deployment/team/app-a').initContainers?.map((c) => c.image)).toEqual(['tools/init@sha256:def']);
    expect(pod('apps/v1/Deployment/team/app-b').containers.map((c) => c.image)).toEqual(['example/app:2.0']);
  });

  it('applies a JSON 6902 patch read from a file', () => {
    expect((byId['v1/ConfigMap/team/settings'] as { data?: Record<string, string> }).data).toEqual({ A: '2' });
  });

  it.each([
    ['bad-field', /field commonLabels is not supported/],
    ['bad-smp', /only JSON 6902 patches/],
    ['bad-target', /selects nothing/],
    ['bad-dup', /defined twice/],
    ['bad-outside', /outside the kustomization root/],
  ])('refuses %s', (name, message) => {
    expect(() => renderKustomization(fixture(name))).toThrow(KustomizeError);
    expect(() => renderKustomization(fixture(name))).toThrow(message);
  });
});

describe('splitImage', () => {
  it('separates the name from a tag or digest, also behind a registry with a port', () => {
    expect(splitImage('registry.local:5000/tools/init')).toEqual({ name: 'registry.local:5000/tools/init', suffix: '' });
    expect(splitImage('registry.local:5000/tools/init:1.2')).toEqual({ name: 'registry.local:5000/tools/init', suffix: ':1.2' });
    expect(splitImage('example/app@sha256:abc')).toEqual({ name: 'example/app', suffix: '@sha256:abc' });
  });
});
