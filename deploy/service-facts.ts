// What the deployment descriptors must agree with, read from the apps and libraries themselves at test time (never
// copied): each service's env schema, default HTTP port, secret variables, consumer groups and HTTP routes. When
// another change adds a variable, a consumer group or moves a route, the deploy tests fail instead of drifting.
import 'reflect-metadata';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants';
import type { z } from 'zod';
import type { SigningJwksSource } from '@payrail/config';
import { CONSUMER_GROUPS, CONSUMER_GROUP_SUBSCRIPTIONS, ConsumerGroupKey, PAYMENT_INSTRUCTION_JWS_TYPE, ServiceName, TOPICS } from '@payrail/contracts';
import { openPayrailVerifier } from '@payrail/crypto';
import { HealthController } from '@payrail/messaging-nest';
import { IngestEnvSchema, loadIngestConfig } from '../apps/ingest/src/config';
import { SigningEnvSchema, loadSigningConfig } from '../apps/signing/src/config';
import { FraudCheckEnvSchema, loadFraudCheckConfig } from '../apps/fraud-check/src/config';
import { SettlementEnvSchema, loadSettlementConfig } from '../apps/settlement/src/config';
import { JwksController } from '../apps/signing/src/keys/jwks.controller';

export const repoRoot = join(__dirname, '..');
export const SERVICE_NAMES: readonly ServiceName[] = ['ingest', 'signing', 'fraud-check', 'settlement'];

export const ENV_SCHEMAS: Record<ServiceName, z.ZodObject> = {
  ingest: IngestEnvSchema,
  signing: SigningEnvSchema,
  'fraud-check': FraudCheckEnvSchema,
  settlement: SettlementEnvSchema,
};

const CONFIG_LOADERS: Record<ServiceName, (env: Record<string, string | undefined>) => unknown> = {
  ingest: loadIngestConfig,
  signing: loadSigningConfig,
  'fraud-check': loadFraudCheckConfig,
  settlement: loadSettlementConfig,
};

/** Stand-ins for secrets that are documents rather than random bytes (the shape the loader checks). */
const SECRET_STAND_INS: Record<string, string> = {
  SETTLEMENT_API_CLIENTS: JSON.stringify({ clients: [{ id: 'stand-in', scopes: ['ledger:read'], token_sha256: '0'.repeat(64) }] }),
};

/** Files the loaders read themselves (not through readSecret): a stand-in file each, written once per test run. */
const FILE_STAND_INS: Record<string, string> = { KAFKA_SSL_CA_FILE: '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n' };
let standInDir: string | undefined;
function standInFile(variable: string, content: string): string {
  standInDir ??= mkdtempSync(join(tmpdir(), 'payrail-deploy-stand-ins-'));
  const path = join(standInDir, variable);
  writeFileSync(path, content);
  return path;
}

/**
 * Runs the service's own config loader (the one main.ts calls) on an environment taken from a deployment
 * descriptor. Secrets given as NAME_FILE (mounted files that do not exist here) are replaced by a stand-in value
 * given directly as NAME, and files the loader reads itself (KAFKA_SSL_CA_FILE) by a stand-in file, so the loader
 * checks everything else exactly as at boot. Throws ConfigError naming the variable when the descriptor would not
 * start the service.
 */
export function loadConfigFrom(service: ServiceName, env: Record<string, string>): unknown {
  const effective: Record<string, string | undefined> = { ...env };
  for (const [variable, content] of Object.entries(FILE_STAND_INS)) if (effective[variable] !== undefined) effective[variable] = standInFile(variable, content);
  for (const secret of secretVariables(service)) {
    if (effective[`${secret}_FILE`] === undefined) continue;
    delete effective[`${secret}_FILE`];
    effective[secret] = SECRET_STAND_INS[secret] ?? Buffer.alloc(32, 7).toString('base64');
  }
  return CONFIG_LOADERS[service](effective);
}

