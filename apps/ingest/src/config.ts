import { z } from 'zod';
import {
  ConfigError,
  ServiceSettings,
  SigningJwksSource,
  authFailureThrottle,
  authFailureThrottleEnvFragment,
  envInt,
  envRate,
  eventSealKeysEnvFragment,
  parseEnv,
  peerSealJwks,
  readSecret,
  serviceEnvFragment,
  serviceSettings,
  signingJwksEnvFragment,
  signingJwksSource,
} from '@payrail/config';
import { checkJwksUrl } from '@payrail/crypto';
import {
  KafkaConnectionConfig,
  RedisConnectionConfig,
  kafkaConnectionFromEnv,
  kafkaEnvFragment,
  redisConnectionFromEnv,
  redisEnvFragment,
} from '@payrail/messaging';

export const IngestEnvSchema = z.object({
  ...serviceEnvFragment,
  ...kafkaEnvFragment,
  ...redisEnvFragment,
  HTTP_PORT: serviceEnvFragment.HTTP_PORT.default(8080),
  /** The operations listener (GET /metrics, /health/*, /docs): never the public port; 0 = any free port. */
  OPS_PORT: envInt(0, 65535).default(9090),
  /** Loopback by default; in Kubernetes 0.0.0.0 (not in the Service; NetworkPolicy: monitoring namespace only). */
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Directory of upstream registrations (<upstream-id>.json with the upstream's public JWKS and limits). */
  UPSTREAMS_DIR: z.string().min(1),
  /** Public JWKS of the data-protection key: card and account numbers leave ingest only encrypted to it. */
  PROTECTION_JWKS_FILE: z.string().min(1),
  /**
   * Private JWKS of ingest's inbound encryption keys: upstreams publishing to the inbound topic encrypt their signed
   * payment to the active one (published at GET /.well-known/payrail-inbound-jwks.json); a second, verify-only key
   * keeps decrypting during a rotation. Checked at boot.
   */
  INGEST_INBOUND_JWE_KEYS_FILE: z.string().min(1),
  /** ingest seals every accepted payment (signing signs only what verifies). */
  ...eventSealKeysEnvFragment,
  /** The status read model takes only what its producers made: Payrail's signature (signing's JWKS), fraud-check's and settlement's seals. */
  ...signingJwksEnvFragment,
  FRAUD_CHECK_SEAL_JWKS_FILE: peerSealJwks('fraud-check'),
  SETTLEMENT_SEAL_JWKS_FILE: peerSealJwks('settlement'),
  /** Freshness window for the upstream's `iat` (seconds). */
  FRESHNESS_WINDOW_S: envInt(10, 3600).default(300),
  /** How long an Idempotency-Key and its response are kept (seconds, >= 24 h). */
  IDEMPOTENCY_TTL_S: envInt(86_400, 30 * 86_400).default(86_400),
  BODY_LIMIT_BYTES: envInt(1024, 1024 * 1024).default(64 * 1024),
  /** Rate limit of an upstream whose registration names no `limits` (requests per second, sustained). */
  DEFAULT_RATE_LIMIT_PER_S: envInt(1, 100_000).default(100),
  /** ... and the burst it may send at once above that rate. */
  DEFAULT_RATE_LIMIT_BURST: envInt(1, 100_000).default(200),
  /** Per client address, before any signature is verified: all requests (per second, sustained; per instance). */
  CLIENT_RATE_LIMIT_PER_S: envRate(0.00001, 1_000_000).default(20_000),
  CLIENT_RATE_LIMIT_BURST: envInt(1, 1_000_000).default(40_000),
  /** Per client address: requests that failed authentication (401) per second, sustained; per instance. */
  ...authFailureThrottleEnvFragment({ perSecond: 50, burst: 100 }),
});

export interface IngestConfig extends ServiceSettings {
  kafka: KafkaConnectionConfig;
  redis: RedisConnectionConfig;
  /** Where /metrics, /health/* and /docs are served, apart from the public API. */
  ops: { host: string; port: number };
  upstreamsDir: string;
  protectionJwksFile: string;
  /** Private JWKS of the inbound topic's encryption keys (INGEST_INBOUND_JWE_KEYS_FILE). */
  inboundJweKeysFile: string;
  /** Private JWKS of ingest's event seals (EVENT_SEAL_KEYS_FILE). */
  eventSealKeysFile: string;
  /** Payrail's public signing keys (SIGNING_JWKS_URL or _FILE): the status read model verifies signed instructions. */
  payrailKeys: SigningJwksSource;
  /** fraud-check's and settlement's public sealing JWKS: the status read model believes only what they sealed. */
  fraudCheckSealJwksFile: string;
  settlementSealJwksFile: string;
  /** HMAC key for card/account fingerprints (FINGERPRINT_KEY or FINGERPRINT_KEY_FILE, base64, >= 32 bytes). */
  fingerprintKey: Buffer;
  freshnessWindowS: number;
  idempotencyTtlS: number;
  bodyLimitBytes: number;
  /** Limits for registrations without their own `limits`. */
  defaultRateLimit: RateLimit;
  /** The per-address throttle in front of signature verification (in-process, per instance). */
  clientThrottle: { attempts: RateLimit; failures: RateLimit };
}

/** Generic cell rate: `perSecond` sustained, up to `burst` at once. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export function loadIngestConfig(env: Record<string, string | undefined> = process.env): IngestConfig {
  const e = parseEnv(IngestEnvSchema, env);
  if (e.OPS_PORT === e.HTTP_PORT) throw new ConfigError([{ variable: 'OPS_PORT', reason: `must differ from HTTP_PORT (${e.HTTP_PORT}): metrics and docs stay off the public port` }]);
  const fingerprintText = readSecret(env, 'FINGERPRINT_KEY');
  if (!fingerprintText) throw new ConfigError([{ variable: 'FINGERPRINT_KEY', reason: 'is required (or FINGERPRINT_KEY_FILE): base64 of at least 32 random bytes' }]);
  const fingerprintKey = Buffer.from(fingerprintText, 'base64');
  if (fingerprintKey.length < 32) throw new ConfigError([{ variable: 'FINGERPRINT_KEY', reason: `must decode to at least 32 bytes (got ${fingerprintKey.length})` }]);
  return {
    ...serviceSettings(e),
    kafka: kafkaConnectionFromEnv(e, env, 'payrail-ingest'),
    redis: redisConnectionFromEnv(e),
    ops: { host: e.OPS_HOST, port: e.OPS_PORT },
    upstreamsDir: e.UPSTREAMS_DIR,
    protectionJwksFile: e.PROTECTION_JWKS_FILE,
    inboundJweKeysFile: e.INGEST_INBOUND_JWE_KEYS_FILE,
    eventSealKeysFile: e.EVENT_SEAL_KEYS_FILE,
    // the rule RemoteJwksClient applies, run here so a refused URL stops the start as a configuration error
    payrailKeys: signingJwksSource(e, checkJwksUrl),
    fraudCheckSealJwksFile: e.FRAUD_CHECK_SEAL_JWKS_FILE,
    settlementSealJwksFile: e.SETTLEMENT_SEAL_JWKS_FILE,
    fingerprintKey,
    freshnessWindowS: e.FRESHNESS_WINDOW_S,
    idempotencyTtlS: e.IDEMPOTENCY_TTL_S,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    defaultRateLimit: { perSecond: e.DEFAULT_RATE_LIMIT_PER_S, burst: e.DEFAULT_RATE_LIMIT_BURST },
    clientThrottle: {
      attempts: { perSecond: e.CLIENT_RATE_LIMIT_PER_S, burst: e.CLIENT_RATE_LIMIT_BURST },
      failures: authFailureThrottle(e),
    },
  };
}

export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
