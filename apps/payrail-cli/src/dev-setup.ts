// Development keys for a local run: Payrail's signing key, the event sealing keys of ingest, fraud-check and settlement
// (each service seals what it hands to the next; docs/security.md), the data-protection key pair, ingest's inbound
// encryption key pair (upstreams publishing to the inbound topic encrypt to its public half), the fingerprint key,
// three demo upstreams (key pairs + registrations), the console's users (a dev operator and a dev viewer with
// random passwords) and session key, and the console's service token for fraud-check's admin API (registered, as
// its SHA-256 only, in fraud-check's operators file with the scopes it needs: reviews:read, reviews:decide, act-for-operators), and
// a random SCRAM password per Kafka principal (kafka/<user>.password: docker-compose.yml's and the dev overlay's
// broker create the users from them, each service reads its own). Written under the run's folder, never into the
// repository.
import { chownSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FRAUD_OPERATOR_TOKEN_PREFIX, hashPassword, newBearerToken, writeDevKeys, writeSealKeys, SETTLEMENT_API_TOKEN_PREFIX } from '@payrail/crypto';
import { KAFKA_ADMIN_USERNAME, KAFKA_PRINCIPAL_NAMES, kafkaUsername } from '@payrail/contracts';
import { DEMO_MERCHANT_IDS, writeUpstreamRegistration } from '@payrail/upstream-sdk';

export const DEMO_UPSTREAMS = ['psp-alpha', 'bank-beta', 'shop-gamma'];

export interface DevSetup {
  signingPrivateJwks: string;
  signingPublicJwks: string;
  protectionPrivateJwks: string;
  protectionPublicJwks: string;
  /** ingest's inbound-topic decryption keys (INGEST_INBOUND_JWE_KEYS_FILE) and their public half, what upstreams encrypt to. */
  ingestInboundPrivateJwks: string;
  ingestInboundPublicJwks: string;
  /** Event sealing keys (EVENT_SEAL_KEYS_FILE of each producer, <PRODUCER>_SEAL_JWKS_FILE of its consumers). */
  ingestSealPrivateJwks: string;
  ingestSealPublicJwks: string;
  fraudCheckSealPrivateJwks: string;
  fraudCheckSealPublicJwks: string;
  settlementSealPrivateJwks: string;
  settlementSealPublicJwks: string;
  fingerprintKeyFile: string;
  /** settlement's API clients (SETTLEMENT_API_CLIENTS_FILE): the console and a dev operator, each its own token, hashed. */
  settlementApiClientsFile: string;
  /** The dev operator's own token for settlement's API (for people and tests: curl, the browser test). */
  settlementOperatorTokenFile: string;
  /** The console's token for settlement's API (SETTLEMENT_API_TOKEN_FILE). */
  consoleSettlementTokenFile: string;
  upstreamsDir: string;
  upstreamKeysDir: string;
  /** The console's users file (scrypt hashes only), as CONSOLE_USERS_FILE reads it. */
  consoleUsersFile: string;
  /** The console's session key (CONSOLE_SESSION_KEY_FILE). */
  consoleSessionKeyFile: string;
  /** The development sign-ins in plain text (mode 0600), for `npm start` to print and the browser test to use. */
  consoleCredentialsFile: string;
  /** fraud-check's admin operators (FRAUD_OPERATORS_FILE): the console's service token, hashed, with its scopes. */
  fraudOperatorsFile: string;
  /** The console's token for fraud-check's admin API (FRAUD_ADMIN_TOKEN_FILE). */
  consoleFraudTokenFile: string;
  /** One SCRAM password file per Kafka user (KAFKA_SASL_PASSWORD_FILE), by user name: see KAFKA_DEV_USERS. */
  kafkaPasswordFiles: Record<string, string>;
}

/**
 * The Kafka users a development broker (docker-compose.yml, the dev overlay) is given: the admin, every principal
 * of the ACL table (libs/contracts kafka-access.ts), and the broker's own identities: `payrail-broker` (its SCRAM
 * user for its own connections) and `payrail-controller` (SASL/PLAIN on the controller listener).
 */
export const KAFKA_DEV_USERS: readonly string[] = [KAFKA_ADMIN_USERNAME, ...KAFKA_PRINCIPAL_NAMES.map(kafkaUsername), 'payrail-broker', 'payrail-controller'];

