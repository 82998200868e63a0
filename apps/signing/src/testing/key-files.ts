// Key files for the signing tests: what operators put in SIGNING_KEYS_FILE, good and bad.
import { generateKeyPairSync } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';

export type Jwk = Record<string, unknown>;
export type KeyState = 'active' | 'verify-only' | 'retired';

let written = 0;

/** A private ES256 signing JWK with an explicit kid and state. */
export function es256Key(kid: string, state: KeyState = 'active'): Jwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey.export({ format: 'jwk' }) as Jwk), kid, use: 'sig', alg: 'ES256', payrail_state: state };
}

export function withState(jwk: Jwk, state: KeyState): Jwk {
  return { ...jwk, payrail_state: state };
}

/** The public half as a verifier would hold it. */
export function publicOf(jwk: Jwk): Jwk {
  const { d: _d, payrail_state: _s, ...pub } = jwk;
  return pub;
}

/** Writes a JWKS the way kubelet and editors do (temp file + rename): a watcher never reads half a file. */
export function writeKeyFile(path: string, keys: Jwk[]): void {
  const tmp = `${path}.${process.pid}.${written++}.tmp`;
  writeFileSync(tmp, JSON.stringify({ keys }, null, 2), { mode: 0o600 });
  renameSync(tmp, path);
}

/** Keys the service must refuse at start-up, each with the private values that must never be echoed. */
export function refusedKeyFiles(): Array<{ name: string; keys: Jwk[] | string; reason: RegExp }> {
  const good = es256Key('payrail-sig-good');
  const other = es256Key('payrail-sig-other');
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024, publicExponent: 65537 }).privateKey.export({ format: 'jwk' }) as Jwk;
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' }) as Jwk;
  const enc = { ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Jwk), kid: 'payrail-enc', use: 'enc', alg: 'ECDH-ES+A256KW' };
  return [
    { name: 'weak RSA (1024 bits)', keys: [{ ...rsa1024, kid: 'payrail-sig-rsa', use: 'sig', alg: 'PS256' }], reason: /1024 bits is too weak/ },
    { name: 'private key that does not match its public members', keys: [{ ...good, d: other['d'] }], reason: /does not match its public members/ },
    { name: 'public keys only (nothing can sign)', keys: [publicOf(good)], reason: /no active signing key with a private part/ },
    { name: 'every key verify-only', keys: [withState(good, 'verify-only')], reason: /no active signing key with a private part/ },
    { name: 'two active keys', keys: [good, other], reason: /more than one active private signing key/ },
    { name: 'a curve other than P-256', keys: [{ ...p384, kid: 'payrail-sig-p384', use: 'sig' }], reason: /curve "P-384" is not accepted/ },
    { name: 'an encryption key in the signing key file', keys: [good, enc], reason: /holds encryption key\(s\) payrail-enc/ },
    { name: 'not JSON', keys: '{"keys": [', reason: /not valid JSON|neither a JWKS|cannot|JSON/ },
  ];
}

/** Every private value (EC/OKP `d`, RSA `d p q dp dq qi`) of some keys, to scan outputs for. */
export function privateValues(keys: Jwk[]): string[] {
  return keys.flatMap((k) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => k[m]).filter((v): v is string => typeof v === 'string' && v.length >= 16));
}
