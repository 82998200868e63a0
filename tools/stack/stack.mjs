// The local stack: infrastructure (Kafka + Redis), the four services and the operator console as separate
// processes, with everything it starts recorded so that Ctrl-C, SIGTERM or the next run (after a kill -9) stops it all,
// and removes the keys it wrote in a Redis it shares (deploy/local/redis.mjs, claimRunPrefix).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KAFKA_ADMIN_USER, newClusterId, newKafkaCredentials, scramFormatArgs, serverProperties, startKafka, stopProcess } from '../../deploy/local/kafka.mjs';
import { claimRunPrefix, cleanAbandonedPrefixes, ensureRedis, newRunPrefix, redact } from '../../deploy/local/redis.mjs';
import { PidRegistry, freePort, log, sleep } from '../../deploy/local/process-utils.mjs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The four payment services, then the operator console (which only watches them). */
export const SERVICES = ['ingest', 'signing', 'fraud-check', 'settlement', 'console'];

export function dockerEngineAvailable() {
  if (process.env.PAYRAIL_INFRA === 'local') return false;
  const res = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 5000 });
  return res.status === 0 && Boolean(res.stdout.trim());
}

export class Stack {
  constructor({ name, privateRedis = false }) {
    this.name = name;
    /** A Redis of this run's own (never the shared one): for tests that restart or empty it. */
    this.privateRedis = privateRedis;
    this.runDir = join(repoRoot, '.payrail', name);
    mkdirSync(this.runDir, { recursive: true });
    this.pids = new PidRegistry(this.runDir);
    this.stoppers = []; // LIFO
    this.services = new Map();
    this.stopping = undefined;
    this.cleaning = undefined; // cleanAbandonedKeys(), once
  }

