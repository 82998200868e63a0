import { z } from 'zod';
import { ConfigError, envInt, parseEnv, serviceEnvFragment } from '@payrail/config';
import {
  KafkaConnectionConfig,
  RedisConnectionConfig,
  kafkaConnectionFromEnv,
  kafkaEnvFragment,
  redisConnectionFromEnv,
  redisEnvFragment,
} from '@payrail/messaging';

export const SettlementEnvSchema = z.object({
  ...serviceEnvFragment,
  ...kafkaEnvFragment,
  ...redisEnvFragment,
  HTTP_PORT: serviceEnvFragment.HTTP_PORT.default(8083),
  SIGNING_JWKS_URL: z.url().optional(),
  SIGNING_JWKS_FILE: z.string().min(1).optional(),
  /** Fee = amount x FEE_BPS / 10,000 (rounded half away from zero) + FEE_FIXED_MINOR, capped at the amount. */
  FEE_BPS: envInt(0, 10_000).default(150),
  FEE_FIXED_MINOR: envInt(0, 1_000_000).default(10),
  /** Settlement batches close at this cutoff interval (seconds since the epoch, aligned). */
  BATCH_CUTOFF_S: envInt(60, 86_400).default(3_600),
});

export interface SettlementConfig {
  http: { host: string; port: number };
  logLevel: string;
  shutdownTimeoutS: number;
  kafka: KafkaConnectionConfig;
  redis: RedisConnectionConfig;
  payrailKeys: { url: string } | { file: string };
  fee: { bps: number; fixedMinor: number };
  batchCutoffS: number;
}

export function loadSettlementConfig(env: Record<string, string | undefined> = process.env): SettlementConfig {
  const e = parseEnv(SettlementEnvSchema, env);
  const payrailKeys = e.SIGNING_JWKS_URL ? { url: e.SIGNING_JWKS_URL } : e.SIGNING_JWKS_FILE ? { file: e.SIGNING_JWKS_FILE } : undefined;
  if (!payrailKeys) throw new ConfigError([{ variable: 'SIGNING_JWKS_URL', reason: 'set SIGNING_JWKS_URL or SIGNING_JWKS_FILE to verify Payrail signatures' }]);
  return {
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutS: e.SHUTDOWN_TIMEOUT_S,
    kafka: kafkaConnectionFromEnv(e, env, 'payrail-settlement'),
    redis: redisConnectionFromEnv(e),
    payrailKeys,
    fee: { bps: e.FEE_BPS, fixedMinor: e.FEE_FIXED_MINOR },
    batchCutoffS: e.BATCH_CUTOFF_S,
  };
}

export const SETTLEMENT_CONFIG = Symbol('SETTLEMENT_CONFIG');
