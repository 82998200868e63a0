import { z } from 'zod';
import { ServiceSettings, SigningJwksSource, parseEnv, serviceEnvFragment, serviceSettings, signingJwksEnvFragment, signingJwksSource } from '@payrail/config';
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
  ...signingJwksEnvFragment,
  /** The declarative rule set (JSON), re-read when it changes. */
  RULES_FILE: z.string().min(1),
});

export interface FraudCheckConfig extends ServiceSettings {
  kafka: KafkaConnectionConfig;
  redis: RedisConnectionConfig;
  payrailKeys: SigningJwksSource;
  rulesFile: string;
}

export function loadFraudCheckConfig(env: Record<string, string | undefined> = process.env): FraudCheckConfig {
  const e = parseEnv(FraudCheckEnvSchema, env);
  return {
    ...serviceSettings(e),
    kafka: kafkaConnectionFromEnv(e, env, 'payrail-fraud-check'),
    redis: redisConnectionFromEnv(e),
    payrailKeys: signingJwksSource(e),
    rulesFile: e.RULES_FILE,
  };
}

export const FRAUD_CHECK_CONFIG = Symbol('FRAUD_CHECK_CONFIG');
