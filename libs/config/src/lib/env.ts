// Configuration is read from the environment once, at boot, through one zod schema per app composed from
// shared fragments. A missing or bad variable stops the process with the variable's name and the reason.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
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

/** A rate per second: a whole number or a decimal (0.5: one every 2 s; 0.0003: about one an hour). */
export const envRate = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+(\.[0-9]+)?$/, 'must be a number per second, e.g. 50 or 0.5')
    .transform(Number)
    .pipe(z.number().min(min, `must be >= ${min}`).max(max, `must be <= ${max}`));

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

/**
 * A JSON document held in a variable (a credentials file's text): parsed with `schema`, or ConfigError naming the
 * variable and the first field that does not fit (`shape` is shown when the text is not JSON at all).
 */
export function parseJsonSetting<S extends z.ZodType>(variable: string, text: string, schema: S, shape: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError([{ variable, reason: `is not JSON (${shape})` }]);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError([{ variable, reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` }]);
  }
  return parsed.data;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Shared fragment: HTTP listener and logging, read by every service. */
export const serviceEnvFragment = {
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: envPort,
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Seconds a SIGTERM'd process gets to drain before it exits anyway (Kubernetes' grace period is 30 s). */
  SHUTDOWN_TIMEOUT_S: envInt(1, 120).default(25),
  /**
   * Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated). Unset: none, the
   * client's address is the socket's, whatever headers it sends.
   */
  TRUSTED_PROXIES: z
    .string()
    .transform((v, ctx) => {
      const list = v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const entry of list) {
        if (!isAddressOrCidr(entry)) {
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 192.0.2.7, fd00::/8)` });
          return z.NEVER;
        }
      }
      return list;
    })
    .optional(),
} as const;

/** An IPv4/IPv6 address, or one with a /prefix in range for its family. */
export function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export interface ServiceSettings {
  /** trustedProxies: the reverse proxies whose X-Forwarded-For is believed (empty: none). */
  http: { host: string; port: number; trustedProxies: readonly string[] };
  logLevel: string;
  shutdownTimeoutS: number;
}

/** The typed form of serviceEnvFragment, shared by every app's config. */
export function serviceSettings(e: { HTTP_HOST: string; HTTP_PORT: number; LOG_LEVEL: string; SHUTDOWN_TIMEOUT_S: number; TRUSTED_PROXIES?: string[] }): ServiceSettings {
  return { http: { host: e.HTTP_HOST, port: e.HTTP_PORT, trustedProxies: e.TRUSTED_PROXIES ?? [] }, logLevel: e.LOG_LEVEL, shutdownTimeoutS: e.SHUTDOWN_TIMEOUT_S };
}

/** Shared fragment for services that verify Payrail's signatures: the published JWKS or a mounted copy. */
export const signingJwksEnvFragment = {
  /** Where Payrail's public signing keys are published (the signing service's /.well-known/jwks.json)... */
  SIGNING_JWKS_URL: z.url().optional(),
  /** ...or a mounted copy of that JWKS. One of the two is required. */
  SIGNING_JWKS_FILE: z.string().min(1).optional(),
  /**
   * Fetch SIGNING_JWKS_URL over plain http from a cluster-internal name (`signing`, `payrail-signing`,
   * `service.namespace.svc[.cluster.local]`): an explicit opt-in, logged at boot. Public keys only; see docs/operations.md.
   */
  SIGNING_JWKS_ALLOW_HTTP: envBool.default(false),
} as const;

export type SigningJwksSource = { url: string; allowInsecureClusterHttp: boolean } | { file: string };

/**
 * The JWKS URL rule of @payrail/crypto (`checkJwksUrl`, the one RemoteJwksClient applies), passed in by the app so
 * that a URL the client would refuse stops the process here, as a configuration error (libs/config does not depend
 * on the crypto library).
 */
export type JwksUrlRule = (
  url: string,
  opts: { allowInsecureClusterHttp: boolean },
) => { ok: true; origin: string; transport: 'https' | 'loopback-http' | 'cluster-http' } | { ok: false; reason: string; optInWouldAllow: boolean };

/**
 * SIGNING_JWKS_URL (if set) and SIGNING_JWKS_ALLOW_HTTP checked with `rule`: a URL the client would refuse is a
 * problem of SIGNING_JWKS_URL; plain http to a cluster-internal name needs SIGNING_JWKS_ALLOW_HTTP=true; the opt-in
 * is refused where it would allow nothing (no URL, an https or loopback URL), so it is never left on unnoticed.
 */