  installSignalHandlers() {
    const onSignal = (signal) => {
      log(`${signal}: stopping everything this run started`);
      this.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
  }

  async startInfra() {
    const reaped = await this.pids.reapLeftovers();
    if (reaped.length > 0) log(`stopped leftovers of a previous run: ${reaped.join(', ')}`);
    await this.cleanAbandonedKeys(); // before this run records processes of its own in the run folder
    if (dockerEngineAvailable()) return this.startInfraWithContainers();
    log('infrastructure: no Docker engine answers; running the Apache Kafka broker (KRaft) from Maven Central jars and a local Redis');
    const kafkaPort = await freePort(Number(process.env.PAYRAIL_KAFKA_PORT ?? 9092));
    const controllerPort = await freePort();
    // SASL/SCRAM-SHA-512 only, with the ACL authorizer on: one user per principal of the ACL table (libs/contracts
    // kafka-access.ts), random passwords of this run kept in runDir/kafka-credentials (0600)
    const kafka = await startKafka({ port: kafkaPort, controllerPort, runDir: this.runDir, heapMb: Number(process.env.PAYRAIL_KAFKA_HEAP_MB ?? 768) });
    this.pids.record('kafka', kafka.pid, 'kafka.Kafka');
    this.stoppers.push(async () => { await kafka.stop(); this.pids.forget('kafka'); });
    this.kafka = kafka;
    log(`kafka ${kafka.version} ready at ${kafka.bootstrap} (log: ${kafka.logFile})`);

    const redis = await this.startRedis();
    this.infra = {
      kafkaBrokers: kafka.bootstrap,
      kafkaPid: kafka.pid,
      kafkaCredentials: kafka.credentials,
      redisUrl: redis.url,
      redisKeyPrefix: redis.prefix,
      redisShared: redis.shared,
      mode: 'local',
    };
    return this.infra;
  }

  /**
   * Redis for this run: a redis-server of its own (stopped with the run), or the one already running (REDIS_URL, or
   * 127.0.0.1:6379) under a key prefix of this run's own, recorded in runDir/redis-prefixes/ before anything is
   * written and whose keys are removed when the run stops (a killed run's by the next run). Returns { url, prefix,
   * shared } (shared: the running server, not one of this run's own).
   */
  async startRedis() {
    await this.cleanAbandonedKeys();
    const redis = await ensureRedis(this.privateRedis ? { runDir: this.runDir, url: undefined, allowDefault: false } : { runDir: this.runDir });
    this.redis = redis;
    // a Redis of the run's own goes with it: a short namespace is enough (what the chaos runs were measured with);
    // a shared one gets a prefix of this run's own, claimed so that its keys can be found and removed
    const prefix = redis.started ? `payrail:${randomBytes(4).toString('hex')}:` : newRunPrefix(this.name);
    if (redis.started) {
      this.pids.record('redis', redis.pid, 'redis-server');
      this.stoppers.push(async () => { await redis.stop(); this.pids.forget('redis'); });
      log(`redis started at ${redis.url}`);
    } else {
      const claim = claimRunPrefix({ runDir: this.runDir, url: redis.url, prefix });
      this.stoppers.push(() => claim.release());
      log(`redis: using the running server at ${redact(redis.url)}; this run's keys are under ${prefix} and removed when it stops`);
    }
    return { url: redis.url, prefix, shared: !redis.started };
  }

  /** Removes the keys that runs which were killed (earlier runs of this name, or any other) left in a shared Redis; once. */
  cleanAbandonedKeys() {
    this.cleaning ??= cleanAbandonedPrefixes(join(repoRoot, '.payrail'));
    return this.cleaning;
  }

  /** Where a Docker engine answers: the same broker and Redis as containers (testcontainers). */
  async startInfraWithContainers() {
    log('infrastructure: Docker engine found; starting Kafka (apache/kafka, KRaft) and Redis with testcontainers');
    const { GenericContainer, Wait } = await import('testcontainers');
    const kafkaPort = await freePort();
    // configured as the local broker is (deploy/local/kafka.mjs serverProperties): SASL/SCRAM only, StandardAuthorizer,
    // this run's SCRAM users created when the container formats its storage
    const credentials = newKafkaCredentials(this.runDir);
    const properties = serverProperties({ port: 9092, controllerPort: 9093, host: '0.0.0.0', advertised: `127.0.0.1:${kafkaPort}`, voters: '1@localhost:9093', dataDir: '/var/lib/kafka/data', credentials });
    const quote = (arg) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const start = [
      `/opt/kafka/bin/kafka-storage.sh format --cluster-id=${newClusterId()} -c /opt/payrail/server.properties ${scramFormatArgs(credentials).map(quote).join(' ')}`,
      'exec /opt/kafka/bin/kafka-server-start.sh /opt/payrail/server.properties',
    ].join(' && ');
    const kafka = await new GenericContainer('apache/kafka:4.1.1')
      .withExposedPorts({ container: 9092, host: kafkaPort })
      .withCopyContentToContainer([{ content: properties, target: '/opt/payrail/server.properties', mode: 0o600 }])
      .withEntrypoint(['/bin/bash', '-c'])
      .withCommand([start])
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start();
    const redis = await new GenericContainer('redis:7.4-alpine').withExposedPorts(6379).start();
    this.stoppers.push(async () => { await kafka.stop(); });
    this.stoppers.push(async () => { await redis.stop(); });
    this.infra = {
      kafkaBrokers: `127.0.0.1:${kafkaPort}`,
      kafkaCredentials: credentials,
      redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
      redisKeyPrefix: 'payrail:',
      redisShared: false,
      mode: 'containers',
    };
    return this.infra;
  }

  /** Runs a Node program to completion (build steps, set-up commands). */
  run(command, args, { env = {}, quiet = false } = {}) {
    const res = spawnSync(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
    if (res.status !== 0) {
      if (quiet) process.stderr.write(`${res.stdout ?? ''}${res.stderr ?? ''}`);
      throw new Error(`${command} ${args.join(' ')} failed (exit ${res.status})`);
    }
    return res.stdout;
  }

  build() {
    log('building the services (nx, cached when unchanged)');
    this.run('npx', ['nx', 'run-many', '-t', 'build', '-p', ...SERVICES, 'upstream-kit', 'payrail-cli', '--output-style=stream-without-prefixes'], { env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true' }, quiet: true });
  }

  /** Development keys and upstream registration for this run (never committed; regenerated per run). */
  devSetup() {
    const keysDir = join(this.runDir, 'keys');
    const out = this.run('node', ['dist/apps/payrail-cli/main.js', 'dev-setup', '--dir', keysDir], { quiet: true });
    this.keys = JSON.parse(out);
    return this.keys;
  }

  ensureTopics() {
    this.run('node', ['dist/apps/payrail-cli/main.js', 'topics', 'ensure'], { env: this.infraEnv(), quiet: true });
  }

  /** Infrastructure as the admin principal sees it: provisioning (topics, ACLs) and tools of the run itself. */
  infraEnv() {
    return { ...this.kafkaEnv(KAFKA_ADMIN_USER), REDIS_URL: this.infra.redisUrl, REDIS_KEY_PREFIX: this.infra.redisKeyPrefix };
  }

  /** How `user` (a SCRAM user, e.g. payrail-signing) connects: its password by file, never on a command line. */
  kafkaEnv(user) {
    const credential = this.infra.kafkaCredentials.users[user];
    if (!credential) throw new Error(`no Kafka user ${user} in this run`);
    // KAFKA_SASL_PASSWORD emptied: one inherited from the caller's environment would win over the file
    return { KAFKA_BROKERS: this.infra.kafkaBrokers, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: user, KAFKA_SASL_PASSWORD: '', KAFKA_SASL_PASSWORD_FILE: credential.passwordFile };
  }

  /** brokers and SASL settings for a kafkajs client of the run's own tools (observers, audits): the admin by default. */
  kafkaClientConfig(user = KAFKA_ADMIN_USER) {
    const credential = this.infra.kafkaCredentials.users[user];
    if (!credential) throw new Error(`no Kafka user ${user} in this run`);
    return { brokers: this.infra.kafkaBrokers.split(','), sasl: { mechanism: 'scram-sha-512', username: user, password: credential.password } };
  }

  /**
   * What the integration tests get: the admin principal (KAFKA_SASL_*, the password itself too: the test kit reads
   * it from the environment), where every principal's password file is (PAYRAIL_KAFKA_CREDENTIALS_DIR, for the ACL
   * refusal test), the same admin as the SCRAM test's user (KAFKA_SCRAM_*), and PAYRAIL_RUN_KEY_PREFIX, the prefix
   * their own key prefixes start with (so this run removes their keys too).
   */
  testEnv() {
    const admin = this.infra.kafkaCredentials.users[KAFKA_ADMIN_USER];
    return {
      ...this.infraEnv(),
      KAFKA_SASL_PASSWORD: admin.password,
      PAYRAIL_KAFKA_CREDENTIALS_DIR: this.infra.kafkaCredentials.dir,
      KAFKA_SCRAM_BROKERS: this.infra.kafkaBrokers,
      KAFKA_SCRAM_USERNAME: admin.username,
      KAFKA_SCRAM_PASSWORD: admin.password,
      PAYRAIL_RUN_KEY_PREFIX: this.infra.redisKeyPrefix,
    };
  }

  /** The well-known ports when free (interactive use), or any free ports (tests, next to a running stack). */
  async allocatePorts({ preferWellKnown = true } = {}) {
    this.ports = {};
    const wellKnown = { ingest: 8080, signing: 8081, 'fraud-check': 8082, settlement: 8083, console: 8084 };
    for (const name of SERVICES) this.ports[name] = await freePort(preferWellKnown ? wellKnown[name] : undefined);
    return this.ports;
  }

  /** Restarts the local broker on the same storage (SIGTERM, or SIGKILL with kill: true). */
  async restartKafka({ kill = false } = {}) {
    if (!this.kafka) throw new Error('restartKafka: the broker is not a local process of this run');
    const pid = await this.kafka.restart({ kill });
    this.pids.record('kafka', pid, 'kafka.Kafka');
    this.infra.kafkaPid = pid;
  }

  /** Restarts this run's private Redis empty (it keeps nothing on disk), as after a crash. */
  async restartRedis() {
    if (!this.redis?.started || !this.redis.restart) throw new Error('restartRedis: only a private Redis of this run can be restarted');
    const pid = await this.redis.restart();
    this.pids.record('redis', pid, 'redis-server');
  }

  /**
   * The whole pipeline: build, infrastructure, development keys, topics, ports, the four services and, when asked
   * (npm start), the operator console.
   */
  async up({ preferWellKnown = true, withConsole = false } = {}) {
    this.build();
    await this.startInfra();
    this.devSetup();
    this.ensureTopics();
    await this.allocatePorts({ preferWellKnown });
    await this.startServices({ withConsole });
  }

  /** Keeps this process (and its signal handlers) alive: the processes it started are detached children. */
  untilSignal() {
    return new Promise(() => setInterval(() => {}, 60_000));
  }

  /**
   * Event seals (docs/security.md): the producer's own private sealing JWKS, and the public sealing JWKS of the
   * producers whose events this service consumes.
   */
  sealEnv(name) {
    const k = this.keys;
    switch (name) {
      case 'ingest':
        // its own seal, and the producers its status read model believes (with SIGNING_JWKS_URL: serviceEnv)
        return { EVENT_SEAL_KEYS_FILE: k.ingestSealPrivateJwks, FRAUD_CHECK_SEAL_JWKS_FILE: k.fraudCheckSealPublicJwks, SETTLEMENT_SEAL_JWKS_FILE: k.settlementSealPublicJwks };
      case 'signing':
        return { INGEST_SEAL_JWKS_FILE: k.ingestSealPublicJwks, SETTLEMENT_SEAL_JWKS_FILE: k.settlementSealPublicJwks };
      case 'fraud-check':
        return { EVENT_SEAL_KEYS_FILE: k.fraudCheckSealPrivateJwks };
      case 'settlement':
        return { EVENT_SEAL_KEYS_FILE: k.settlementSealPrivateJwks, FRAUD_CHECK_SEAL_JWKS_FILE: k.fraudCheckSealPublicJwks };
      case 'payrail-cli':
        // `payrail settlement reconcile / rebuild`: fraud-check's decisions and settlement's own events, verified
        return { FRAUD_CHECK_SEAL_JWKS_FILE: k.fraudCheckSealPublicJwks, SETTLEMENT_SEAL_JWKS_FILE: k.settlementSealPublicJwks };
      default:
        return {};
    }
  }

  serviceEnv(name) {
    // each service as its own Kafka principal, with exactly the ACLs of the table
    const common = { ...this.infraEnv(), ...this.kafkaEnv(`payrail-${name}`), ...this.sealEnv(name), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(this.ports[name]), LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', NODE_ENV: 'production' };
    const jwksUrl = `http://127.0.0.1:${this.ports.signing}/.well-known/jwks.json`;
    switch (name) {
      case 'ingest':
        return { ...common, SIGNING_JWKS_URL: jwksUrl, UPSTREAMS_DIR: this.keys.upstreamsDir, PROTECTION_JWKS_FILE: this.keys.protectionPublicJwks, FINGERPRINT_KEY_FILE: this.keys.fingerprintKeyFile, INGEST_INBOUND_JWE_KEYS_FILE: this.keys.ingestInboundPrivateJwks };
      case 'signing':
        return { ...common, SIGNING_KEYS_FILE: this.keys.signingPrivateJwks };
      case 'fraud-check':
        return { ...common, SIGNING_JWKS_URL: jwksUrl, RULES_FILE: join(repoRoot, 'apps/fraud-check/rules/ruleset.json'), FRAUD_OPERATORS_FILE: this.keys.fraudOperatorsFile };
      case 'settlement':
        return { ...common, SIGNING_JWKS_URL: jwksUrl, SETTLEMENT_API_CLIENTS_FILE: this.keys.settlementApiClientsFile };
      case 'console':
        return {
          ...common,
          CONSOLE_USERS_FILE: this.keys.consoleUsersFile,
          CONSOLE_SESSION_KEY_FILE: this.keys.consoleSessionKeyFile,
          CONSOLE_COOKIE_SECURE: 'false', // plain HTTP on 127.0.0.1: no __Host- prefix, no Secure (docs/console.md)
          SIGNING_JWKS_URL: jwksUrl,
          CONSOLE_HEALTH_URLS: ['ingest', 'signing', 'fraud-check', 'settlement'].map((n) => `${n}=http://127.0.0.1:${this.ports[n]}`).join(','),
          FRAUD_ADMIN_URL: `http://127.0.0.1:${this.ports['fraud-check']}`,
          FRAUD_ADMIN_TOKEN_FILE: this.keys.consoleFraudTokenFile,
          SETTLEMENT_URL: `http://127.0.0.1:${this.ports.settlement}`,
          SETTLEMENT_API_TOKEN_FILE: this.keys.consoleSettlementTokenFile,
        };
      default:
        throw new Error(`unknown service ${name}`);
    }
  }

  /** Starts one service instance as its own process; logs go to .payrail/<run>/logs/<instance>.log. */
  async startService(name, { instance = name, extraEnv = {} } = {}) {
    const logsDir = join(this.runDir, 'logs');
    mkdirSync(logsDir, { recursive: true });
    const logFile = join(logsDir, `${instance}.log`);
    const out = openSync(logFile, 'a');
    // ingest serves /metrics on its operations listener only (OPS_PORT), never on its public port
    const opsEnv = name === 'ingest' ? { OPS_PORT: String(extraEnv.OPS_PORT ?? (await freePort())) } : {};
    // PAYRAIL_CPU_PROF_DIR (npm run bench -- --profile): a V8 CPU profile per process, written when it exits cleanly
    const profDir = process.env.PAYRAIL_CPU_PROF_DIR;
    const profile = profDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, instance)}`] : [];
    const child = spawn('node', [...profile, '--enable-source-maps', `dist/apps/${name}/main.js`], {
      cwd: repoRoot,
      env: { ...process.env, ...this.serviceEnv(name), ...opsEnv, ...extraEnv },
      stdio: ['ignore', out, out],
      detached: true,
    });
    child.unref();
    this.pids.record(instance, child.pid, `dist/apps/${name}/main.js`);
    const port = Number(extraEnv.HTTP_PORT ?? this.ports[name]);
    const entry = { name, instance, child, logFile, port, metricsPort: Number(opsEnv.OPS_PORT ?? port), exited: false };
    child.once('exit', (code, signal) => { entry.exited = true; entry.exit = { code, signal }; });
    this.services.set(instance, entry);
    return entry;
  }

  async waitReady(entry, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (entry.exited) throw new Error(`${entry.instance} exited (${JSON.stringify(entry.exit)}) before it was ready; see ${entry.logFile}:\n${tailFile(entry.logFile)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${entry.port}/health/ready`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(200);
    }
    throw new Error(`${entry.instance} not ready within ${timeoutMs / 1000} s; see ${entry.logFile}:\n${tailFile(entry.logFile)}`);
  }

  /** One more instance of a service on a free port (scale-out), ready when this resolves. */
  async addInstance(name, instance) {
    const entry = await this.startService(name, { instance, extraEnv: { HTTP_PORT: String(await freePort()) } });
    await this.waitReady(entry);
    return entry;
  }

  /** Starts a stopped instance again with the same name and port. */
  async restartInstance(entry) {
    const restarted = await this.startService(entry.name, { instance: entry.instance, extraEnv: { HTTP_PORT: String(entry.port), ...(entry.metricsPort !== entry.port ? { OPS_PORT: String(entry.metricsPort) } : {}) } });
    await this.waitReady(restarted);
    return restarted;
  }

  /**
   * The four services; the console too only when asked (npm start, the e2e layer): it would take CPU from measurements.
   * `extraEnv` goes to each (e.g. the OTEL_* variables when the e2e layer traces; tracing is off otherwise).
   */
  async startServices({ withConsole = false, extraEnv = {} } = {}) {
    // signing first: the others read its JWKS at start-up
    const signing = await this.startService('signing', { extraEnv });
    await this.waitReady(signing);
    const others = await Promise.all(['ingest', 'fraud-check', 'settlement', ...(withConsole ? ['console'] : [])].map((n) => this.startService(n, { extraEnv })));
    await Promise.all(others.map((e) => this.waitReady(e)));
  }

  async stopService(instance, signal = 'SIGTERM') {
    const entry = this.services.get(instance);
    if (!entry) return;
    if (!entry.exited) {
      if (signal === 'SIGKILL') {
        try { process.kill(entry.child.pid, 'SIGKILL'); } catch { /* gone */ }
      } else {
        await stopProcess(entry.child.pid, 30_000);
      }
    }
    this.pids.forget(instance);
    this.services.delete(instance);
  }

  /** Services first (they drain into Kafka), then the infrastructure, in reverse order of start. */
  stop() {
    this.stopping ??= (async () => {
      await Promise.all([...this.services.keys()].map((i) => this.stopService(i)));
      while (this.stoppers.length > 0) {
        const stopper = this.stoppers.pop();
        try { await stopper(); } catch (err) { log(`stop: ${err.message}`); }
      }
    })();
    return this.stopping;
  }

}

function tailFile(file, lines = 20) {
  try {
    return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
  } catch {
    return '(no log)';
  }
}
