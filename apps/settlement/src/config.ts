import { z } from 'zod';
import { ConfigError, ServiceSettings, SigningJwksSource, OPERATOR_API_AUTH_FAILURE_DEFAULTS, authFailureThrottle, authFailureThrottleEnvFragment, envInt, eventSealKeysEnvFragment, peerSealJwks, parseEnv, readSecret, serviceEnvFragment, serviceSettings, signingJwksEnvFragment, signingJwksSource, parseJsonSetting } from '@payrail/config';
import { checkJwksUrl } from '@payrail/crypto';
import { BatchPolicy, FeeSchedule, ledgerEnvFragment, ledgerSettings } from '@payrail/ledger';
import {
  KafkaConnectionConfig,
  RedisConnectionConfig,
  kafkaConnectionFromEnv,
  kafkaEnvFragment,
  redisConnectionFromEnv,
  redisEnvFragment,
} from '@payrail/messaging';
import { ApiClientLine, ApiClientsFileSchema } from './http/api-clients';

export const SettlementEnvSchema = z.object({
  ...serviceEnvFragment,
  ...kafkaEnvFragment,
  ...redisEnvFragment,
  HTTP_PORT: serviceEnvFragment.HTTP_PORT.default(8083),
  ...signingJwksEnvFragment,
  /** settlement seals its batch reports (signing signs only what verifies). */
  ...eventSealKeysEnvFragment,
  /** fraud-check's public sealing JWKS: a decision is posted or held only when fraud-check's seal verifies. */
  FRAUD_CHECK_SEAL_JWKS_FILE: peerSealJwks('fraud-check'),
  // fee schedule and batch policy: shared with the reconcile / rebuild commands
  ...ledgerEnvFragment,
  /** A window's batch closes this long after the window ended, so late screenings still join it. */
  BATCH_GRACE_S: envInt(0, 86_400).default(30),
  /** How often the batch closer runs (closes due batches, publishes unsent reports). */
  BATCH_CLOSE_INTERVAL_S: envInt(1, 3_600).default(5),
  /** How often the ledger invariants are checked (0: never; `payrail settlement check` still works). */
  INVARIANT_CHECK_INTERVAL_S: envInt(0, 86_400).default(300),
  /**
   * Operators API calls that failed authentication, per client address (socket; X-Forwarded-For only from
   * TRUSTED_PROXIES), per instance: over it, 429 before any token is compared.
   */
  ...authFailureThrottleEnvFragment(OPERATOR_API_AUTH_FAILURE_DEFAULTS),
});

export interface SettlementConfig extends ServiceSettings {
  kafka: KafkaConnectionConfig;
  redis: RedisConnectionConfig;
  payrailKeys: SigningJwksSource;
  /** EVENT_SEAL_KEYS_FILE (own, private) and FRAUD_CHECK_SEAL_JWKS_FILE (fraud-check's, public). */
  seals: { ownKeys: string; fraudCheckJwks: string };
  fee: FeeSchedule;
  batch: BatchPolicy & { graceS: number; closeIntervalS: number };
  invariantCheckIntervalS: number;
  /** The operators API's consumers and their token hashes (SETTLEMENT_API_CLIENTS or _FILE). */
  apiClients: ApiClientLine[];
  /** The operators API's failed-authentication throttle per client address (in memory, per instance). */
  authFailureThrottle: { perSecond: number; burst: number };
}

export function loadSettlementConfig(env: Record<string, string | undefined> = process.env): SettlementConfig {
  const e = parseEnv(SettlementEnvSchema, env);
  const apiClients = apiClientsFromEnv(env);
  const { fees, policy } = ledgerSettings(e);
  return {
    ...serviceSettings(e),
    kafka: kafkaConnectionFromEnv(e, env, 'payrail-settlement'),
    redis: redisConnectionFromEnv(e),
    // the rule RemoteJwksClient applies, run here so a refused URL stops the start as a configuration error (78)
    payrailKeys: signingJwksSource(e, checkJwksUrl),
    seals: { ownKeys: e.EVENT_SEAL_KEYS_FILE, fraudCheckJwks: e.FRAUD_CHECK_SEAL_JWKS_FILE },
    fee: fees,
    batch: { ...policy, graceS: e.BATCH_GRACE_S, closeIntervalS: e.BATCH_CLOSE_INTERVAL_S },
    invariantCheckIntervalS: e.INVARIANT_CHECK_INTERVAL_S,
    apiClients,
    authFailureThrottle: authFailureThrottle(e),
  };
}

/** SETTLEMENT_API_CLIENTS[_FILE]: {"clients":[{"id","scopes":["ledger:read"],"token_sha256"}]}, hashes only. */
function apiClientsFromEnv(env: Record<string, string | undefined>): ApiClientLine[] {
  const variable = 'SETTLEMENT_API_CLIENTS';
  const text = readSecret(env, 'SETTLEMENT_API_CLIENTS');
  if (!text) throw new ConfigError([{ variable, reason: 'is required (or SETTLEMENT_API_CLIENTS_FILE): the operators API consumers, {"clients":[{"id","scopes":["ledger:read"],"token_sha256"}]}' }]);
  return parseJsonSetting(variable, text, ApiClientsFileSchema, '{"clients":[{"id","scopes","token_sha256"}]}').clients;
}

export const SETTLEMENT_CONFIG = Symbol('SETTLEMENT_CONFIG');