/**
 * What a service that verifies Payrail's signatures does with its keys setting at boot, on an environment taken
 * from a deployment descriptor: its config loader (which runs RemoteJwksClient's URL rule: a refusal is a
 * ConfigError naming SIGNING_JWKS_URL or SIGNING_JWKS_ALLOW_HTTP), then openPayrailVerifier, the call its
 * PayrailSignatures provider makes at module init, which builds the real RemoteJwksClient from the loaded
 * settings (no request is made: keys are fetched at the first verification). A mounted JWKS file is not opened
 * (it does not exist here). Returns the source, undefined for a service that verifies nothing.
 */
export async function openPayrailKeysFrom(service: ServiceName, env: Record<string, string>): Promise<SigningJwksSource | undefined> {
  const config = loadConfigFrom(service, env) as { payrailKeys?: SigningJwksSource };
  const source = config.payrailKeys;
  if (source && 'url' in source) (await openPayrailVerifier(source, [PAYMENT_INSTRUCTION_JWS_TYPE])).close();
  return source;
}

/** Variables the runtime itself reads (Node), allowed next to the schema's. */
export const RUNTIME_VARS = ['NODE_ENV', 'NODE_OPTIONS', 'TZ'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry) ? [path] : [];
  });
}

/**
 * Secrets read with readSecret(env, 'NAME'), which accepts NAME or NAME_FILE. Scanned in the service's own source
 * and in the shared libraries every service links (Kafka credentials live in libs/messaging).
 */
export function secretVariables(service: ServiceName): string[] {
  const files = [...sourceFiles(join(repoRoot, 'apps', service, 'src')), ...sourceFiles(join(repoRoot, 'libs', 'messaging', 'src')), ...sourceFiles(join(repoRoot, 'libs', 'config', 'src'))];
  const names = new Set<string>();
  for (const file of files) for (const m of readFileSync(file, 'utf8').matchAll(/readSecret\([^,()]+,\s*'([A-Z0-9_]+)'\)/g)) if (m[1]) names.add(m[1]);
  return [...names].sort();
}

/**
 * Files of key material (JWKS) and the Kafka CA, given as files by design; with the *_FILE forms of the secrets
 * (KAFKA_SASL_PASSWORD_FILE among them) they are mounted secrets.
 */
const KEY_FILE_VARS = ['SIGNING_KEYS_FILE', 'PROTECTION_JWKS_FILE', 'SIGNING_JWKS_FILE', 'KAFKA_SSL_CA_FILE'];

/** Variables of a service that name a mounted key or secret file. */
export function keyFileVariables(service: ServiceName): string[] {
  const keys = Object.keys(ENV_SCHEMAS[service].shape);
  return [...KEY_FILE_VARS.filter((v) => keys.includes(v)), ...secretVariables(service).map((s) => `${s}_FILE`)];
}

/** Every variable name a service may be given: its schema's keys, its secrets (direct or *_FILE) and Node's own. */
export function knownVariables(service: ServiceName): Set<string> {
  const secrets = secretVariables(service).flatMap((s) => [s, `${s}_FILE`]);
  return new Set([...Object.keys(ENV_SCHEMAS[service].shape), ...secrets, ...RUNTIME_VARS]);
}

/** Variables without a default in the schema (SIGNING_JWKS_URL/FILE are one-of: see oneOfRequired). */
export function requiredVariables(service: ServiceName): string[] {
  return Object.entries(ENV_SCHEMAS[service].shape)
    .filter(([, s]) => !(s as z.ZodType).safeParse(undefined).success)
    .map(([k]) => k)
    .filter((k) => !ONE_OF_REQUIRED.flat().includes(k));
}

/** Groups of variables of which one must be set (checked by the app's loader, not its schema). */
export const ONE_OF_REQUIRED: readonly (readonly string[])[] = [['SIGNING_JWKS_URL', 'SIGNING_JWKS_FILE']];

