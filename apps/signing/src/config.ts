import { z } from 'zod';
import { ConfigError, ServiceSettings, envBool, envInt, parseEnv, peerSealJwks, serviceEnvFragment, serviceSettings } from '@payrail/config';
import { KafkaConnectionConfig, kafkaConnectionFromEnv, kafkaEnvFragment } from '@payrail/messaging';

export const SigningEnvSchema = z.object({
  ...serviceEnvFragment,
  ...kafkaEnvFragment,
  HTTP_PORT: serviceEnvFragment.HTTP_PORT.default(8081),
  /** Private JWKS (a Kubernetes Secret mounted as a file). Reloaded on change or SIGHUP: rotation without restart. */
  SIGNING_KEYS_FILE: z.string().min(1),
  /** Development only: create SIGNING_KEYS_FILE with a fresh ES256 key when it does not exist. */
  SIGNING_GENERATE_DEV_KEYS: envBool.default(false),
  /** How long browsers and services may cache the published JWKS (keep well under the rotation overlap). */
  JWKS_MAX_AGE_S: envInt(0, 3600).default(60),
  /** ingest's public sealing JWKS: an accepted payment is signed only when ingest's seal verifies. */
  INGEST_SEAL_JWKS_FILE: peerSealJwks('ingest'),
  /** settlement's public sealing JWKS: a batch report is signed only when settlement's seal verifies. */
  SETTLEMENT_SEAL_JWKS_FILE: peerSealJwks('settlement'),
});

export interface SigningConfig extends ServiceSettings {
  kafka: KafkaConnectionConfig;
  keysFile: string;
  generateDevKeys: boolean;
  jwksMaxAgeS: number;
  seals: { ingestJwks: string; settlementJwks: string };
}

export function loadSigningConfig(env: Record<string, string | undefined> = process.env): SigningConfig {
  const e = parseEnv(SigningEnvSchema, env);
  // a production pod whose Secret failed to mount must stop, not sign with a key nobody trusts
  if (e.SIGNING_GENERATE_DEV_KEYS && env['NODE_ENV'] === 'production') {
    throw new ConfigError([{ variable: 'SIGNING_GENERATE_DEV_KEYS', reason: 'must not be true when NODE_ENV=production: mount the signing keys at SIGNING_KEYS_FILE' }]);
  }
  return {
    ...serviceSettings(e),
    kafka: kafkaConnectionFromEnv(e, env, 'payrail-signing'),
    keysFile: e.SIGNING_KEYS_FILE,
    generateDevKeys: e.SIGNING_GENERATE_DEV_KEYS,
    jwksMaxAgeS: e.JWKS_MAX_AGE_S,
    seals: { ingestJwks: e.INGEST_SEAL_JWKS_FILE, settlementJwks: e.SETTLEMENT_SEAL_JWKS_FILE },
  };
}

export const SIGNING_CONFIG = Symbol('SIGNING_CONFIG');