export function signingJwksUrl(
  e: { SIGNING_JWKS_URL?: string; SIGNING_JWKS_ALLOW_HTTP: boolean },
  rule: JwksUrlRule,
): { url: string; allowInsecureClusterHttp: boolean } | undefined {
  const url = e.SIGNING_JWKS_URL;
  const allow = e.SIGNING_JWKS_ALLOW_HTTP;
  if (url === undefined) {
    if (allow) throw new ConfigError([{ variable: 'SIGNING_JWKS_ALLOW_HTTP', reason: 'applies only to SIGNING_JWKS_URL (plain http to a cluster-internal name), which is not set: remove it' }]);
    return undefined;
  }
  const check = rule(url, { allowInsecureClusterHttp: allow });
  if (!check.ok) {
    const hint = check.optInWouldAllow ? ' (SIGNING_JWKS_ALLOW_HTTP=true; only where a network policy restricts who answers on that name: see docs/operations.md)' : '';
    throw new ConfigError([{ variable: 'SIGNING_JWKS_URL', reason: `${check.reason}${hint}` }]);
  }
  if (allow && check.transport !== 'cluster-http') {
    throw new ConfigError([{ variable: 'SIGNING_JWKS_ALLOW_HTTP', reason: `is true but SIGNING_JWKS_URL (${check.origin}) is not plain http to a cluster-internal name: remove it` }]);
  }
  return { url, allowInsecureClusterHttp: check.transport === 'cluster-http' };
}

export function signingJwksSource(e: { SIGNING_JWKS_URL?: string; SIGNING_JWKS_FILE?: string; SIGNING_JWKS_ALLOW_HTTP: boolean }, rule: JwksUrlRule): SigningJwksSource {
  const remote = signingJwksUrl(e, rule);
  if (remote) return remote;
  if (e.SIGNING_JWKS_FILE) return { file: e.SIGNING_JWKS_FILE };
  throw new ConfigError([{ variable: 'SIGNING_JWKS_URL', reason: 'set SIGNING_JWKS_URL or SIGNING_JWKS_FILE to verify Payrail signatures' }]);
}

/**
 * The warn line a service logs once at boot when SIGNING_JWKS_ALLOW_HTTP is in use (undefined otherwise): the
 * origin, the variable that opted in, and why that is acceptable.
 */
export function signingJwksPlainHttpWarning(source: { url: string; allowInsecureClusterHttp: boolean } | { file: string } | undefined): { origin: string; variable: 'SIGNING_JWKS_ALLOW_HTTP'; message: string } | undefined {
  if (!source || !('url' in source) || !source.allowInsecureClusterHttp) return undefined;
  const origin = new URL(source.url).origin;
  return {
    origin,
    variable: 'SIGNING_JWKS_ALLOW_HTTP',
    message:
      `Payrail's public signing keys are fetched over plain http from ${origin} (SIGNING_JWKS_ALLOW_HTTP=true): ` +
      'acceptable because the JWKS holds public keys only and nothing secret is sent; their integrity rests on the ' +
      'network policy that limits who can answer on that name (Kubernetes: NetworkPolicies payrail-ingress-signing-jwks ' +
      'and payrail-egress-signing-jwks; compose: the project network). Where the pod network is not trusted, use an ' +
      'https SIGNING_JWKS_URL or SIGNING_JWKS_FILE.',
  };
}

/**
 * Event seals (docs/security.md): the private JWKS a producing service seals its hand-offs with (ingest, fraud-check,
 * settlement; a mounted Secret, reloaded on change), distinct from Payrail's instruction keys that only signing holds.
 */
export const eventSealKeysEnvFragment = {
  EVENT_SEAL_KEYS_FILE: z.string({ error: 'is required: the private JWKS this service seals its events with' }).min(1),
} as const;

/** The public sealing JWKS of a peer whose events this service consumes (several kids allowed for rotation). */
export const peerSealJwks = (producer: string) => z.string({ error: `is required: ${producer}'s public sealing JWKS, to verify its events` }).min(1);

/**
 * Shared fragment: the throttle of failed authentications per client address, checked before any credential is
 * (platform's ClientThrottle): CLIENT_AUTH_FAILURE_LIMIT_PER_S sustained (decimals allowed), _BURST at once. Each
 * service passes its own defaults.
 */
export function authFailureThrottleEnvFragment(defaults: { perSecond: number; burst: number }) {
  return {
    CLIENT_AUTH_FAILURE_LIMIT_PER_S: envRate(0.00001, 100_000).default(defaults.perSecond),
    CLIENT_AUTH_FAILURE_LIMIT_BURST: envInt(1, 100_000).default(defaults.burst),
  };
}

/**
 * The operator APIs' defaults (fraud-check's admin API, settlement's operators API): one failed authentication a
 * second per address, 60 at once. Their tokens are 256-bit random, so this is about the work and noise a guesser
 * causes; a misconfigured client is refused 401 sixty times, then 429.
 */
export const OPERATOR_API_AUTH_FAILURE_DEFAULTS = { perSecond: 1, burst: 60 } as const;

/** The typed form of authFailureThrottleEnvFragment. */
export function authFailureThrottle(e: { CLIENT_AUTH_FAILURE_LIMIT_PER_S: number; CLIENT_AUTH_FAILURE_LIMIT_BURST: number }): { perSecond: number; burst: number } {
  return { perSecond: e.CLIENT_AUTH_FAILURE_LIMIT_PER_S, burst: e.CLIENT_AUTH_FAILURE_LIMIT_BURST };
}
