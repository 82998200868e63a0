import { z } from 'zod';
import { ConfigError, Env, ServiceSettings, envBool, envInt, parseEnv, readSecret, serviceEnvFragment, serviceSettings, signingJwksEnvFragment, signingJwksUrl } from '@payrail/config';
import { checkJwksUrl } from '@payrail/crypto';
import {
  KafkaConnectionConfig,
  RedisConnectionConfig,
  kafkaConnectionFromEnv,
  kafkaEnvFragment,
  redisConnectionFromEnv,
  redisEnvFragment,
} from '@payrail/messaging';
import { ConsoleUser, loadUsersFile } from './auth/operator-directory';

/** `name=url,name=url`: the services whose /health/ready the console shows. */
const healthUrls = z
  .string()
  .min(1)
  .transform((v, ctx) => {
    const out: Record<string, string> = {};
    for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [name, url] = part.split(/=(.*)/s);
      if (!name || !url || !/^https?:\/\/[^\s]+$/.test(url)) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not name=http(s)://host:port` });
        return z.NEVER;
      }
      out[name] = url.replace(/\/+$/, '');
    }
    return out;
  });

export const ConsoleEnvSchema = z.object({
  ...serviceEnvFragment,
  ...kafkaEnvFragment,
  ...redisEnvFragment,
  HTTP_PORT: serviceEnvFragment.HTTP_PORT.default(8084),
  /** Operators and viewers (JSON, scrypt hashes only), a mounted Secret: {"users":[{"username","role","password_scrypt"}]}. */
  CONSOLE_USERS_FILE: z.string().min(1),
  /** Idle sessions end after this long (15 min by default, at most an hour). */
  CONSOLE_SESSION_TTL_S: envInt(60, 3_600).default(15 * 60),
  /** Every session ends this long after sign-in, in use or not. */
  CONSOLE_SESSION_MAX_AGE_S: envInt(300, 86_400).default(8 * 3600),
  /**
   * Session cookie `__Host-` prefixed and Secure (browsers send it over HTTPS only); false only for plain-HTTP
   * development on loopback (the cookie then has no prefix, which browsers refuse without Secure).
   */
  CONSOLE_COOKIE_SECURE: envBool.default(true),
  /**
   * The console's origin as browsers reach it (https://console.example.com), when a proxy in front rewrites Host:
   * sign-in and every action must come from it. Unset: from the origin of the Host header.
   */
  CONSOLE_PUBLIC_URL: z.url({ protocol: /^https?$/ }).transform((u) => new URL(u).origin).optional(),
  /** Approximate cap of the audit stream. */
  CONSOLE_AUDIT_MAX_ENTRIES: envInt(1_000, 100_000_000).default(1_000_000),
  /** Payrail's published signing keys (signing's /.well-known/jwks.json), for the keys panel... */
  SIGNING_JWKS_URL: signingJwksEnvFragment.SIGNING_JWKS_URL,
  /** ...over plain http to a cluster-internal name only with this opt-in (the rule fraud-check and settlement follow). */
  SIGNING_JWKS_ALLOW_HTTP: signingJwksEnvFragment.SIGNING_JWKS_ALLOW_HTTP,
  /** Services whose readiness the console shows: ingest=http://...,signing=http://... */
  CONSOLE_HEALTH_URLS: healthUrls.optional(),
  /**
   * fraud-check's admin API (REVIEW queue); the console's own token (scopes reviews:read, reviews:decide,
   * act-for-operators in fraud-check's FRAUD_OPERATORS_FILE) comes from FRAUD_ADMIN_TOKEN or FRAUD_ADMIN_TOKEN_FILE.
   */
  FRAUD_ADMIN_URL: z.url().optional(),
  /** settlement's operators API (batches, balances); the console's own API client token (ledger:read) from SETTLEMENT_API_TOKEN[_FILE]. */
  SETTLEMENT_URL: z.url().optional(),
});

