// Runs real fraud-check instances in the test process against the real Kafka broker and Redis of the integration
// layer (KAFKA_BROKERS, REDIS_URL): the same module, transport and consumer group as the service, its own Redis
// key prefix, Payrail signing keys generated for the run (their public JWKS mounted as SIGNING_JWKS_FILE), and
// a reader of the screened and security-alert topics that waits for a payment's events.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { PaymentInstruction, PaymentScreened, PaymentSigned, SecurityAlert, TOPICS, EVENT_SEAL_TYPES } from '@payrail/contracts';
import { JwsSigner, PayrailKeyStore, generateDevKeys, EventSealVerifier, writeSealKeys } from '@payrail/crypto';
import { EventProducer, Kafka, Redis, createKafka, kafkaClientEnv, kafkaConnectionFromProcessEnv, createRedis, decode, ensureTopics } from '@payrail/messaging';
import { connectConsumerGroups } from '@payrail/messaging-nest';
import { ProblemDetailsFilter, fastifyTrustProxy } from '@payrail/platform';
import { FraudCheckAppModule } from '../src/app.module';
import { FraudCheckConfig, loadFraudCheckConfig } from '../src/config';
import { AdminScope, newOperatorToken } from '../src/admin/operators';

export const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
export const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export interface Received<T> {
  key: string | undefined;
  eventId: string;
  data: T;
}

/** Reads the screened and security-alert topics from the beginning and keeps what concerns this run's payments. */
export class FraudEventsReader {
  private readonly screened = new Map<string, Received<PaymentScreened>[]>();
  private readonly alerts = new Map<string, Received<SecurityAlert>[]>();
  private readonly waiters = new Set<() => void>();
  private readonly consumer;

