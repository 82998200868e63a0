// The registration file Payrail's operators drop into ingest's UPSTREAMS_DIR for one upstream (docs/upstreams.md).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Ingest's rate limit for one upstream, over all its instances: `requests_per_second` sustained, `burst` at once. */
export interface UpstreamLimits {
  requests_per_second: number;
  burst: number;
}

export const DEFAULT_UPSTREAM_LIMITS: UpstreamLimits = { requests_per_second: 1000, burst: 2000 };

export interface UpstreamRegistrationOptions {
  /** The merchants the upstream may pay (ingest refuses payments to any other). */
  merchants: readonly string[];
  limits?: UpstreamLimits;
}

/** Writes `<dir>/<upstreamId>.json` from the upstream's public JWKS file; returns its path. */
export function writeUpstreamRegistration(dir: string, upstreamId: string, publicJwksPath: string, options: UpstreamRegistrationOptions): string {
  // only signing keys: a registration is for verifying the upstream's signatures (ingest refuses other keys)
  const { keys } = JSON.parse(readFileSync(publicJwksPath, 'utf8')) as { keys: { use?: string }[] };
  const jwks = { keys: keys.filter((k) => k.use === undefined || k.use === 'sig') };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${upstreamId}.json`);
  const registration = { upstream_id: upstreamId, jwks, algorithms: ['ES256'], merchants: [...options.merchants], limits: options.limits ?? DEFAULT_UPSTREAM_LIMITS };
  writeFileSync(file, JSON.stringify(registration, null, 2));
  return file;
}
