// Apache Kafka in KRaft mode, run from the official Maven Central artifacts (no Docker): one combined broker and
// controller, or a cluster of three on three loopback addresses (startKafkaCluster).
// Dependency-free on purpose: `npm start` calls it before node_modules may exist.
//
//   provisionKafka()  resolves org.apache.kafka:kafka_2.13 + runtime deps once into a cache that survives runs
//   startKafka(opts)  formats fresh storage, starts the broker with a bounded heap, waits until it answers
//   startKafkaCluster(opts)  three combined nodes, replication factor 3 and min.insync.replicas 2
//   newClusterId()    a KRaft cluster id made the way Kafka's own Uuid.randomUuid() makes one
//   stop()            SIGTERM (controlled shutdown), SIGKILL after a grace period
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForPort, waitForExit, log } from './process-utils.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const POM = join(here, 'kafka-pom.xml');

export function kafkaVersion() {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!match) throw new Error(`cannot read kafka.version from ${POM}`);
  return match[1];
}

export function cacheRoot() {
  return process.env.PAYRAIL_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'payrail');
}

/** Resolves the broker jars with Maven once; later runs reuse the cache (and ~/.m2). Returns the libs folder. */
export function provisionKafka() {
  const version = kafkaVersion();
  const home = join(cacheRoot(), `kafka-${version}`);
  const libs = join(home, 'libs');
  const marker = join(home, '.complete');
  if (existsSync(marker) && readdirSync(libs).some((f) => f.startsWith('kafka_2.13-'))) return { version, libs, home };

  const mvn = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (mvn.error || mvn.status !== 0) {
    throw new Error('Apache Maven (mvn) is required to fetch the Kafka broker from Maven Central: install Maven 3.8+ and Java 17+, or run with a Docker engine.');
  }
  log(`kafka: resolving org.apache.kafka:kafka_2.13:${version} from Maven Central into ${libs}`);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(libs, { recursive: true });
  const res = spawnSync(
    'mvn',
    ['-B', '-q', '-f', POM, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${libs}`],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (res.status !== 0) throw new Error(`mvn dependency:copy-dependencies failed (exit ${res.status}); see the output above`);
  copyFileSync(join(here, 'log4j2.properties'), join(home, 'log4j2.properties'));
  writeFileSync(marker, new Date().toISOString());
  return { version, libs, home };
}

export function javaAvailable() {
  const res = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) return undefined;
  const match = /version "(\d+)/.exec(res.stderr ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * A cluster id for `kafka-storage format`, made as Kafka's `org.apache.kafka.common.Uuid.randomUuid()` makes one: a
 * random version-4 UUID (java.util.UUID.randomUUID()) as 22 characters of unpadded base64url, drawn again while it
 * starts with '-' (about 1 draw in 64: the command line would take it for an option) or is reserved (all zero, or
 * 0...01; a version-4 UUID never is). `random` is for tests.
 */
export function newClusterId(random = randomBytes) {
  for (;;) {
    const bytes = Buffer.from(random(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // IETF variant
    const id = bytes.toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The SASL mechanism of every client connection (and of replication between brokers). */
export const KAFKA_SASL_MECHANISM = 'SCRAM-SHA-512';

/**
 * The SCRAM users a broker is formatted with: the admin (provisioning, tests) and one per principal of the ACL table
 * in libs/contracts (kafka-access.ts; deploy/local.spec.ts keeps the two lists in step: this file cannot import it).
 */
export const KAFKA_ADMIN_USER = 'payrail-admin';
export const KAFKA_CLIENT_USERS = [KAFKA_ADMIN_USER, 'payrail-ingest', 'payrail-signing', 'payrail-fraud-check', 'payrail-settlement', 'payrail-console', 'payrail-operator', 'payrail-upstream'];
/** The brokers' own principal (replication over the client listener, SCRAM) and the controllers' (SASL/PLAIN). */
export const KAFKA_BROKER_USER = 'payrail-broker';
export const KAFKA_CONTROLLER_USER = 'payrail-controller';

const password = () => randomBytes(24).toString('base64url');

/**
 * Fresh random passwords for one run: every client user, the brokers' and the controllers' own. Each client
 * password is also written to `<runDir>/kafka-credentials/<user>.password` (mode 0600), for KAFKA_SASL_PASSWORD_FILE.
 * Returns { dir, users: { [user]: { username, password, passwordFile } }, broker, controller }.
 */
export function newKafkaCredentials(runDir, users = KAFKA_CLIENT_USERS, given = {}) {
  const dir = join(runDir, 'kafka-credentials');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const byName = {};
  for (const username of users) {
    const passwordFile = join(dir, `${username}.password`);
    const secret = given[username] ?? password();
    writeFileSync(passwordFile, secret, { mode: 0o600 });
    byName[username] = { username, password: secret, passwordFile };
  }
  return { dir, users: byName, broker: { username: KAFKA_BROKER_USER, password: password() }, controller: { username: KAFKA_CONTROLLER_USER, password: password() } };
}

/** `kafka-storage format` arguments that create every SCRAM user of `credentials` (the brokers' own included). */
export function scramFormatArgs(credentials) {
  return [credentials.broker, ...Object.values(credentials.users)].flatMap((user) => ['--add-scram', `${KAFKA_SASL_MECHANISM}=[name=${user.username},password=${user.password}]`]);
}

/** A value inside a JAAS config line: quoted, with quotes and backslashes escaped (our passwords are base64url). */
const jaas = (value) => `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/**
 * server.properties of one combined broker/controller node. The client listener (CLIENT) takes SASL/SCRAM-SHA-512
 * only, over TLS (SASL_SSL) when `tls` names the broker's PEM keystore (private key and certificate chain) and the CA
 * the brokers trust, else over plain TCP (SASL_PLAINTEXT); it also carries replication between brokers as the
 * brokers' own SCRAM user. The controller listener takes SASL/PLAIN with one static user (KRaft cannot use SCRAM
 * there: the SCRAM credentials live in the metadata the controllers serve). StandardAuthorizer with no ACL meaning
 * no access; super users are the brokers, the controllers and the admin, nobody else. There is no unauthenticated
 * listener, whatever the options.
 */
export function serverProperties({ port, controllerPort, dataDir, credentials, host = '127.0.0.1', nodeId = 1, voters, replication = 1, advertised = `${host}:${port}`, tls }) {
  const isr = Math.min(2, replication);
  const { broker, controller } = credentials;
  const clientProtocol = tls ? 'SASL_SSL' : 'SASL_PLAINTEXT';
  // PEM stores (KIP-651): no keytool step, no store password; brokers verify each other's certificate by host name
  const ssl = tls
    ? [
        'listener.name.client.ssl.keystore.type=PEM',
        `listener.name.client.ssl.keystore.location=${tls.keystore}`,
        'listener.name.client.ssl.truststore.type=PEM',
        `listener.name.client.ssl.truststore.location=${tls.truststore}`,
        'listener.name.client.ssl.endpoint.identification.algorithm=https',
      ]
    : [];
  return [
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    `controller.quorum.voters=${voters ?? `1@127.0.0.1:${controllerPort}`}`,
    `listeners=CLIENT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=CLIENT://${advertised}`,
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=CLIENT:${clientProtocol},CONTROLLER:SASL_PLAINTEXT`,
    ...ssl,
    'inter.broker.listener.name=CLIENT',
    `sasl.mechanism.inter.broker.protocol=${KAFKA_SASL_MECHANISM}`,
    `listener.name.client.sasl.enabled.mechanisms=${KAFKA_SASL_MECHANISM}`,
    `listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=${jaas(broker.username)} password=${jaas(broker.password)};`,
    'sasl.mechanism.controller.protocol=PLAIN',
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=${jaas(controller.username)} password=${jaas(controller.password)} user_${controller.username}=${jaas(controller.password)};`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    `super.users=User:${broker.username};User:${controller.username};User:${KAFKA_ADMIN_USER}`,
    `log.dirs=${dataDir}`,
    'num.partitions=6',
    // internal topics replicated as the cluster allows (a single node needs 1, or group coordination never becomes
    // available); with three nodes a write needs two in-sync replicas
    `offsets.topic.replication.factor=${replication}`,
    'offsets.topic.num.partitions=12',
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${isr}`,
    `share.coordinator.state.topic.replication.factor=${replication}`,
    `share.coordinator.state.topic.min.isr=${isr}`,
    `default.replication.factor=${replication}`,
    `min.insync.replicas=${isr}`,
    'group.initial.rebalance.delay.ms=0',
    // topics are declared by Payrail's provisioning (contracts catalogue), never created by a typo
    'auto.create.topics.enable=false',
    'log.retention.hours=168',
    '',
  ].join('\n');
}

/**
 * One node's storage, formatted with every SCRAM user of `credentials`, and how to launch it. opts: { port,
 * controllerPort, runDir, heapMb, credentials, host?, nodeId?, voters?, replication?, clusterId, tls? }
 */
function prepareNode(opts) {
  const { port, runDir, heapMb = 768, credentials, host = '127.0.0.1', clusterId, detached = true } = opts;
  const javaMajor = javaAvailable();
  if (!javaMajor || javaMajor < 17) throw new Error(`Java 17+ is required to run the Kafka broker (found: ${javaMajor ?? 'none'}).`);
  const { libs, home, version } = provisionKafka();
  mkdirSync(runDir, { recursive: true });
  const dataDir = join(runDir, 'kafka-data');
  rmSync(dataDir, { recursive: true, force: true }); // stale data from a killed run is never reused
  mkdirSync(dataDir, { recursive: true });
  const propsFile = join(runDir, 'server.properties');
  // it holds the brokers' and controllers' passwords
  writeFileSync(propsFile, serverProperties({ ...opts, dataDir }), { mode: 0o600 });
  chmodSync(propsFile, 0o600);
  const logFile = join(runDir, 'kafka.log');
  const classpath = `${libs}/*`;
  const jvm = [
    `-Xms${Math.min(256, heapMb)}m`,
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(home, 'log4j2.properties')}`,
    `-Dpayrail.kafka.log=${logFile}`,
  ];
  // `--cluster-id=<id>`, one argument: the id can never be read as an option of its own
  const formatArgs = [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', propsFile];
  formatArgs.push(...scramFormatArgs(credentials));
  const format = spawnSync('java', formatArgs, { encoding: 'utf8' });
  if (format.status !== 0) throw new Error(`kafka storage format failed (exit ${format.status}): ${redactPasswords(format.stderr || format.stdout, credentials)}`);
  const spawnNode = () => {
    const out = openSync(join(runDir, 'kafka.stdout.log'), 'a');
    const child = spawn('java', [...jvm, '-cp', classpath, 'kafka.Kafka', propsFile], {
      stdio: ['ignore', out, out],
      // own process group by default: Ctrl-C in the terminal reaches us, and we stop it in order; `detached: false`
      // keeps it in the caller's group, so that a test step's group kill takes it too
      detached,
    });
    child.unref();
    return child;
  };
  const waitReady = async (child) => {
    try {
      await waitForPort(port, { timeoutMs: 90_000, process: child, what: `Kafka ${version} broker`, host });
    } catch (err) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
      throw new Error(`${err.message}\n--- last lines of ${logFile} ---\n${tail(logFile)}`);
    }
    return child.pid;
  };
  return { version, logFile, bootstrap: `${host}:${port}`, spawnNode, waitReady };
}

function brokerHandle(node, pid) {
  const broker = {
    pid,
    bootstrap: node.bootstrap,
    logFile: node.logFile,
    version: node.version,
    stop: () => stopProcess(broker.pid, 20_000),
    /** Stops the broker (SIGTERM, or SIGKILL when `kill`) and starts it again on the same storage and port. */
    restart: async ({ kill = false } = {}) => {
      if (kill) {
        try { process.kill(broker.pid, 'SIGKILL'); } catch { /* gone */ }
        await waitForExit(broker.pid, 10_000);
      } else {
        await stopProcess(broker.pid, 20_000);
      }
      broker.pid = await node.waitReady(node.spawnNode());
      return broker.pid;
    },
  };
  return broker;
}

function redactPasswords(text, credentials) {
  let out = String(text);
  for (const user of [credentials.broker, credentials.controller, ...Object.values(credentials.users)]) out = out.split(user.password).join('***');
  return out;
}

/**
 * Formats fresh storage and starts the broker. Returns { pid, bootstrap, credentials, stop, restart }.
 * opts: { port, controllerPort, runDir, heapMb = 768, credentials? (newKafkaCredentials(runDir) when absent),
 * tls? ({ keystore, truststore }: PEM files; the client listener then speaks SASL_SSL) }
 */
export async function startKafka(opts) {
  const credentials = opts.credentials ?? newKafkaCredentials(opts.runDir);
  const node = prepareNode({ ...opts, credentials, clusterId: newClusterId() });
  return { ...brokerHandle(node, await node.waitReady(node.spawnNode())), credentials };
}

/**
 * Three combined broker/controller nodes, one per loopback address (`hosts`, e.g. 127.0.0.1-3: each listens on the
 * same `port` and `controllerPort`, as three hosts would), replication factor 3 and min.insync.replicas 2 for
 * Payrail's topics and Kafka's own. Starts all three before waiting: a node opens its listener only once the
 * controller quorum (two of three) has formed. Returns { brokers, bootstrap, stop }.
 */
export async function startKafkaCluster({ hosts, port, controllerPort, runDir, heapMb = 512, detached = true, credentials = newKafkaCredentials(runDir), tls }) {
  if (hosts.length !== 3) throw new Error('startKafkaCluster takes three hosts');
  const clusterId = newClusterId();
  const voters = hosts.map((h, i) => `${i + 1}@${h}:${controllerPort}`).join(',');
  const nodes = hosts.map((host, i) => prepareNode({ port, controllerPort, host, nodeId: i + 1, voters, replication: 3, heapMb, clusterId, detached, credentials, tls, runDir: join(runDir, `kafka-${i + 1}`) }));
  const children = nodes.map((n) => n.spawnNode());
  const started = await Promise.allSettled(nodes.map((n, i) => n.waitReady(children[i])));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    // no node outlives a cluster that did not form
    for (const c of children) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
    throw failed.reason;
  }
  const pids = started.map((r) => r.value);
  const brokers = nodes.map((n, i) => brokerHandle(n, pids[i]));
  return {
    brokers,
    credentials,
    bootstrap: brokers.map((b) => b.bootstrap).join(','),
    stop: () => Promise.all(brokers.map((b) => b.stop())).then(() => undefined),
  };
}

export async function stopProcess(pid, graceMs) {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  if (await waitForExit(pid, graceMs)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  await waitForExit(pid, 5_000);
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