  constructor(kafka: Kafka) {
    this.consumer = kafka.consumer({ groupId: `fraud-test-reader-${randomUUID()}`, maxWaitTimeInMs: 50 });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [TOPICS.paymentsScreened.name, TOPICS.securityAlerts.name], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        const contract = topic === TOPICS.paymentsScreened.name ? TOPICS.paymentsScreened : TOPICS.securityAlerts;
        const { envelope, data } = decode(contract, message);
        const key = message.key?.toString('utf8');
        if (topic === TOPICS.paymentsScreened.name) {
          const d = data as PaymentScreened;
          this.screened.set(d.payment_id, [...(this.screened.get(d.payment_id) ?? []), { key, eventId: envelope.id, data: d }]);
        } else {
          const d = data as SecurityAlert;
          const id = d.payment_id ?? '';
          this.alerts.set(id, [...(this.alerts.get(id) ?? []), { key, eventId: envelope.id, data: d }]);
        }
        for (const wake of this.waiters) wake();
      },
    });
  }

  screenedOf(paymentId: string): Received<PaymentScreened>[] {
    return this.screened.get(paymentId) ?? [];
  }

  alertsOf(paymentId: string): Received<SecurityAlert>[] {
    return this.alerts.get(paymentId) ?? [];
  }

  /** Waits until `done` holds (re-checked on every message), or fails after `timeoutMs`. */
  async until<T>(what: string, done: () => T | undefined, timeoutMs = 60_000): Promise<T> {
    const first = done();
    if (first !== undefined) return first;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        const value = done();
        if (value === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      this.waiters.add(check);
    });
  }

  /** The first screened event of a payment (the rule set's decision). */
  decision(paymentId: string, timeoutMs?: number): Promise<Received<PaymentScreened>> {
    return this.until(`the decision on ${paymentId}`, () => this.screenedOf(paymentId)[0], timeoutMs);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

export interface HarnessOptions {
  ruleset: unknown;
  instances?: number;
  /** Operators of the admin API; tokens are generated and returned. */
  operators?: { id: string; role?: 'read' | 'write'; scopes?: AdminScope[] }[];
  /** More configuration (e.g. the admin API's CLIENT_AUTH_FAILURE_LIMIT_*). */
  env?: Record<string, string>;
}

export class FraudCheckHarness {
  readonly apps: NestFastifyApplication[] = [];
  readonly tokens = new Map<string, string>();
  readonly reader: FraudEventsReader;
  readonly redis: Redis;
  private readonly producer: EventProducer;
  private signer!: JwsSigner;
  private config!: FraudCheckConfig;
  /** Verifies fraud-check's decision seals with its public sealing JWKS, as settlement does. */
  sealVerifier!: EventSealVerifier;

  private constructor(
    readonly dir: string,
    readonly rulesFile: string,
    readonly prefix: string,
    private readonly kafka: Kafka,
  ) {
    this.reader = new FraudEventsReader(kafka);
    this.producer = new EventProducer(kafka, { source: 'payrail/test-signing', lingerMs: 2 });
    this.redis = createRedis({ url: redisUrl, keyPrefix: prefix }, 'fraud-test');
  }

  static async start(options: HarnessOptions): Promise<FraudCheckHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'payrail-fraud-'));
    // kafkajs' own warnings (a new group's coordinator not ready yet) would drown the test output
    const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'payrail-fraud-test'), { warn: () => undefined, error: () => undefined });
    await ensureTopics(kafka);
    const h = new FraudCheckHarness(dir, join(dir, 'ruleset.json'), `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}fraud-${randomUUID().slice(0, 8)}:`, kafka);
    h.writeRules(options.ruleset);
    const keys = await generateDevKeys({ alg: 'ES256', withEncryptionKey: false });
    writeFileSync(join(dir, 'payrail.jwks.json'), JSON.stringify(keys.publicJwks));
    h.signer = new JwsSigner(await PayrailKeyStore.fromJwks(keys.privateJwks, { source: 'test signing keys' }));
    const operators = (options.operators ?? []).map((o) => {
      const { token, operator } = newOperatorToken(o.id, o.scopes ?? o.role ?? 'read');
      h.tokens.set(o.id, token);
      return operator;
    });
    writeFileSync(join(dir, 'operators.json'), JSON.stringify({ operators }));
    const seals = await writeSealKeys(join(dir, 'fraud-check-seal'));
    h.sealVerifier = new EventSealVerifier(await PayrailKeyStore.fromFile(seals.publicFile), EVENT_SEAL_TYPES.paymentScreened);
    h.config = loadFraudCheckConfig({
      ...kafkaClientEnv(process.env),
      KAFKA_BROKERS: brokers.join(','),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: h.prefix,
      SIGNING_JWKS_FILE: join(dir, 'payrail.jwks.json'),
      RULES_FILE: h.rulesFile,
      EVENT_SEAL_KEYS_FILE: seals.privateFile,
      FRAUD_OPERATORS_FILE: join(dir, 'operators.json'),
      LOG_LEVEL: process.env['FRAUD_TEST_LOG_LEVEL'] ?? 'fatal',
      ...options.env,
    });
    await Promise.all([h.producer.connect(), h.redis.connect(), h.reader.start()]);
    for (let i = 0; i < (options.instances ?? 1); i++) await h.startInstance();
    return h;
  }

  /** Writes the rules file (an object as JSON, a string as it is). */
  writeRules(ruleset: unknown): void {
    writeFileSync(this.rulesFile, typeof ruleset === 'string' ? ruleset : JSON.stringify(ruleset, null, 2));
  }

  /** Polls an instance's admin API until `done` holds for what GET /admin/v1/rules answers. */
  async untilRules(as: string, done: (rules: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.admin('GET', '/admin/v1/rules', as);
      if (done(res.body)) return res.body;
      if (Date.now() > deadline) throw new Error(`rules never matched; last: ${JSON.stringify(res.body).slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** One more fraud-check instance (same consumer group, same Redis prefix). */
  async startInstance(): Promise<NestFastifyApplication> {
    // as bootstrapService: X-Forwarded-For believed only from TRUSTED_PROXIES (none unless a test sets it)
    const app = await NestFactory.create<NestFastifyApplication>(FraudCheckAppModule.forRoot(this.config), new FastifyAdapter({ trustProxy: fastifyTrustProxy(this.config.http.trustedProxies) }), { logger: false });
    app.useGlobalFilters(new ProblemDetailsFilter());
    connectConsumerGroups(app, 'fraudCheck');
    await app.listen(0, '127.0.0.1');
    await app.startAllMicroservices();
    this.apps.push(app);
    return app;
  }

  async stopInstance(app: NestFastifyApplication): Promise<void> {
    const i = this.apps.indexOf(app);
    if (i >= 0) this.apps.splice(i, 1);
    await app.close();
  }

  url(path: string, app: NestFastifyApplication | undefined = this.apps[0]): string {
    if (!app) throw new Error('no instance running');
    const address = app.getHttpServer().address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    return `http://127.0.0.1:${address.port}${path}`;
  }

  /** An admin call as the named operator (or with the given Authorization header), optionally acting for a person. */
  async admin(method: string, path: string, as: string | { authorization?: string; operator?: string; onBehalfOf?: string }, body?: unknown): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
    const token = (name: string) => `Bearer ${this.tokens.get(name) ?? 'unknown'}`;
    const authorization = typeof as === 'string' ? token(as) : as.operator ? token(as.operator) : as.authorization;
    const headers: Record<string, string> = {};
    if (typeof as !== 'string' && as.onBehalfOf !== undefined) headers['x-payrail-on-behalf-of'] = as.onBehalfOf;
    if (authorization) headers['authorization'] = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  sign(instruction: PaymentInstruction): PaymentSigned {
    const jws = this.signer.sign(instruction);
    return { payment_id: instruction.payment_id, kid: this.signer.kid, instruction_jws: jws };
  }

  /** Publishes the signed instruction as signing does: keyed by payer fingerprint. */
  async publish(signed: PaymentSigned, payerFingerprint: string): Promise<void> {
    await this.producer.publish(TOPICS.paymentsSigned, signed, { key: payerFingerprint, correlationId: signed.payment_id, eventId: `${signed.payment_id}:signed` });
  }

  /** Puts screened events on the screened topic as they are (forgeries: fraud-check never published them). */
  async publishScreened(events: PaymentScreened[]): Promise<void> {
    for (const e of events) await this.producer.publish(TOPICS.paymentsScreened, e, { key: e.merchant_id, correlationId: e.payment_id, eventId: `${e.payment_id}:screened:auto` });
  }

  async submit(instruction: PaymentInstruction): Promise<PaymentSigned> {
    const signed = this.sign(instruction);
    await this.publish(signed, instruction.payer.fingerprint);
    return signed;
  }

  async stop(): Promise<void> {
    await Promise.all(this.apps.splice(0).map((app) => app.close()));
    await this.reader.stop();
    await this.producer.disconnect();
    const keys = await this.redis.keys(`${this.prefix}*`);
    for (let i = 0; i < keys.length; i += 500) await this.redis.del(...keys.slice(i, i + 500).map((k) => k.slice(this.prefix.length)));
    await this.redis.quit();
  }
}
