// Real ingest instances for integration tests and the benchmark: the production module on Fastify, listening on a
// loopback port, talking to the real Kafka (KAFKA_BROKERS) and Redis (REDIS_URL) with its own key prefix. Keys,
// upstream registrations and the fingerprint key are generated in a temporary directory.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { EVENT_SEAL_TYPES, PAYMENT_INSTRUCTION_JWS_TYPE } from '@payrail/contracts';
import { EventSealer, JwsSigner, PayrailKeyStore, writeDevKeys, writeSealKeys } from '@payrail/crypto';
import { Kafka, createKafka, ensureTopics, kafkaClientEnv, kafkaConnectionFromProcessEnv } from '@payrail/messaging';
import { MessagingRuntime, connectConsumerGroupsWith } from '@payrail/messaging-nest';
import { ProblemDetailsFilter, fastifyTrustProxy } from '@payrail/platform';
import { DEMO_MERCHANT_IDS, UpstreamClient, UpstreamLimits, writeUpstreamRegistration } from '@payrail/upstream-sdk';
import { IngestAppModule } from '../src/app.module';
import { IngestConfig, loadIngestConfig } from '../src/config';
import { configureIngestHttp } from '../src/http';
import { OpsListener } from '../src/ops/ops-listener';
import { PayerProtection } from '../src/payments/payer-protection';

/** Keys of the stages after ingest, as a test plays them: signing's, fraud-check's and settlement's. */
export interface StatusPeers {
  signingPublicJwks: string;
  signer: JwsSigner;
  fraudCheckSealPublicJwks: string;
  fraudCheckSealer: EventSealer;
  settlementSealPublicJwks: string;
  settlementSealer: EventSealer;
}

export interface UpstreamFixture {
  id: string;
  privateJwks: string;
  publicJwks: string;
}

