import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, Env, envBool, envList, parseEnv, readSecret } from '@payrail/config';
import type { KafkaConfig, SASLOptions } from 'kafkajs';

/** Shared env fragment: how a service reaches Kafka. */
export const kafkaEnvFragment = {
  KAFKA_BROKERS: envList,
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  KAFKA_SSL: envBool.default(false),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256', 'plain']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
} as const;

export interface KafkaConnectionConfig {
  readonly brokers: string[];
  readonly clientId: string;
  readonly ssl: boolean;
  readonly sslCa?: string;
  readonly sasl?: { mechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain'; username: string; password: string };
}

type KafkaEnv = { KAFKA_BROKERS: string[]; KAFKA_CLIENT_ID?: string; KAFKA_SSL: boolean; KAFKA_SSL_CA_FILE?: string; KAFKA_SASL_MECHANISM?: 'scram-sha-512' | 'scram-sha-256' | 'plain'; KAFKA_SASL_USERNAME?: string };

/** Builds the connection config; the SASL password comes from KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE. */
export function kafkaConnectionFromEnv(parsed: KafkaEnv, rawEnv: Env, defaultClientId: string): KafkaConnectionConfig {
  let sasl: KafkaConnectionConfig['sasl'];
  if (parsed.KAFKA_SASL_MECHANISM) {
    const password = readSecret(rawEnv, 'KAFKA_SASL_PASSWORD');
    const problems = [];
    if (!parsed.KAFKA_SASL_USERNAME) problems.push({ variable: 'KAFKA_SASL_USERNAME', reason: 'is required when KAFKA_SASL_MECHANISM is set' });
    if (!password) problems.push({ variable: 'KAFKA_SASL_PASSWORD', reason: 'is required (or KAFKA_SASL_PASSWORD_FILE) when KAFKA_SASL_MECHANISM is set' });
    if (problems.length > 0) throw new ConfigError(problems);
    sasl = { mechanism: parsed.KAFKA_SASL_MECHANISM, username: parsed.KAFKA_SASL_USERNAME ?? '', password: password ?? '' };
  }
  let sslCa: string | undefined;
  if (parsed.KAFKA_SSL_CA_FILE) {
    try {
      sslCa = readFileSync(parsed.KAFKA_SSL_CA_FILE, 'utf8');
    } catch {
      throw new ConfigError([{ variable: 'KAFKA_SSL_CA_FILE', reason: `cannot read ${parsed.KAFKA_SSL_CA_FILE}` }]);
    }
  }
  return { brokers: parsed.KAFKA_BROKERS, clientId: parsed.KAFKA_CLIENT_ID ?? defaultClientId, ssl: parsed.KAFKA_SSL || sslCa !== undefined, sslCa, sasl };
}

/** The connection a process's environment describes (KAFKA_BROKERS, KAFKA_SSL*, KAFKA_SASL_*), validated: tools and tests. */
export function kafkaConnectionFromProcessEnv(env: Env, defaultClientId: string): KafkaConnectionConfig {
  return kafkaConnectionFromEnv(parseEnv(z.object(kafkaEnvFragment), env), env, defaultClientId);
}

/**
 * The variables that say how to reach Kafka and as whom (KAFKA_BROKERS, KAFKA_SSL*, KAFKA_SASL_*), taken from `env`:
 * what a test or tool hands to a service process it starts, so that it connects as the same principal.
 */
export function kafkaClientEnv(env: Env): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (/^KAFKA_(BROKERS|SSL|SSL_CA_FILE|SASL_MECHANISM|SASL_USERNAME|SASL_PASSWORD|SASL_PASSWORD_FILE)$/.test(name) && value !== undefined) picked[name] = value;
  return picked;
}

export function toKafkaJsConfig(config: KafkaConnectionConfig, logCreator?: KafkaConfig['logCreator']): KafkaConfig {
  return {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.sslCa ? { ca: [config.sslCa] } : config.ssl,
    sasl: config.sasl as SASLOptions | undefined,
    connectionTimeout: 5_000,
    authenticationTimeout: 5_000,
    requestTimeout: 30_000,
    // fail fast on wrong credentials or an unreachable broker; the orchestrator restarts us
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
    logCreator,
  };
}
