// Development keys for a local run: Payrail's signing key, the data-protection key pair, the fingerprint key and
// three demo upstreams (key pairs + registrations). Written under the run's folder, never into the repository.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeDevKeys } from '@payrail/crypto';
import { writeUpstreamRegistration } from '@payrail/upstream-sdk';

export const DEMO_UPSTREAMS = ['psp-alpha', 'bank-beta', 'shop-gamma'];

export interface DevSetup {
  signingPrivateJwks: string;
  signingPublicJwks: string;
  protectionPrivateJwks: string;
  protectionPublicJwks: string;
  fingerprintKeyFile: string;
  upstreamsDir: string;
  upstreamKeysDir: string;
}

export async function devSetup(dir: string): Promise<DevSetup> {
  rmSync(dir, { recursive: true, force: true }); // fresh keys every run
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // the signing service holds signing keys only (it refuses a file with an encryption key)
  const signing = await writeDevKeys(join(dir, 'signing'), { alg: 'ES256', withEncryptionKey: false });
  const protection = await writeDevKeys(join(dir, 'protection'), { alg: 'ES256', withEncryptionKey: true });
  const fingerprintKeyFile = join(dir, 'fingerprint.key');
  writeFileSync(fingerprintKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const upstreamsDir = join(dir, 'upstreams');
  const upstreamKeysDir = join(dir, 'upstream-keys');
  for (const id of DEMO_UPSTREAMS) {
    const keys = await writeDevKeys(join(upstreamKeysDir, id), { alg: 'ES256' });
    writeUpstreamRegistration(upstreamsDir, id, keys.publicPath);
  }
  return {
    signingPrivateJwks: signing.privatePath,
    signingPublicJwks: signing.publicPath,
    protectionPrivateJwks: protection.privatePath,
    protectionPublicJwks: protection.publicPath,
    fingerprintKeyFile,
    upstreamsDir,
    upstreamKeysDir,
  };
}
