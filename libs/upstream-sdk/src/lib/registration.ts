// The registration file Payrail's operators drop into ingest's UPSTREAMS_DIR for one upstream (docs/upstreams.md).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `<dir>/<upstreamId>.json` from the upstream's public JWKS file; returns its path. */
export function writeUpstreamRegistration(dir: string, upstreamId: string, publicJwksPath: string): string {
  const jwks = JSON.parse(readFileSync(publicJwksPath, 'utf8')) as unknown;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${upstreamId}.json`);
  writeFileSync(file, JSON.stringify({ upstream_id: upstreamId, jwks, algorithms: ['ES256'] }, null, 2));
  return file;
}
