import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RSA_MIN_BITS, type KeyWrapAlg, type SigningAlg } from '../lib/algorithms';
import { KeyConfigError } from '../lib/errors';
import { jwkThumbprint } from './key-record';
import { PayrailKeyStore } from './keystore';

export interface DevKeyOptions {
  /** Signing algorithm (default ES256). */
  alg?: SigningAlg;
  /** Also generate an encryption key (default true: field protection needs one). */
  withEncryptionKey?: boolean;
  /** Generate the signing key (default true; false with withEncryptionKey: a file of one encryption key, e.g. ingest's inbound key). */
  withSigningKey?: boolean;
  /** Encryption key algorithm (default ECDH-ES+A256KW on P-256). */
  encAlg?: KeyWrapAlg;
  /** RSA modulus size for PS256 / RSA-OAEP-256 (default 3072, minimum 2048). */
  rsaModulusBits?: number;
}

export interface WriteDevKeyOptions extends DevKeyOptions {
  /** Replace existing files (default false: refuse, so a working key is not lost by accident). */
  overwrite?: boolean;
}

export const PRIVATE_JWKS_FILE = 'private.jwks.json';
export const PUBLIC_JWKS_FILE = 'public.jwks.json';

function privateJwk(key: KeyObject, use: 'sig' | 'enc', alg: string): Record<string, unknown> {
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
  return { ...jwk, kid: jwkThumbprint(jwk), use, alg, payrail_state: 'active' };
}

function pair(alg: SigningAlg | KeyWrapAlg, rsaBits: number): KeyObject {
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  if (alg === 'PS256' || alg === 'RSA-OAEP-256') return generateKeyPairSync('rsa', { modulusLength: rsaBits, publicExponent: 65537 }).privateKey;
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/** Development keys: a private JWKS (with payrail_state) and the public JWKS derived from it through the keystore. */
export async function generateDevKeys(opts: DevKeyOptions = {}): Promise<{ privateJwks: { keys: Array<Record<string, unknown>> }; publicJwks: { keys: Array<Record<string, unknown>> } }> {
  const alg = opts.alg ?? 'ES256';
  const rsaBits = opts.rsaModulusBits ?? 3072;
  if (rsaBits < RSA_MIN_BITS) throw new KeyConfigError(`RSA modulus of ${rsaBits} bits is too weak (minimum ${RSA_MIN_BITS})`);
  const keys = opts.withSigningKey === false ? [] : [privateJwk(pair(alg, rsaBits), 'sig', alg)];
  if (opts.withEncryptionKey ?? true) {
    const encAlg = opts.encAlg ?? 'ECDH-ES+A256KW';
    keys.push(privateJwk(pair(encAlg, rsaBits), 'enc', encAlg));
  }
  if (keys.length === 0) throw new KeyConfigError('generateDevKeys: neither a signing nor an encryption key asked for');
  const privateJwks = { keys };
  // the public half goes through the same code as production, so what we write is what we would serve
  const store = await PayrailKeyStore.fromJwks(privateJwks, { source: 'generated keys' });
  return { privateJwks, publicJwks: store.publicJwks() };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes atomically (temp file + rename) so a watching ReloadingKeyStore never reads half a file. */
async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, content, { mode, flag: 'wx' });
    await chmod(tmp, mode); // the umask may have narrowed or (for 0644) not matter: be explicit
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Writes private.jwks.json (mode 0600) and public.jwks.json (0644) into dir (created 0700 if missing). */
export async function writeDevKeys(dir: string, opts: WriteDevKeyOptions = {}): Promise<{ privatePath: string; publicPath: string }> {
  const privatePath = join(dir, PRIVATE_JWKS_FILE);
  const publicPath = join(dir, PUBLIC_JWKS_FILE);
  if (!opts.overwrite && ((await exists(privatePath)) || (await exists(publicPath)))) {
    throw new KeyConfigError(`${privatePath} or ${publicPath} already exists; pass overwrite to replace it`);
  }
  const { privateJwks, publicJwks } = await generateDevKeys(opts);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomic(privatePath, `${JSON.stringify(privateJwks, null, 2)}\n`, 0o600);
  await writeAtomic(publicPath, `${JSON.stringify(publicJwks, null, 2)}\n`, 0o644);
  return { privatePath, publicPath };
}