export function oneOfRequired(service: ServiceName): (readonly string[])[] {
  const keys = Object.keys(ENV_SCHEMAS[service].shape);
  return ONE_OF_REQUIRED.filter((group) => group.every((v) => keys.includes(v)));
}

/** The HTTP port a service listens on when HTTP_PORT is not set (the schema's default). */
export function defaultPort(service: ServiceName): number {
  const parsed = (ENV_SCHEMAS[service].shape['HTTP_PORT'] as z.ZodType).safeParse(undefined);
  if (!parsed.success || typeof parsed.data !== 'number') throw new Error(`${service}: HTTP_PORT has no default`);
  return parsed.data;
}

/** A variable's default from the schema, as the app would see it. */
export function schemaDefault(service: ServiceName, variable: string): unknown {
  const schema = ENV_SCHEMAS[service].shape[variable] as z.ZodType | undefined;
  const parsed = schema?.safeParse(undefined);
  return parsed?.success ? parsed.data : undefined;
}

/** Consumer groups the service really joins: the keys its main.ts passes to connectConsumerGroups. */
export function consumerGroupsOf(service: ServiceName): ConsumerGroupKey[] {
  // the groups main.ts joins: connectConsumerGroups(app, 'a', 'b'), or transports built with { group: 'a' } in
  // main.ts or the app's consumers.ts
  const sources = ['main.ts', 'consumers.ts'].map((f) => join(repoRoot, 'apps', service, 'src', f)).filter((f) => existsSync(f));
  const keys: string[] = [];
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    const call = /connectConsumerGroups\(\s*[A-Za-z_$][\w$]*\s*,([^)]*)\)/.exec(text);
    if (call?.[1]) keys.push(...[...call[1].matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1] as string));
    keys.push(...[...text.matchAll(/\bgroup:\s*'([A-Za-z]+)'/g)].map((m) => m[1] as string));
  }
  for (const key of keys) if (!(key in CONSUMER_GROUPS)) throw new Error(`${service} joins unknown consumer group ${key}`);
  return [...new Set(keys)] as ConsumerGroupKey[];
}

export interface ConsumedTopic {
  groupKey: ConsumerGroupKey;
  groupId: string;
  topic: string;
  partitions: number;
}

/** (consumer group id, topic, partitions) for every topic the service consumes. */
export function consumedTopics(service: ServiceName): ConsumedTopic[] {
  return consumerGroupsOf(service).flatMap((groupKey) =>
    CONSUMER_GROUP_SUBSCRIPTIONS[groupKey].topics.map((topicKey) => ({
      groupKey,
      groupId: CONSUMER_GROUPS[groupKey],
      topic: TOPICS[topicKey].name,
      partitions: TOPICS[topicKey].partitions,
    })),
  );
}

function routesOf(controller: abstract new (...args: never[]) => unknown): string[] {
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '').replace(/^\/|\/$/g, '');
  const proto = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(proto)
    .filter((name) => name !== 'constructor' && typeof proto[name] === 'function')
    .map((name) => Reflect.getMetadata(PATH_METADATA, proto[name] as object) as string | undefined)
    .filter((p): p is string => p !== undefined)
    .map((p) => `/${[base, p.replace(/^\/|\/$/g, '')].filter(Boolean).join('/')}`);
}

/** The health routes every service serves (libs/messaging-nest HealthController). */
export const HEALTH_ROUTES = (() => {
  const routes = routesOf(HealthController);
  const live = routes.find((r) => r.endsWith('/live'));
  const ready = routes.find((r) => r.endsWith('/ready'));
  if (!live || !ready) throw new Error(`HealthController routes changed: ${routes.join(', ')}`);
  return { live, ready };
})();

/** Where signing publishes Payrail's public keys (apps/signing JwksController). */
export const JWKS_ROUTE = (() => {
  const [route] = routesOf(JwksController);
  if (!route) throw new Error('JwksController has no route');
  return route;
})();
