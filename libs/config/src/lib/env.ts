// Configuration is read from the environment once, at boot, through one zod schema per app composed from
// shared fragments. A missing or bad variable stops the process with the variable's name and the reason.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly { variable: string; reason: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.reason}`).join('\n')}`);
  }
}

export type Env = Record<string, string | undefined>;

/** Parses `env` with a schema whose keys are variable names. Throws ConfigError naming every bad variable. */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(root)'),
      reason: issue.code === 'invalid_type' && issue.input === undefined ? 'is required but not set' : issue.message,
    })),
  );
}

// Reusable variable types. Environment values are strings: these coerce and validate them.
export const envInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be >= ${min}`).max(max, `must be <= ${max}`));

export const envBool = z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).transform((v) => v === 'true' || v === '1');

export const envPort = envInt(1, 65535);

export const envList = z
  .string()
  .min(1)
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

/** A value given directly or, Kubernetes-Secret style, as VAR_FILE pointing at a mounted file. */
export function readSecret(env: Env, name: string): string | undefined {
  const direct = env[name];
  if (direct !== undefined && direct !== '') return direct;
  const file = env[`${name}_FILE`];
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError([{ variable: `${name}_FILE`, reason: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` }]);
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Shared fragment: HTTP listener and logging, read by every service. */
export const serviceEnvFragment = {
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: envPort,
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Seconds a SIGTERM'd process gets to drain before it exits anyway (Kubernetes' grace period is 30 s). */
  SHUTDOWN_TIMEOUT_S: envInt(1, 120).default(25),
} as const;

export interface ServiceSettings {
  http: { host: string; port: number };
  logLevel: string;
  shutdownTimeoutS: number;
}

/** The typed form of serviceEnvFragment, shared by every app's config. */
export function serviceSettings(e: { HTTP_HOST: string; HTTP_PORT: number; LOG_LEVEL: string; SHUTDOWN_TIMEOUT_S: number }): ServiceSettings {
  return { http: { host: e.HTTP_HOST, port: e.HTTP_PORT }, logLevel: e.LOG_LEVEL, shutdownTimeoutS: e.SHUTDOWN_TIMEOUT_S };
}

/** Shared fragment for services that verify Payrail's signatures: the published JWKS or a mounted copy. */
export const signingJwksEnvFragment = {
  /** Where Payrail's public signing keys are published (the signing service's /.well-known/jwks.json)... */
  SIGNING_JWKS_URL: z.url().optional(),
  /** ...or a mounted copy of that JWKS. One of the two is required. */
  SIGNING_JWKS_FILE: z.string().min(1).optional(),
} as const;

export type SigningJwksSource = { url: string } | { file: string };

export function signingJwksSource(e: { SIGNING_JWKS_URL?: string; SIGNING_JWKS_FILE?: string }): SigningJwksSource {
  if (e.SIGNING_JWKS_URL) return { url: e.SIGNING_JWKS_URL };
  if (e.SIGNING_JWKS_FILE) return { file: e.SIGNING_JWKS_FILE };
  throw new ConfigError([{ variable: 'SIGNING_JWKS_URL', reason: 'set SIGNING_JWKS_URL or SIGNING_JWKS_FILE to verify Payrail signatures' }]);
}
