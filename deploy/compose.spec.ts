// docker-compose.yml cannot run here (no Docker engine): this test keeps it true to the code and hardened instead.
// Every service sets only variables its config reads and every required one, publishes the port its HTTP_PORT
// says, gets its keys as compose secrets, runs read-only without capabilities, and starts after what it needs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KAFKA_ADMIN_USERNAME, kafkaAccessTable, kafkaUsername, type ServiceName } from '@payrail/contracts';
import { ConfigError } from '@payrail/config';
import { JWKS_ROUTE, SERVICE_NAMES, keyFileVariables, knownVariables, loadConfigFrom, oneOfRequired, openPayrailKeysFrom, repoRoot, requiredVariables, secretVariables } from './service-facts';

interface ComposeService {
  image?: string;
  entrypoint?: string[];
  build?: { context: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, unknown>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  secrets?: string[];
  volumes?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  user?: string;
}

const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService>; secrets: Record<string, { file: string }> };

function service(name: string): ComposeService {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

/** Compose's interpolation with nothing set: ${X:-default} gives the default, ${X:?err} a stand-in (compose would stop). */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}/g, (_m, _name: string, dash?: string, fallback?: string, need?: string) =>
    dash ? (fallback ?? '') : need ? '/set/by/operator' : '',
  );
}

const env = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));

