// Shared test keys and token forging helpers (compiled only for specs).
import { createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { PayrailKeyStore } from '../keys/keystore';
import { CryptoError } from '../lib/errors';
import type { KeyState } from '../lib/algorithms';

export type Jwk = Record<string, unknown>;

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  privateJwk: Jwk;
  publicJwk: Jwk;
}

function make(kind: 'ec' | 'ed25519' | 'rsa', kid: string, use: 'sig' | 'enc', alg: string): TestKey {
  const pair =
    kind === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : kind === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = pair.publicKey.export({ format: 'jwk' }) as Jwk;
  const priv = pair.privateKey.export({ format: 'jwk' }) as Jwk;
  return {
    kid,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    privateJwk: { ...priv, kid, use, alg },
    publicJwk: { ...pub, kid, use, alg },
  };
}

const cache = new Map<string, TestKey>();
function cached(name: string, f: () => TestKey): TestKey {
  const hit = cache.get(name);
  if (hit) return hit;
  const k = f();
  cache.set(name, k);
  return k;
}

export const keys = {
  es256: (kid = 'es-1') => cached(`es256:${kid}`, () => make('ec', kid, 'sig', 'ES256')),
  eddsa: (kid = 'ed-1') => cached(`eddsa:${kid}`, () => make('ed25519', kid, 'sig', 'EdDSA')),
  ps256: (kid = 'ps-1') => cached(`ps256:${kid}`, () => make('rsa', kid, 'sig', 'PS256')),
  ecEnc: (kid = 'enc-1') => cached(`ecenc:${kid}`, () => make('ec', kid, 'enc', 'ECDH-ES+A256KW')),
  rsaEnc: (kid = 'rsaenc-1') => cached(`rsaenc:${kid}`, () => make('rsa', kid, 'enc', 'RSA-OAEP-256')),
};

export function withState(jwk: Jwk, state: KeyState): Jwk {
  return { ...jwk, payrail_state: state };
}

export async function storeOf(...jwks: Jwk[]): Promise<PayrailKeyStore> {
  return PayrailKeyStore.fromJwks({ keys: jwks });
}

export function b64u(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('base64url');
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('base64url');
}

/** A compact JWS with arbitrary header and payload text, ES256-signed with `key` (or an arbitrary signature). */
export function forgeEs256(header: unknown, payload: unknown, key: KeyObject): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

export function forgeEdDsa(header: unknown, payload: unknown, key: KeyObject): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${cryptoSign(null, Buffer.from(input), key).toString('base64url')}`;
}

export function forgeHs256(header: unknown, payload: unknown, secret: Buffer | string): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export const nowS = (): number => Math.floor(Date.now() / 1000);

/** The CryptoError reason a promise rejects with (its message is always the generic one), or 'accepted'. */
export async function rejectionReason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    expect((e as Error).message).toBe('invalid token');
    return (e as CryptoError).reason;
  }
  return 'accepted';
}
