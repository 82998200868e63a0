// Test fixtures for settlement: Payrail signing keys written to a temp dir (the service reads the public JWKS
// file), signed payment instructions, screened events as fraud-check publishes them, and an in-process settlement
// instance wired like main.ts (own Kafka client, consumer groups and Redis connection per instance).
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { EVENT_SEAL_TYPES, PaymentInstruction, PaymentScreened, PaymentSettled, SettlementBatchReport } from '@payrail/contracts';
import { EventSealVerifier, EventSealer, JwsSigner, PayrailKeyStore, writeDevKeys, writeSealKeys } from '@payrail/crypto';
import { LedgerEvidence, LedgerKeys, PayloadVerifier, ledgerEvidence } from '@payrail/ledger';
import { createRedis, kafkaClientEnv } from '@payrail/messaging';
import { connectConsumerGroups } from '@payrail/messaging-nest';
import { ProblemDetailsFilter, fastifyTrustProxy } from '@payrail/platform';
import { SettlementAppModule } from '../src/app.module';
import { loadSettlementConfig } from '../src/config';
import { serveOpenApi, settlementOpenApi } from '../src/http/openapi';
import { newApiClientToken } from '../src/http/api-clients';

/** The test's API client of the operators API (SETTLEMENT_API_CLIENTS holds its hash). */
const apiClient = newApiClientToken('test-operator', ['ledger:read']);
export const OPERATOR_TOKEN = apiClient.token;

/**
 * Payments as the stages before settlement hand them over: instructions signed with Payrail keys of its own, and
 * screened events sealed with fraud-check sealing keys of its own (each factory is a separate "Payrail", so a
 * settlement instance configured with one factory's keys takes another factory's events for forgeries).
 */
export class PaymentFactory {
  private constructor(
    private readonly signer: JwsSigner,
    readonly publicJwksFile: string,
    private readonly decisionSealer: EventSealer,
    /** fraud-check's public sealing JWKS (settlement's FRAUD_CHECK_SEAL_JWKS_FILE). */
    readonly fraudCheckSealJwksFile: string,
    /** settlement's own sealing keys (EVENT_SEAL_KEYS_FILE) and their public half (as signing reads it). */
    readonly settlementSealKeysFile: string,
    readonly settlementSealJwksFile: string,
    /** A sealer with settlement's key for decisions: the wrong service's key. */
    readonly settlementSealingDecisions: EventSealer,
    private readonly settledSealer: EventSealer,
    private readonly reportSealer: EventSealer,
  ) {}

  static async create(): Promise<PaymentFactory> {
    const dir = mkdtempSync(join(tmpdir(), 'payrail-settlement-test-'));
    const keys = await writeDevKeys(join(dir, 'signing'), { alg: 'ES256' });
    const fraudCheck = await writeSealKeys(join(dir, 'fraud-check-seal'));
    const settlement = await writeSealKeys(join(dir, 'settlement-seal'));
    return new PaymentFactory(
      new JwsSigner(await PayrailKeyStore.fromFile(keys.privatePath)),
      keys.publicPath,
      await fraudCheck.sealer(EVENT_SEAL_TYPES.paymentScreened),
      fraudCheck.publicFile,
      settlement.privateFile,
      settlement.publicFile,
      await settlement.sealer(EVENT_SEAL_TYPES.paymentScreened),
      await settlement.sealer(EVENT_SEAL_TYPES.paymentSettled),
      await settlement.sealer(EVENT_SEAL_TYPES.settlementBatchReport),
    );
  }

  /** The key files a settlement instance trusting this factory is configured with. */
  keysEnv(): Record<string, string> {
    return { SIGNING_JWKS_FILE: this.publicJwksFile, EVENT_SEAL_KEYS_FILE: this.settlementSealKeysFile, FRAUD_CHECK_SEAL_JWKS_FILE: this.fraudCheckSealJwksFile };
  }

  /** Seals a screened event as fraud-check does (replacing any seal it had). */
  seal(screened: PaymentScreened): PaymentScreened {
    return this.decisionSealer.seal(screened);
  }

  /** A settled event or a batch report sealed as settlement (this factory's settlement keys) seals it. */
  sealSettled(settled: PaymentSettled): PaymentSettled {
    return this.settledSealer.seal(settled);
  }

  sealReport(report: SettlementBatchReport): SettlementBatchReport {
    return this.reportSealer.seal(report);
  }

