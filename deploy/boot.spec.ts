// The pure parts of the deployment boot test and the engine-less image build: .dockerignore and variable rules,
// compose interpolation, the argv a container runs, and the Secrets made from docs/operations.md's commands.
// `npm run deploy:boot` (layer `deploy` of npm test) runs the whole thing for real.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KAFKA_ADMIN_USERNAME, kafkaUsername } from '@payrail/contracts';
import { argvOf, documentedSecrets, hostsInEnv, interpolate, kafkaPlanOf, readMountedFile, renderCompose, renderK8s, type RenderedTarget, type Workload } from './boot/workloads';
import { dockerignoreMatcher, substitute } from './sandbox/image-build';
import { repoRoot } from './service-facts';

describe('.dockerignore matching (Docker semantics)', () => {
  const ignored = dockerignoreMatcher(['# comment', 'node_modules', '**/node_modules', 'dist', '**/*.log', 'keys', '!keep.log', '.env']);
  it.each([
    ['node_modules/x/index.js', true],
    ['apps/ingest/node_modules/y.js', true],
    ['dist/apps/ingest/main.js', true],
    ['a/b/c.log', true],
    ['keep.log', false],
    ['keys/fingerprint.key', true],
    ['.env', true],
    ['apps/ingest/src/main.ts', false],
    ['distribution.md', false],
  ])('%s excluded: %s', (path, expected) => expect(ignored(path)).toBe(expected));
});

describe('Dockerfile variable substitution', () => {
  it('replaces $VAR and ${VAR} from ARG/ENV and leaves unknown ones empty', () => {
    expect(substitute('payrail-${APP} at $HOME/${NOPE}x', { APP: 'ingest', HOME: '/tmp' })).toBe('payrail-ingest at /tmp/x');
  });
});

describe('compose interpolation', () => {
  it('applies defaults and refuses a required variable that is unset, naming it', () => {
    expect(interpolate('${A:-one} ${B:-two} ${C}', { A: 'x', B: '' })).toBe('x two ');
    expect(() => interpolate('${PAYRAIL_KEYS_DIR:?set it}', {})).toThrow(/PAYRAIL_KEYS_DIR is required: set it/);
  });
});

describe('what a container runs', () => {
  const image = { env: {}, workdir: '/app', entrypoint: ['/usr/bin/tini', '--'], cmd: ['node', 'main.js'], labels: {} };
  const base: Workload = { name: 'w', runToCompletion: false, restart: { when: 'always' }, app: 'ingest', env: {}, files: [], tmpfs: [], readOnlyRoot: true, dependsOn: [], hostNames: [] };
  it("keeps the image's ENTRYPOINT and replaces CMD with the descriptor's args or compose command", () => {
    expect(argvOf(base, image)).toEqual(['/usr/bin/tini', '--', 'node', 'main.js']);
    expect(argvOf({ ...base, cmd: ['node', 'main.js', 'topics', 'ensure'] }, image)).toEqual(['/usr/bin/tini', '--', 'node', 'main.js', 'topics', 'ensure']);
  });
  it("replaces ENTRYPOINT and drops the image's CMD when the descriptor sets a command", () => {
    expect(argvOf({ ...base, entrypoint: ['node'], cmd: ['x.js'] }, image)).toEqual(['node', 'x.js']);
  });
  it('finds the host names a service connects to', () => {
    expect(hostsInEnv({ KAFKA_BROKERS: 'kafka-0.k:9092,kafka-1.k:9092', REDIS_URL: 'rediss://u:p@redis.example:6379/0', SIGNING_JWKS_URL: 'http://payrail-signing:8081/x', HTTP_PORT: '8080' })).toEqual(['kafka-0.k', 'kafka-1.k', 'redis.example', 'payrail-signing']);
  });
});