/** Keys and registrations on disk, shared by every instance of one test. */
export class IngestFixture {
  readonly redisKeyPrefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}ingest-${randomUUID().slice(0, 8)}:`;
  private constructor(
    readonly dir: string,
    readonly upstreamsDir: string,
    readonly protectionPublicJwks: string,
    readonly protectionPrivateJwks: string,
    readonly fingerprintKeyFile: string,
    /** ingest's sealing keys (EVENT_SEAL_KEYS_FILE), and their public half as signing reads it. */
    readonly sealPrivateJwks: string,
    readonly sealPublicJwks: string,
    /** The producers the status read model believes: Payrail's signing keys, fraud-check's and settlement's seals. */
    readonly peers: StatusPeers,
    /** ingest's inbound encryption keys (INGEST_INBOUND_JWE_KEYS_FILE), and the public JWKS upstreams encrypt to. */
    readonly inboundPrivateJwks: string,
    readonly inboundPublicJwks: string,
  ) {}

  static async create(): Promise<IngestFixture> {
    const dir = mkdtempSync(join(tmpdir(), 'payrail-ingest-'));
    const protection = await writeDevKeys(join(dir, 'protection'), { alg: 'ES256', withEncryptionKey: true });
    const fingerprintKeyFile = join(dir, 'fingerprint.key');
    writeFileSync(fingerprintKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    mkdirSync(join(dir, 'upstreams'));
    const seal = await writeSealKeys(join(dir, 'ingest-seal'));
    const inbound = await writeDevKeys(join(dir, 'inbound'), { withSigningKey: false });
    const signing = await writeDevKeys(join(dir, 'signing'), { alg: 'ES256' });
    const [fraudCheck, settlement] = await Promise.all([writeSealKeys(join(dir, 'fraud-check-seal')), writeSealKeys(join(dir, 'settlement-seal'))]);
    const peers: StatusPeers = {
      signingPublicJwks: signing.publicPath,
      signer: new JwsSigner(await PayrailKeyStore.fromFile(signing.privatePath), { typ: PAYMENT_INSTRUCTION_JWS_TYPE }),
      fraudCheckSealPublicJwks: fraudCheck.publicFile,
      fraudCheckSealer: await fraudCheck.sealer(EVENT_SEAL_TYPES.paymentScreened),
      settlementSealPublicJwks: settlement.publicFile,
      settlementSealer: await settlement.sealer(EVENT_SEAL_TYPES.paymentSettled),
    };
    return new IngestFixture(dir, join(dir, 'upstreams'), protection.publicPath, protection.privatePath, fingerprintKeyFile, seal.privateFile, seal.publicFile, peers, inbound.privatePath, inbound.publicPath);
  }

  /** A new upstream with a unique id: its key pair and its registration (picked up by running instances too). */
  async addUpstream(name: string, limits?: UpstreamLimits, merchants: readonly string[] = DEMO_MERCHANT_IDS): Promise<UpstreamFixture> {
    const id = `${name}-${randomUUID().slice(0, 8)}`;
    const keys = await writeDevKeys(join(this.dir, 'upstream-keys', id), { alg: 'ES256' });
    writeUpstreamRegistration(this.upstreamsDir, id, keys.publicPath, { merchants, limits });
    return { id, privateJwks: keys.privatePath, publicJwks: keys.publicPath };
  }

  env(extra: Record<string, string> = {}): Record<string, string | undefined> {
    return {
      ...kafkaClientEnv(process.env),
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
      REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: this.redisKeyPrefix,
      UPSTREAMS_DIR: this.upstreamsDir,
      PROTECTION_JWKS_FILE: this.protectionPublicJwks,
      FINGERPRINT_KEY_FILE: this.fingerprintKeyFile,
      EVENT_SEAL_KEYS_FILE: this.sealPrivateJwks,
      SIGNING_JWKS_FILE: this.peers.signingPublicJwks,
      FRAUD_CHECK_SEAL_JWKS_FILE: this.peers.fraudCheckSealPublicJwks,
      SETTLEMENT_SEAL_JWKS_FILE: this.peers.settlementSealPublicJwks,
      INGEST_INBOUND_JWE_KEYS_FILE: this.inboundPrivateJwks,
      LOG_LEVEL: process.env['INGEST_TEST_LOG_LEVEL'] ?? 'warn',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '8080', // unused: instances listen on a free port
      OPS_PORT: '0', // any free port: several instances run in one process
      ...extra,
    };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface IngestInstance {
  app: NestFastifyApplication;
  config: IngestConfig;
  url: string;
  /** The operations listener: /metrics, /health/*, /docs. */
  opsUrl: string;
  client(upstream: UpstreamFixture): Promise<UpstreamClient>;
  close(): Promise<void>;
}

/**
 * One ingest instance as main.ts builds it. Without `consumeInbound` it has no Kafka consumers (the tests drive
 * HTTP); with it, it consumes the inbound topic (with `consumeStatus`, the status topics), and the call returns once
 * partitions are assigned.
 */
export async function startIngest(fixture: IngestFixture, extraEnv: Record<string, string> = {}, opts: { consumeInbound?: boolean; consumeStatus?: boolean } = {}): Promise<IngestInstance> {
  const config = loadIngestConfig(fixture.env(extraEnv));
  // as bootstrapService: X-Forwarded-For believed only from TRUSTED_PROXIES (none unless a test sets it)
  const adapter = new FastifyAdapter({ bodyLimit: config.bodyLimitBytes, trustProxy: fastifyTrustProxy(config.http.trustedProxies) });
  const app = await NestFactory.create<NestFastifyApplication>(IngestAppModule.forRoot(config), adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ProblemDetailsFilter());
  await configureIngestHttp(app);
  const groups: ('ingestInbound' | 'ingestStatus')[] = [...(opts.consumeInbound ? (['ingestInbound'] as const) : []), ...(opts.consumeStatus ? (['ingestStatus'] as const) : [])];
  // as main.ts: dead letters of the inbound topic are sealed to the data-protection key
  if (groups.length > 0) connectConsumerGroupsWith(app, { protectDeadLetterValue: (value) => app.get(PayerProtection).sealDeadLetter(value) }, ...groups);
  await app.listen(0, '127.0.0.1');
  if (groups.length > 0) {
    await app.startAllMicroservices();
    const runtime = app.get(MessagingRuntime);
    const deadline = Date.now() + 60_000;
    while (!(await runtime.health()).ready) {
      if (Date.now() > deadline) throw new Error(`the consumers (${groups.join(', ')}) did not get partitions within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('ingest is not listening on a TCP port');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    config,
    url,
    opsUrl: `http://127.0.0.1:${app.get(OpsListener).port}`,
    client: (upstream) => UpstreamClient.open(upstream.id, upstream.privateJwks, url),
    close: () => app.close(),
  };
}

/** Makes sure Payrail's topics exist on the test broker (npm test creates them too; this keeps a test self-contained). */
export async function ensurePayrailTopics(): Promise<void> {
  const kafka = testKafka('payrail-ingest-test-admin');
  await ensureTopics(kafka);
}

export function testKafka(clientId: string): Kafka {
  return createKafka(kafkaConnectionFromProcessEnv(process.env, clientId));
}

/** A message as a test reads it back: key, value and headers as text. */
export interface SeenMessage {
  key: string | undefined;
  value: string;
  headers: Record<string, string>;
}

/**
 * The messages of `topic` (from its start) that `keep` selects, once `count` of them arrived or `timeoutMs` passed,
 * then `settleMs` more, so that anything beyond what was expected would show up too.
 */
export async function readTopic(topic: string, keep: (message: SeenMessage) => boolean, opts: { count: number; settleMs?: number; timeoutMs?: number }): Promise<SeenMessage[]> {
  const consumer = testKafka(`ingest-test-reader-${randomUUID().slice(0, 8)}`).consumer({ groupId: `ingest-test-reader-${randomUUID()}` });
  const found: SeenMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]));
        const seen = { key: message.key?.toString('utf8'), value: message.value?.toString('utf8') ?? '', headers };
        if (keep(seen)) found.push(seen);
      },
    });
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    while (found.length < opts.count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
    return found;
  } finally {
    await consumer.disconnect();
  }
}

/** The JSON value of a message read back, or undefined when it is not JSON. */
export function jsonValue<T>(message: SeenMessage): T | undefined {
  try {
    return JSON.parse(message.value) as T;
  } catch {
    return undefined;
  }
}
