import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, ServiceSettings, SigningJwksSource, OPERATOR_API_AUTH_FAILURE_DEFAULTS, authFailureThrottle, authFailureThrottleEnvFragment, envInt, eventSealKeysEnvFragment, parseEnv, serviceEnvFragment, serviceSettings, signingJwksEnvFragment, signingJwksSource, parseJsonSetting } from '@payrail/config';
import { checkJwksUrl } from '@payrail/crypto';
import {
  KafkaConnectionConfig,
  RedisConnectionConfig,
  kafkaConnectionFromEnv,
  kafkaEnvFragment,
  redisConnectionFromEnv,
  redisEnvFragment,
} from '@payrail/messaging';
import { OperatorsFile, OperatorsFileSchema } from './admin/operators';

export const FraudCheckEnvSchema = z.object({
  ...serviceEnvFragment,
  ...kafkaEnvFragment,
  ...redisEnvFragment,
  HTTP_PORT: serviceEnvFragment.HTTP_PORT.default(8082),
  ...signingJwksEnvFragment,
  /** fraud-check seals every decision it publishes (settlement verifies the seal before posting). */
  ...eventSealKeysEnvFragment,
  /** The declarative rule set (JSON), re-read when it changes. */
  RULES_FILE: z.string().min(1),
  /** Admin API operators (JSON, token hashes only): a mounted Secret file... */
  FRAUD_OPERATORS_FILE: z.string().min(1).optional(),
  /** ...or the same JSON inline. Without either, every admin call is refused (401). */
  FRAUD_OPERATORS: z.string().min(1).optional(),
  /**
   * Admin API calls that failed authentication, per client address (socket; X-Forwarded-For only from
   * TRUSTED_PROXIES), per instance: over it, 429 before any token is compared.
   */
  ...authFailureThrottleEnvFragment(OPERATOR_API_AUTH_FAILURE_DEFAULTS),
  /** Approximate cap of the audit stream (oldest entries are trimmed beyond it). */
  FRAUD_AUDIT_MAX_ENTRIES: envInt(1_000, 100_000_000).default(1_000_000),
});

export interface FraudCheckConfig extends ServiceSettings {
  kafka: KafkaConnectionConfig;
  redis: RedisConnectionConfig;
  payrailKeys: SigningJwksSource;
  /** Private JWKS of fraud-check's decision seals (EVENT_SEAL_KEYS_FILE). */
  eventSealKeysFile: string;
  rulesFile: string;
  operators: OperatorsFile['operators'];
  /** The admin API's failed-authentication throttle per client address (in memory, per instance). */
  authFailureThrottle: { perSecond: number; burst: number };
  auditMaxEntries: number;
}

export function loadFraudCheckConfig(env: Record<string, string | undefined> = process.env): FraudCheckConfig {
  const e = parseEnv(FraudCheckEnvSchema, env);
  return {
    ...serviceSettings(e),
    kafka: kafkaConnectionFromEnv(e, env, 'payrail-fraud-check'),
    redis: redisConnectionFromEnv(e),
    // the rule RemoteJwksClient applies, run here so a refused URL stops the start as a configuration error (78)
    payrailKeys: signingJwksSource(e, checkJwksUrl),
    eventSealKeysFile: e.EVENT_SEAL_KEYS_FILE,
    rulesFile: e.RULES_FILE,
    operators: operatorsFromEnv(e),
    authFailureThrottle: authFailureThrottle(e),
    auditMaxEntries: e.FRAUD_AUDIT_MAX_ENTRIES,
  };
}

function operatorsFromEnv(e: { FRAUD_OPERATORS_FILE?: string; FRAUD_OPERATORS?: string }): OperatorsFile['operators'] {
  if (e.FRAUD_OPERATORS_FILE && e.FRAUD_OPERATORS) {
    throw new ConfigError([{ variable: 'FRAUD_OPERATORS', reason: 'set FRAUD_OPERATORS or FRAUD_OPERATORS_FILE, not both' }]);
  }
  const variable = e.FRAUD_OPERATORS_FILE ? 'FRAUD_OPERATORS_FILE' : 'FRAUD_OPERATORS';
  let text = e.FRAUD_OPERATORS;
  if (e.FRAUD_OPERATORS_FILE) {
    try {
      text = readFileSync(e.FRAUD_OPERATORS_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError([{ variable, reason: `cannot read ${e.FRAUD_OPERATORS_FILE}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` }]);
    }
  }
  if (text === undefined) return [];
  return parseJsonSetting(variable, text, OperatorsFileSchema, '{"operators":[{"id","role"|"scopes","token_sha256"}]}').operators;
}

export const FRAUD_CHECK_CONFIG = Symbol('FRAUD_CHECK_CONFIG');