  /** What settlement gives a ledger restore: this factory's fraud-check and settlement seals, Payrail's signature. */
  async evidence(verifyPayload: PayloadVerifier): Promise<LedgerEvidence> {
    const [fraudCheck, settlement] = await Promise.all([PayrailKeyStore.fromFile(this.fraudCheckSealJwksFile), PayrailKeyStore.fromFile(this.settlementSealJwksFile)]);
    return ledgerEvidence(
      {
        decisions: new EventSealVerifier(fraudCheck, EVENT_SEAL_TYPES.paymentScreened),
        settled: new EventSealVerifier(settlement, EVENT_SEAL_TYPES.paymentSettled),
        reports: new EventSealVerifier(settlement, EVENT_SEAL_TYPES.settlementBatchReport),
      },
      verifyPayload,
    );
  }

  instruction(merchantId: string, minor: bigint, currency = 'EUR'): PaymentInstruction {
    const paymentId = randomUUID();
    return {
      payment_id: paymentId,
      upstream_id: 'psp-test',
      upstream_reference: `ref-${paymentId.slice(0, 8)}`,
      accepted_at: new Date().toISOString(),
      amount: { minor: minor.toString(), currency: currency as PaymentInstruction['amount']['currency'] },
      payer: { type: 'card', fingerprint: 'f'.repeat(64), masked: '4111********1111', bin: '4111', country: 'DE', expiry: '2027-09', protected_jwe: 'eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSJ9..aXY.Y2lwaGVydGV4dA.dGFn' },
      payee: { merchant_id: merchantId, mcc: '5411', country: 'DE' },
      upstream_verification: { kid: 'psp-test-1', alg: 'ES256', jti: randomUUID(), iat: Math.floor(Date.now() / 1000) },
      signed_at: new Date().toISOString(),
    };
  }

  /** The screened event fraud-check publishes for the instruction, sealed. */
  screened(instruction: PaymentInstruction, decision: PaymentScreened['decision'], opts: { screenedAt?: string; review?: PaymentScreened['review'] } = {}): PaymentScreened {
    return this.seal({
      payment_id: instruction.payment_id,
      merchant_id: instruction.payee.merchant_id,
      amount: instruction.amount,
      decision,
      score: decision === 'APPROVE' ? 0 : 100,
      reasons: [],
      ruleset_version: 'test',
      screened_at: opts.screenedAt ?? new Date().toISOString(),
      ...(opts.review ? { review: opts.review } : {}),
      instruction_jws: this.signer.sign(instruction),
    });
  }
}

export function settlementEnv(overrides: Record<string, string>): Record<string, string> {
  return {
    // the test run's Kafka principal (KAFKA_SASL_*), as the tests' own clients connect
    ...kafkaClientEnv(process.env),
    KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '8083',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'warn',
    SETTLEMENT_API_CLIENTS: JSON.stringify({ clients: [apiClient.client] }),
    ...overrides,
  };
}

/**
 * A new, empty ledger under a fresh key prefix on the shared test bus: its epoch is written first, as a first
 * deployment's would be. Without it the instance would take the missing epoch for a lost ledger and restore it
 * from the whole bus, every other test's payments included (the flush test relies on that restore).
 */
export async function declareNewLedger(config: ReturnType<typeof loadSettlementConfig>): Promise<void> {
  const redis = createRedis(config.redis, 'settlement-test-fixture');
  await redis.connect();
  try {
    await redis.set(LedgerKeys.epoch, randomUUID(), 'NX');
  } finally {
    await redis.quit();
  }
}

/** One settlement instance in this process, as main.ts wires it; HTTP on an ephemeral port. */
export async function startSettlement(env: Record<string, string>): Promise<{ app: NestFastifyApplication; url: string }> {
  const config = loadSettlementConfig(env);
  await declareNewLedger(config);
  // as bootstrapService: X-Forwarded-For believed only from TRUSTED_PROXIES (none unless a test sets it)
  const app = await NestFactory.create<NestFastifyApplication>(SettlementAppModule.forRoot(config), new FastifyAdapter({ trustProxy: fastifyTrustProxy(config.http.trustedProxies) }), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ProblemDetailsFilter());
  serveOpenApi(app, settlementOpenApi(app));
  connectConsumerGroups(app, 'settlement', 'settlementBatches');
  await app.listen(0, '127.0.0.1');
  await app.startAllMicroservices();
  return { app, url: await app.getUrl() };
}

export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