export interface ConsoleConfig extends ServiceSettings {
  kafka: KafkaConnectionConfig;
  redis: RedisConnectionConfig;
  users: ConsoleUser[];
  /** HMAC key that signs session cookies and derives CSRF tokens. */
  sessionKey: Buffer;
  /** Idle time-out and absolute lifetime of a session. */
  sessionTtlS: number;
  sessionMaxAgeS: number;
  cookieSecure: boolean;
  /** The only origin actions are accepted from; undefined: the Host header's. */
  publicOrigin: string | undefined;
  /** CONSOLE_USERS_FILE, re-read when it changes. */
  usersFile: string;
  auditMaxEntries: number;
  /** SIGNING_JWKS_URL, checked with the rule of the crypto library's RemoteJwksClient (SIGNING_JWKS_ALLOW_HTTP). */
  signingJwks: { url: string; allowInsecureClusterHttp: boolean } | undefined;
  healthUrls: Record<string, string>;
  fraudAdmin: { url: string; token: string } | undefined;
  settlement: { url: string; token: string } | undefined;
}

export function loadConsoleConfig(env: Env = process.env): ConsoleConfig {
  const e = parseEnv(ConsoleEnvSchema, env);
  const sessionKeyText = readSecret(env, 'CONSOLE_SESSION_KEY');
  const sessionKey = sessionKeyText === undefined ? undefined : Buffer.from(sessionKeyText, 'base64');
  if (!sessionKey || sessionKey.length < 32) {
    throw new ConfigError([{ variable: 'CONSOLE_SESSION_KEY', reason: 'set CONSOLE_SESSION_KEY or CONSOLE_SESSION_KEY_FILE to base64 of at least 32 random bytes' }]);
  }
  if (e.CONSOLE_SESSION_MAX_AGE_S < e.CONSOLE_SESSION_TTL_S) {
    throw new ConfigError([{ variable: 'CONSOLE_SESSION_MAX_AGE_S', reason: `must be >= CONSOLE_SESSION_TTL_S (${e.CONSOLE_SESSION_TTL_S})` }]);
  }
  if (e.CONSOLE_PUBLIC_URL?.startsWith('https:') === false && e.CONSOLE_COOKIE_SECURE) {
    throw new ConfigError([{ variable: 'CONSOLE_PUBLIC_URL', reason: 'is plain http while CONSOLE_COOKIE_SECURE is true: browsers would never send the Secure cookie' }]);
  }
  let fraudAdmin: ConsoleConfig['fraudAdmin'];
  if (e.FRAUD_ADMIN_URL) {
    const token = readSecret(env, 'FRAUD_ADMIN_TOKEN');
    if (!token) throw new ConfigError([{ variable: 'FRAUD_ADMIN_TOKEN', reason: 'is required (or FRAUD_ADMIN_TOKEN_FILE) when FRAUD_ADMIN_URL is set' }]);
    fraudAdmin = { url: e.FRAUD_ADMIN_URL.replace(/\/+$/, ''), token };
  }
  let settlement: ConsoleConfig['settlement'];
  if (e.SETTLEMENT_URL) {
    const token = readSecret(env, 'SETTLEMENT_API_TOKEN');
    if (!token) throw new ConfigError([{ variable: 'SETTLEMENT_API_TOKEN', reason: 'is required (or SETTLEMENT_API_TOKEN_FILE) when SETTLEMENT_URL is set' }]);
    settlement = { url: e.SETTLEMENT_URL.replace(/\/+$/, ''), token };
  }
  return {
    ...serviceSettings(e),
    kafka: kafkaConnectionFromEnv(e, env, 'payrail-console'),
    redis: redisConnectionFromEnv(e),
    users: loadUsersFile(e.CONSOLE_USERS_FILE),
    sessionKey,
    sessionTtlS: e.CONSOLE_SESSION_TTL_S,
    sessionMaxAgeS: e.CONSOLE_SESSION_MAX_AGE_S,
    cookieSecure: e.CONSOLE_COOKIE_SECURE,
    publicOrigin: e.CONSOLE_PUBLIC_URL,
    usersFile: e.CONSOLE_USERS_FILE,
    auditMaxEntries: e.CONSOLE_AUDIT_MAX_ENTRIES,
    signingJwks: signingJwksUrl(e, checkJwksUrl),
    healthUrls: e.CONSOLE_HEALTH_URLS ?? {},
    fraudAdmin,
    settlement,
  };
}

export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
