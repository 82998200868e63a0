import { z } from 'zod';
import { ConfigError, parseEnv, serviceEnvFragment } from '@payrail/config';
import {
  KafkaConnectionConfig,
  RedisConnectionConfig,
  kafkaConnectionFromEnv,
  kafkaEnvFragment,
  redisConnectionFromEnv,
  redisEnvFragment,
} from '@payrail/messaging';

export const FraudCheckEnvSchema = z.object({
  ...serviceEnvFragment,
  ...kafkaEnvFragment,
  ...redisEnvFragment,
  HTTP_PORT: serviceEnvFragment.HTTP_PORT.default(8082),
  /** Where Payrail's public signing keys are published (the signing service's /.well-known/jwks.json)... */
  SIGNING_JWKS_URL: z.url().optional(),
  /** ...or a mounted copy of that JWKS. One of the two is required. */
  SIGNING_JWKS_FILE: z.string().min(1).optional(),
  /** The declarative rule set (JSON), re-read when it changes. */
  RULES_FILE: z.string().min(1),
});

export interface FraudCheckConfig {
  http: { host: string; port: number };
  logLevel: string;
  shutdownTimeoutS: number;
  kafka: KafkaConnectionConfig;
  redis: RedisConnectionConfig;
  payrailKeys: { url: string } | { file: string };
  rulesFile: string;
}

export function loadFraudCheckConfig(env: Record<string, string | undefined> = process.env): FraudCheckConfig {
  const e = parseEnv(FraudCheckEnvSchema, env);
  const payrailKeys = e.SIGNING_JWKS_URL ? { url: e.SIGNING_JWKS_URL } : e.SIGNING_JWKS_FILE ? { file: e.SIGNING_JWKS_FILE } : undefined;
  if (!payrailKeys) throw new ConfigError([{ variable: 'SIGNING_JWKS_URL', reason: 'set SIGNING_JWKS_URL or SIGNING_JWKS_FILE to verify Payrail signatures' }]);
  return {
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutS: e.SHUTDOWN_TIMEOUT_S,
    kafka: kafkaConnectionFromEnv(e, env, 'payrail-fraud-check'),
    redis: redisConnectionFromEnv(e),
    payrailKeys,
    rulesFile: e.RULES_FILE,
  };
}

export const FRAUD_CHECK_CONFIG = Symbol('FRAUD_CHECK_CONFIG');