describe('docker-compose.yml', () => {
  it.each(SERVICE_NAMES)('%s sets only variables its config reads, and every required one', (name: ServiceName) => {
    const vars = Object.keys(env(name));
    const known = knownVariables(name);
    expect(vars.filter((v) => !known.has(v))).toEqual([]);
    expect(requiredVariables(name).filter((v) => !vars.includes(v))).toEqual([]);
    for (const group of oneOfRequired(name)) expect(group.filter((v) => vars.includes(v)).length).toBe(1);
    // a secret variable is given as *_FILE (a compose secret), never as its value
    for (const secret of secretVariables(name)) expect(vars).not.toContain(secret);
  });

  it.each(SERVICE_NAMES)("%s: the app's own config loader accepts the environment compose gives it", (name: ServiceName) => {
    expect(() => loadConfigFrom(name, env(name))).not.toThrow();
  });

  it.each(['fraud-check', 'settlement'] as const)('%s builds the JWKS client it verifies with from what compose gives it, as at boot (no request made)', async (name) => {
    const source = await openPayrailKeysFrom(name, env(name));
    expect(source).toEqual({ url: env(name)['SIGNING_JWKS_URL'], allowInsecureClusterHttp: true });
    // the same descriptor without the opt-in is the original bug: the service stops at start (exit 78) naming the URL
    const { SIGNING_JWKS_ALLOW_HTTP: _optIn, ...withoutOptIn } = env(name);
    await expect(openPayrailKeysFrom(name, withoutOptIn)).rejects.toThrow(ConfigError);
    await expect(openPayrailKeysFrom(name, withoutOptIn)).rejects.toMatchObject({ problems: [{ variable: 'SIGNING_JWKS_URL', reason: expect.stringContaining('SIGNING_JWKS_ALLOW_HTTP=true') }] });
  });

  it.each(SERVICE_NAMES)('%s publishes its HTTP_PORT: ingest to the network (its OPS_PORT on loopback), the others on loopback only', (name: ServiceName) => {
    const port = env(name)['HTTP_PORT'];
    expect(port).toMatch(/^\d+$/);
    const ops = env(name)['OPS_PORT'];
    expect(service(name).ports).toEqual(name === 'ingest' ? [`${port}:${port}`, `127.0.0.1:${ops}:${ops}`] : [`127.0.0.1:${port}:${port}`]);
  });

  it.each(SERVICE_NAMES)('%s reads every *_FILE from a compose secret it is given, backed by a required PAYRAIL_KEYS_DIR', (name: ServiceName) => {
    const keyFiles = keyFileVariables(name);
    const fileVars = Object.entries(env(name)).filter(([k]) => keyFiles.includes(k));
    for (const [variable, path] of fileVars) {
      const secret = /^\/run\/secrets\/([a-z_-]+)$/.exec(path)?.[1];
      expect({ variable, secret }).toEqual({ variable, secret: expect.any(String) });
      expect(service(name).secrets).toContain(secret);
      expect(compose.secrets[secret as string]?.file).toMatch(/^\$\{PAYRAIL_KEYS_DIR:\?[^}]*\}\//);
    }
    for (const secret of service(name).secrets ?? []) expect(Object.values(env(name))).toContain(`/run/secrets/${secret}`);
  });

  it('fails loudly when PAYRAIL_KEYS_DIR is missing: every use is ${PAYRAIL_KEYS_DIR:?...}', () => {
    const uses = [...composeText.matchAll(/\$\{PAYRAIL_KEYS_DIR([^}]*)\}/g)].map((m) => m[1] ?? '');
    expect(uses.length).toBeGreaterThan(0);
    expect(uses.filter((u) => !u.startsWith(':?'))).toEqual([]);
  });

  it.each([...SERVICE_NAMES, 'topics', 'redis', 'kafka'])('%s runs hardened: read-only root, tmpfs /tmp, no capabilities, no new privileges', (name) => {
    const s = service(name);
    expect(s.read_only).toBe(true);
    expect(s.tmpfs?.some((t) => t.startsWith('/tmp'))).toBe(true);
    expect(s.cap_drop).toEqual(['ALL']);
    expect(s.security_opt).toContain('no-new-privileges:true');
  });

  it('runs Redis as its own user without persistence', () => {
    expect(service('redis').user).toBe('redis');
    expect(service('redis').command).toEqual(expect.arrayContaining(['--save', '', '--appendonly', 'no']));
  });

  it('pins the Kafka image (the same one the test stack uses with Docker) and runs it in KRaft mode through Payrail\'s start script', () => {
    const image = service('kafka').image;
    expect(image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(readFileSync(join(repoRoot, 'tools/stack/stack.mjs'), 'utf8')).toContain(`'${image}'`);
    expect(service('kafka').entrypoint).toEqual(['/bin/sh', '/etc/payrail/kafka-start.sh']);
    expect(service('kafka').volumes).toContain('./deploy/docker/kafka-start.sh:/etc/payrail/kafka-start.sh:ro');
    const script = readFileSync(join(repoRoot, 'deploy/docker/kafka-start.sh'), 'utf8');
    for (const line of ['process.roles=broker,controller', 'auto.create.topics.enable=false', 'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'allow.everyone.if.no.acl.found=false', 'super.users=User:payrail-broker;User:payrail-controller;User:payrail-admin', 'listener.security.protocol.map=CLIENT:$protocol,CONTROLLER:SASL_PLAINTEXT', 'listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512']) {
      expect(script.split('\n')).toContain(line);
    }
    expect(service('redis').image).toMatch(/^redis:\d+(\.\d+)?(\.\d+)?-alpine$/);
  });

  it('runs Kafka with SASL/SCRAM-SHA-512 on the port every client is given (SASL_PLAINTEXT on the project network: docs/operations.md), publishing no port', () => {
    const kafka = env('kafka');
    expect([kafka['PAYRAIL_KAFKA_PROTOCOL'], kafka['PAYRAIL_KAFKA_SASL_MECHANISM'], kafka['PAYRAIL_KAFKA_ADVERTISED_HOST']]).toEqual(['SASL_PLAINTEXT', 'SCRAM-SHA-512', 'kafka']);
    expect(service('kafka').ports).toBeUndefined();
    for (const name of [...SERVICE_NAMES, 'topics']) expect(env(name)['KAFKA_BROKERS']).toBe(`kafka:${kafka['PAYRAIL_KAFKA_PORT']}`);
  });

  const clients: [string, string][] = [...SERVICE_NAMES.map((s): [string, string] => [s, kafkaUsername(s)]), ['topics', KAFKA_ADMIN_USERNAME]];

  it.each(clients)('%s connects to Kafka as %s over SASL/SCRAM-SHA-512, its password a compose secret of its own that the broker creates the user from', (name, username) => {
    expect([KAFKA_ADMIN_USERNAME, ...kafkaAccessTable().map((p) => p.username)]).toContain(username);
    const e = env(name);
    expect({ mechanism: e['KAFKA_SASL_MECHANISM'], username: e['KAFKA_SASL_USERNAME'], file: e['KAFKA_SASL_PASSWORD_FILE'], inline: e['KAFKA_SASL_PASSWORD'] }).toEqual({ mechanism: 'scram-sha-512', username, file: `/run/secrets/kafka-${username}`, inline: undefined });
    expect(service(name).secrets).toContain(`kafka-${username}`);
    expect(compose.secrets[`kafka-${username}`]?.file).toBe(`\${PAYRAIL_KEYS_DIR:?set PAYRAIL_KEYS_DIR}/kafka/${username}.password`);
    // the broker mounts the same secret and creates the user from it; no other service mounts it
    expect(service('kafka').secrets).toContain(`kafka-${username}`);
    expect((env('kafka')['PAYRAIL_KAFKA_USERS'] ?? '').split(',')).toContain(username);
    const others = Object.entries(compose.services).filter(([n]) => n !== name && n !== 'kafka' && (compose.services[n]?.secrets ?? []).includes(`kafka-${username}`));
    expect(others.map(([n]) => n)).toEqual([]);
  });

  it('has no service that connects to Kafka without SASL, and the broker creates exactly the users its clients connect as', () => {
    const connecting = Object.keys(compose.services).filter((n) => env(n)['KAFKA_BROKERS'] !== undefined);
    expect(connecting.sort()).toEqual(clients.map(([n]) => n).sort());
    for (const n of connecting) expect(env(n)['KAFKA_SASL_MECHANISM']).toBe('scram-sha-512');
    expect((env('kafka')['PAYRAIL_KAFKA_USERS'] ?? '').split(',').sort()).toEqual(clients.map(([, u]) => u).sort());
    expect(service('kafka').secrets?.filter((s) => !clients.some(([, u]) => s === `kafka-${u}`)).sort()).toEqual(['kafka-payrail-broker', 'kafka-payrail-controller']);
  });

  it('builds each service from the one Dockerfile with APP set to its name', () => {
    for (const name of SERVICE_NAMES) {
      expect(service(name).build?.args?.['APP']).toBe(name);
      expect(service(name).image).toMatch(new RegExp(`^payrail/${name}:`));
    }
    expect(service('topics').build?.args?.['APP']).toBe('payrail-cli');
  });

  it('creates the topics with payrail-cli before any service starts, and starts services only after healthy dependencies', () => {
    expect(service('topics').command).toEqual(['node', 'main.js', 'topics', 'ensure', '--replication', '1']);
    expect(service('topics').depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
    expect(service('signing').depends_on).toEqual({ kafka: { condition: 'service_healthy' }, topics: { condition: 'service_completed_successfully' } });
    for (const name of ['ingest', 'fraud-check', 'settlement']) {
      expect(service(name).depends_on?.['signing']).toEqual({ condition: 'service_healthy' });
      expect(service(name).depends_on?.['redis']).toEqual({ condition: 'service_healthy' });
    }
    for (const name of SERVICE_NAMES) {
      const conditions = Object.values(service(name).depends_on ?? {}).map((d) => d.condition);
      expect(conditions.every((c) => c === 'service_healthy' || c === 'service_completed_successfully')).toBe(true);
    }
  });

  it('has a healthcheck on Kafka, Redis and every service (the image\'s readiness check)', () => {
    for (const name of ['kafka', 'redis', ...SERVICE_NAMES]) expect(service(name).healthcheck?.test?.length).toBeGreaterThan(0);
    for (const name of SERVICE_NAMES) expect(service(name).healthcheck?.test).toEqual(['CMD', 'node', '/app/healthcheck.cjs']);
    expect(service('topics').healthcheck?.disable).toBe(true);
  });

  it("points fraud-check and settlement at signing's real JWKS route, and fraud-check at the rule set baked into its image", () => {
    const signingPort = env('signing')['HTTP_PORT'];
    for (const name of ['fraud-check', 'settlement']) {
      expect(env(name)['SIGNING_JWKS_URL']).toBe(`http://signing:${signingPort}${JWKS_ROUTE}`);
      expect(env(name)['SIGNING_JWKS_ALLOW_HTTP']).toBe('true'); // plain http to the compose service: the explicit opt-in
    }
    // the Dockerfile copies apps/<APP>/rules to /app/rules
    expect(env('fraud-check')['RULES_FILE']).toBe('/app/rules/ruleset.json');
    expect(existsSync(join(repoRoot, 'apps/fraud-check/rules/ruleset.json'))).toBe(true);
  });
});
