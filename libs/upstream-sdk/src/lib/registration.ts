// The registration file Payrail's operators drop into ingest's UPSTREAMS_DIR for one upstream (docs/upstreams.md).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Ingest's rate limit for one upstream, over all its instances: `requests_per_second` sustained, `burst` at once. */
export interface UpstreamLimits {
  requests_per_second: number;
  burst: number;
}

export const DEFAULT_UPSTREAM_LIMITS: UpstreamLimits = { requests_per_second: 1000, burst: 2000 };

/** Writes `<dir>/<upstreamId>.json` from the upstream's public JWKS file; returns its path. */
export function writeUpstreamRegistration(dir: string, upstreamId: string, publicJwksPath: string, limits: UpstreamLimits = DEFAULT_UPSTREAM_LIMITS): string {
  const jwks = JSON.parse(readFileSync(publicJwksPath, 'utf8')) as unknown;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${upstreamId}.json`);
  writeFileSync(file, JSON.stringify({ upstream_id: upstreamId, jwks, algorithms: ['ES256'], limits }, null, 2));
  return file;
}
