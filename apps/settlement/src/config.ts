import { z } from 'zod';
import { ServiceSettings, SigningJwksSource, envInt, parseEnv, serviceEnvFragment, serviceSettings, signingJwksEnvFragment, signingJwksSource } from '@payrail/config';
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
  ...signingJwksEnvFragment,
  /** Fee = amount x FEE_BPS / 10,000 (rounded half away from zero) + FEE_FIXED_MINOR, capped at the amount. */
  FEE_BPS: envInt(0, 10_000).default(150),
  FEE_FIXED_MINOR: envInt(0, 1_000_000).default(10),
  /** Settlement batches close at this cutoff interval (seconds since the epoch, aligned). */
  BATCH_CUTOFF_S: envInt(60, 86_400).default(3_600),
});

export interface SettlementConfig extends ServiceSettings {
  kafka: KafkaConnectionConfig;
  redis: RedisConnectionConfig;
  payrailKeys: SigningJwksSource;
  fee: { bps: number; fixedMinor: number };
  batchCutoffS: number;
}

export function loadSettlementConfig(env: Record<string, string | undefined> = process.env): SettlementConfig {
  const e = parseEnv(SettlementEnvSchema, env);
  return {
    ...serviceSettings(e),
    kafka: kafkaConnectionFromEnv(e, env, 'payrail-settlement'),
    redis: redisConnectionFromEnv(e),
    payrailKeys: signingJwksSource(e),
    fee: { bps: e.FEE_BPS, fixedMinor: e.FEE_FIXED_MINOR },
    batchCutoffS: e.BATCH_CUTOFF_S,
  };
}

export const SETTLEMENT_CONFIG = Symbol('SETTLEMENT_CONFIG');