describe('the descriptors as the boot test reads them', () => {
  const keys = mkdtempSync(join(tmpdir(), 'payrail-keys-'));
  for (const dir of ['signing', 'protection', 'upstreams', 'settlement', 'inbound']) mkdirSync(join(keys, dir));
  writeFileSync(join(keys, 'signing', 'private.jwks.json'), '{"keys":[]}');
  writeFileSync(join(keys, 'inbound', 'private.jwks.json'), '{"keys":[]}');
  writeFileSync(join(keys, 'protection', 'public.jwks.json'), '{"keys":[]}');
  writeFileSync(join(keys, 'fingerprint.key'), 'fp');
  writeFileSync(join(keys, 'settlement', 'api-clients.json'), '{"clients":[]}');
  writeFileSync(join(keys, 'upstreams', 'acme.json'), '{}');
  for (const service of ['ingest', 'fraud-check', 'settlement']) {
    mkdirSync(join(keys, 'seals', service), { recursive: true });
    for (const half of ['private', 'public']) writeFileSync(join(keys, 'seals', service, `${half}.jwks.json`), `{"keys":[],"${half}":"${service}"}`);
  }
  // as dev-setup and deploy/local/kafka-tls.mjs write them (a password file ends without a newline; one with is trimmed)
  mkdirSync(join(keys, 'kafka'));
  const kafkaUsers = [KAFKA_ADMIN_USERNAME, 'payrail-ingest', 'payrail-signing', 'payrail-fraud-check', 'payrail-settlement', 'payrail-broker', 'payrail-controller'];
  for (const user of kafkaUsers) writeFileSync(join(keys, 'kafka', `${user}.password`), `password-of-${user}${user === 'payrail-ingest' ? '\n' : ''}`);
  for (const file of ['ca.crt', 'broker.crt', 'broker.key']) writeFileSync(join(keys, 'kafka', file), `${file} content`);
  const secrets = documentedSecrets(join(repoRoot, 'docs', 'operations.md'), keys, { 'payrail-redis/url': 'redis://redis:6379/0' });

  it('docs/operations.md creates every Secret and ConfigMap the base manifests mount or reference', () => {
    expect(secrets.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/payrail-upstreams',
      'Secret/payrail-admin',
      'Secret/payrail-fraud-check',
      'Secret/payrail-fraud-check-keys',
      'Secret/payrail-ingest',
      'Secret/payrail-ingest-keys',
      'Secret/payrail-kafka-broker',
      'Secret/payrail-kafka-ca',
      'Secret/payrail-kafka-tls',
      'Secret/payrail-redis',
      'Secret/payrail-settlement',
      'Secret/payrail-settlement-keys',
      'Secret/payrail-signing',
      'Secret/payrail-signing-keys',
    ]);
    for (const target of ['k8s-dev', 'k8s-prod']) {
      const rendered = renderK8s(join(repoRoot, 'deploy', 'k8s', 'overlays', target === 'k8s-dev' ? 'dev' : 'prod'), target, secrets);
      expect(rendered.workloads.map((w) => w.app).sort()).toEqual(['fraud-check', 'ingest', 'payrail-cli', 'settlement', 'signing']);
      const signing = rendered.workloads.find((w) => w.app === 'signing');
      expect(signing?.files.find((f) => f.target === '/var/run/secrets/payrail/signing')?.entries?.['private.jwks.json']?.toString()).toBe('{"keys":[]}');
      expect(signing?.readiness).toEqual({ kind: 'http', path: '/health/ready', port: 8081 });
      // event seals: each producer mounts its own private sealing key, each consumer its producer's public one
      const mounted = (app: string, dir: string, file: string) => rendered.workloads.find((w) => w.app === app)?.files.find((f) => f.target === dir)?.entries?.[file]?.toString();
      expect(mounted('signing', '/var/run/secrets/payrail/signing', 'ingest-seal.public.jwks.json')).toBe('{"keys":[],"public":"ingest"}');
      expect(mounted('signing', '/var/run/secrets/payrail/signing', 'settlement-seal.public.jwks.json')).toBe('{"keys":[],"public":"settlement"}');
      expect(mounted('ingest', '/var/run/secrets/payrail/ingest', 'seal.private.jwks.json')).toBe('{"keys":[],"private":"ingest"}');
      expect(mounted('fraud-check', '/var/run/secrets/payrail/fraud-check', 'seal.private.jwks.json')).toBe('{"keys":[],"private":"fraud-check"}');
      expect(mounted('settlement', '/var/run/secrets/payrail/settlement', 'seal.private.jwks.json')).toBe('{"keys":[],"private":"settlement"}');
      expect(mounted('settlement', '/var/run/secrets/payrail/settlement', 'fraud-check-seal.public.jwks.json')).toBe('{"keys":[],"public":"fraud-check"}');
    }
  });

  it('prod resolves the Kafka bootstrap name of the overlay and the Redis of the documented Secret', () => {
    const rendered = renderK8s(join(repoRoot, 'deploy', 'k8s', 'overlays', 'prod'), 'k8s-prod', secrets);
    expect(rendered.hostNames).toEqual(expect.arrayContaining(['payrail-kafka-kafka-bootstrap.kafka.svc', 'redis', 'payrail-signing']));
  });

  const kafkaTargets: [string, () => RenderedTarget, { port: number; protocol: string }][] = [
    ['compose', () => renderCompose(join(repoRoot, 'docker-compose.yml'), { PAYRAIL_KEYS_DIR: keys }), { port: 9092, protocol: 'SASL_PLAINTEXT' }],
    ['k8s-dev', () => renderK8s(join(repoRoot, 'deploy', 'k8s', 'overlays', 'dev'), 'k8s-dev', secrets), { port: 9092, protocol: 'SASL_SSL' }],
    ['k8s-prod', () => renderK8s(join(repoRoot, 'deploy', 'k8s', 'overlays', 'prod'), 'k8s-prod', secrets), { port: 9093, protocol: 'SASL_SSL' }],
  ];

  it.each(kafkaTargets)('%s: the broker the boot starts offers what the clients use, with each workload\'s own principal and the password of the secret it mounts', (_target, render, listener) => {
    const rendered = render();
    const plan = kafkaPlanOf(rendered);
    expect({ port: plan.port, protocol: plan.protocol, mechanism: plan.mechanism }).toEqual({ ...listener, mechanism: 'SCRAM-SHA-512' });
    const principal = (w: Workload) => (w.app === 'payrail-cli' ? KAFKA_ADMIN_USERNAME : kafkaUsername(w.app as 'ingest'));
    expect(plan.principals).toEqual(Object.fromEntries(rendered.workloads.map((w) => [w.name, principal(w)])));
    expect(plan.users).toEqual(Object.fromEntries(rendered.workloads.map((w) => [principal(w), `password-of-${principal(w)}`])));
    if (rendered.target !== 'compose') {
      // the CA each workload trusts is the documented payrail-kafka-ca, made from keys/kafka/ca.crt
      for (const w of rendered.workloads) expect(readMountedFile(w, w.env['KAFKA_SSL_CA_FILE'] ?? '').toString()).toBe('ca.crt content');
    }
  });

  it('refuses a descriptor with a workload that would connect without SASL, or a broker that declares another listener than its clients use', () => {
    const rendered = kafkaTargets[0]?.[1]() as RenderedTarget;
    const plain = { ...rendered, workloads: rendered.workloads.map((w) => (w.name === 'settlement' ? { ...w, env: { ...w.env, KAFKA_SASL_MECHANISM: '' } } : w)) };
    expect(() => kafkaPlanOf(plain)).toThrow(/settlement: connects to Kafka without SASL/);
    const declaredTls = { ...rendered, kafkaDeclared: { ...(rendered.kafkaDeclared as NonNullable<RenderedTarget['kafkaDeclared']>), protocol: 'SASL_SSL' } };
    expect(() => kafkaPlanOf(declaredTls)).toThrow(/listens with SASL_SSL SCRAM-SHA-512 on 9092, its clients expect SASL_PLAINTEXT SCRAM-SHA-512 on 9092/);
    const twoPasswords = { ...rendered, workloads: rendered.workloads.map((w) => (w.name === 'signing' ? { ...w, env: { ...w.env, KAFKA_SASL_USERNAME: 'payrail-ingest' } } : w)) };
    expect(() => kafkaPlanOf(twoPasswords)).toThrow(/payrail-ingest has another password/);
  });

  it('compose: services with their secrets as files under /run/secrets, the topics job first', () => {
    const rendered = renderCompose(join(repoRoot, 'docker-compose.yml'), { PAYRAIL_KEYS_DIR: keys });
    expect(rendered.infrastructure).toEqual(['kafka', 'redis']);
    expect(rendered.kafkaDeclared).toEqual({ where: 'docker-compose.yml services.kafka', port: 9092, protocol: 'SASL_PLAINTEXT', mechanism: 'SCRAM-SHA-512' });
    const signing = rendered.workloads.find((w) => w.name === 'signing');
    expect(signing?.files).toEqual([
      { target: '/run/secrets/signing_private_jwks', hostPath: join(keys, 'signing', 'private.jwks.json'), readOnly: true },
      { target: '/run/secrets/ingest_seal_public_jwks', hostPath: join(keys, 'seals', 'ingest', 'public.jwks.json'), readOnly: true },
      { target: '/run/secrets/settlement_seal_public_jwks', hostPath: join(keys, 'seals', 'settlement', 'public.jwks.json'), readOnly: true },
      { target: '/run/secrets/kafka-payrail-signing', hostPath: join(keys, 'kafka', 'payrail-signing.password'), readOnly: true },
    ]);
    expect(signing?.dependsOn).toEqual(['topics']);
    expect(rendered.workloads.find((w) => w.name === 'topics')?.runToCompletion).toBe(true);
    // restart: "no": a failed topics job is not retried (compose up fails), the services restart unless stopped
    expect(rendered.workloads.find((w) => w.name === 'topics')?.restart).toEqual({ when: 'never' });
    expect(signing?.restart).toEqual({ when: 'always' });
  });
});