/** kafka/<user>.password for every KAFKA_DEV_USERS entry: 32 random bytes, base64url, no newline, mode 0600. */
function writeKafkaPasswords(dir: string): Record<string, string> {
  const kafkaDir = join(dir, 'kafka');
  mkdirSync(kafkaDir, { recursive: true, mode: 0o700 });
  const files: Record<string, string> = {};
  for (const user of KAFKA_DEV_USERS) {
    const file = join(kafkaDir, `${user}.password`);
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
    files[user] = file;
  }
  return files;
}

/** The console's id in fraud-check's operators file: decisions taken through it are recorded as console:<user>. */
export const CONSOLE_FRAUD_OPERATOR = 'console';
/** What the console may do in fraud-check's admin API: read and decide reviews for its users; no blocklists, no audit. */
export const CONSOLE_FRAUD_SCOPES = ['reviews:read', 'reviews:decide', 'act-for-operators'] as const;

export interface ConsoleDevCredentials {
  operator: { username: string; password: string };
  viewer: { username: string; password: string };
}

async function writeConsoleUsers(dir: string): Promise<Pick<DevSetup, 'consoleUsersFile' | 'consoleSessionKeyFile' | 'consoleCredentialsFile'>> {
  const consoleDir = join(dir, 'console');
  mkdirSync(consoleDir, { recursive: true, mode: 0o700 });
  const credentials: ConsoleDevCredentials = {
    operator: { username: 'dev-operator', password: randomBytes(12).toString('base64url') },
    viewer: { username: 'dev-viewer', password: randomBytes(12).toString('base64url') },
  };
  const users = await Promise.all(
    (['operator', 'viewer'] as const).map(async (role) => ({ username: credentials[role].username, role, password_scrypt: await hashPassword(credentials[role].password) })),
  );
  const consoleUsersFile = join(consoleDir, 'users.json');
  writeFileSync(consoleUsersFile, `${JSON.stringify({ users }, null, 2)}\n`, { mode: 0o600 });
  const consoleSessionKeyFile = join(consoleDir, 'session.key');
  writeFileSync(consoleSessionKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const consoleCredentialsFile = join(consoleDir, 'dev-credentials.json');
  writeFileSync(consoleCredentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return { consoleUsersFile, consoleSessionKeyFile, consoleCredentialsFile };
}

/** fraud-check's operators file format: {"operators":[{"id","role"|"scopes","token_sha256"}]}, with one of its bearer tokens. */
function writeFraudOperators(dir: string): Pick<DevSetup, 'fraudOperatorsFile' | 'consoleFraudTokenFile'> {
  const fraudDir = join(dir, 'fraud-check');
  mkdirSync(fraudDir, { recursive: true, mode: 0o700 });
  const { token, sha256 } = newBearerToken(FRAUD_OPERATOR_TOKEN_PREFIX);
  const consoleFraudTokenFile = join(fraudDir, 'console.token');
  writeFileSync(consoleFraudTokenFile, token, { mode: 0o600 });
  const fraudOperatorsFile = join(fraudDir, 'operators.json');
  const operators = [{ id: CONSOLE_FRAUD_OPERATOR, scopes: CONSOLE_FRAUD_SCOPES, token_sha256: sha256 }];
  writeFileSync(fraudOperatorsFile, `${JSON.stringify({ operators }, null, 2)}\n`, { mode: 0o600 });
  return { fraudOperatorsFile, consoleFraudTokenFile };
}

/** settlement's API clients file: {"clients":[{"id","scopes","token_sha256"}]}, one token per consumer. */
function writeSettlementApiClients(dir: string): Pick<DevSetup, 'settlementApiClientsFile' | 'settlementOperatorTokenFile' | 'consoleSettlementTokenFile'> {
  const settlementDir = join(dir, 'settlement');
  mkdirSync(settlementDir, { recursive: true, mode: 0o700 });
  const clients = (['console', 'dev-operator'] as const).map((id) => {
    const { token, sha256 } = newBearerToken(SETTLEMENT_API_TOKEN_PREFIX);
    const file = join(settlementDir, `${id}.token`);
    writeFileSync(file, token, { mode: 0o600 });
    return { file, line: { id, scopes: ['ledger:read'], token_sha256: sha256 } };
  });
  const settlementApiClientsFile = join(settlementDir, 'api-clients.json');
  writeFileSync(settlementApiClientsFile, `${JSON.stringify({ clients: clients.map((c) => c.line) }, null, 2)}\n`, { mode: 0o600 });
  return { settlementApiClientsFile, consoleSettlementTokenFile: clients[0]?.file ?? '', settlementOperatorTokenFile: clients[1]?.file ?? '' };
}

/**
 * Hands the files the services read inside their containers to the containers' user. docker compose bind-mounts a
 * file secret with its host owner and mode (it cannot set uid/gid/mode outside Swarm), and the images run as uid
 * 1000, so a 0600 key file owned by another user cannot be read there. Kubernetes Secrets do not need this (the
 * kubelet writes them with defaultMode and fsGroup). Needs root unless the files are already the caller's.
 */
export function handOverToContainers(setup: DevSetup, owner: string): void {
  const m = /^(\d+):(\d+)$/.exec(owner);
  if (!m) throw new Error(`--owner must be UID:GID (numeric), got ${owner}`);
  const [uid, gid] = [Number(m[1]), Number(m[2])];
  const seals = [setup.ingestSealPrivateJwks, setup.fraudCheckSealPrivateJwks, setup.settlementSealPrivateJwks, setup.ingestSealPublicJwks, setup.fraudCheckSealPublicJwks, setup.settlementSealPublicJwks];
  const files = [setup.signingPrivateJwks, setup.protectionPublicJwks, setup.ingestInboundPrivateJwks, setup.fingerprintKeyFile, setup.settlementApiClientsFile, ...seals];
  for (const f of [...files, ...Object.values(setup.kafkaPasswordFiles)]) chownSync(f, uid, gid);
  chownSync(setup.upstreamsDir, uid, gid);
  for (const f of readdirSync(setup.upstreamsDir)) chownSync(join(setup.upstreamsDir, f), uid, gid);
}

export async function devSetup(dir: string): Promise<DevSetup> {
  rmSync(dir, { recursive: true, force: true }); // fresh keys every run
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // the signing service holds signing keys only (it refuses a file with an encryption key)
  const signing = await writeDevKeys(join(dir, 'signing'), { alg: 'ES256', withEncryptionKey: false });
  const protection = await writeDevKeys(join(dir, 'protection'), { alg: 'ES256', withEncryptionKey: true });
  // ingest's inbound key: one ECDH-ES+A256KW key, nothing else in the file (ingest refuses a signing key there)
  const inbound = await writeDevKeys(join(dir, 'inbound'), { withSigningKey: false });
  // one sealing key per producing service, distinct from Payrail's instruction keys
  const ingestSeal = await writeSealKeys(join(dir, 'seals', 'ingest'));
  const fraudCheckSeal = await writeSealKeys(join(dir, 'seals', 'fraud-check'));
  const settlementSeal = await writeSealKeys(join(dir, 'seals', 'settlement'));
  const fingerprintKeyFile = join(dir, 'fingerprint.key');
  writeFileSync(fingerprintKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const upstreamsDir = join(dir, 'upstreams');
  const upstreamKeysDir = join(dir, 'upstream-keys');
  for (const id of DEMO_UPSTREAMS) {
    const keys = await writeDevKeys(join(upstreamKeysDir, id), { alg: 'ES256' });
    writeUpstreamRegistration(upstreamsDir, id, keys.publicPath, { merchants: DEMO_MERCHANT_IDS });
  }
  return {
    signingPrivateJwks: signing.privatePath,
    signingPublicJwks: signing.publicPath,
    protectionPrivateJwks: protection.privatePath,
    protectionPublicJwks: protection.publicPath,
    ingestInboundPrivateJwks: inbound.privatePath,
    ingestInboundPublicJwks: inbound.publicPath,
    ingestSealPrivateJwks: ingestSeal.privateFile,
    ingestSealPublicJwks: ingestSeal.publicFile,
    fraudCheckSealPrivateJwks: fraudCheckSeal.privateFile,
    fraudCheckSealPublicJwks: fraudCheckSeal.publicFile,
    settlementSealPrivateJwks: settlementSeal.privateFile,
    settlementSealPublicJwks: settlementSeal.publicFile,
    fingerprintKeyFile,
    ...writeSettlementApiClients(dir),
    upstreamsDir,
    upstreamKeysDir,
    ...(await writeConsoleUsers(dir)),
    ...writeFraudOperators(dir),
    kafkaPasswordFiles: writeKafkaPasswords(dir),
  };
}
