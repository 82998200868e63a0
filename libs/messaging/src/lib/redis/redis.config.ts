import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '@payrail/config';

/** Shared env fragment: how a service reaches Redis. Credentials go in the URL (redis://user:pass@host:port/db). */
export const redisEnvFragment = {
  REDIS_URL: z
    .string()
    .min(1)
    .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL'),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]*$/, 'letters, digits, ":", "_" or "-" only').default('payrail:'),
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
} as const;

export interface RedisConnectionConfig {
  readonly url: string;
  readonly keyPrefix: string;
  readonly tlsCa?: string;
}

export function redisConnectionFromEnv(parsed: { REDIS_URL: string; REDIS_KEY_PREFIX: string; REDIS_TLS_CA_FILE?: string }): RedisConnectionConfig {
  let tlsCa: string | undefined;
  if (parsed.REDIS_TLS_CA_FILE) {
    try {
      tlsCa = readFileSync(parsed.REDIS_TLS_CA_FILE, 'utf8');
    } catch {
      throw new ConfigError([{ variable: 'REDIS_TLS_CA_FILE', reason: `cannot read ${parsed.REDIS_TLS_CA_FILE}` }]);
    }
  }
  return { url: parsed.REDIS_URL, keyPrefix: parsed.REDIS_KEY_PREFIX, tlsCa };
}
