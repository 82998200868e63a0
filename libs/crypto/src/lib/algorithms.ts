// The only algorithms Payrail accepts. Everything else (none, HS*, RS*, ES384+, RSA1_5, PBES2*, dir,
// ECDH-ES without key wrap, A*CBC-HS*) is refused by omission.

export type SigningAlg = 'ES256' | 'EdDSA' | 'PS256';
export type KeyWrapAlg = 'ECDH-ES+A256KW' | 'RSA-OAEP-256';
export type ContentEncryptionAlg = 'A256GCM';
export type KeyUse = 'sig' | 'enc';
export type KeyState = 'active' | 'verify-only' | 'retired';

export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'EdDSA', 'PS256'];
export const KEY_WRAP_ALGS: readonly KeyWrapAlg[] = ['ECDH-ES+A256KW', 'RSA-OAEP-256'];
export const CONTENT_ENCRYPTION_ALG: ContentEncryptionAlg = 'A256GCM';
export const KEY_STATES: readonly KeyState[] = ['active', 'verify-only', 'retired'];

export function isSigningAlg(v: unknown): v is SigningAlg {
  return v === 'ES256' || v === 'EdDSA' || v === 'PS256';
}

export function isKeyWrapAlg(v: unknown): v is KeyWrapAlg {
  return v === 'ECDH-ES+A256KW' || v === 'RSA-OAEP-256';
}

export function isKeyState(v: unknown): v is KeyState {
  return v === 'active' || v === 'verify-only' || v === 'retired';
}

/**
 * Header parameters whose presence fails verification: keys only come from our keystore or a configured
 * JWKS (never from the token), and no extension (crit, b64) or compression is supported.
 */
export const FORBIDDEN_HEADERS: ReadonlyMap<string, 'header' | 'crit' | 'zip'> = new Map([
  ['jku', 'header'],
  ['jwk', 'header'],
  ['x5u', 'header'],
  ['x5c', 'header'],
  ['x5t', 'header'],
  ['x5t#S256', 'header'],
  ['b64', 'header'],
  ['p2s', 'header'],
  ['p2c', 'header'],
  ['crit', 'crit'],
  ['zip', 'zip'],
] as const);

/** kid values we issue and accept: RFC 7638 thumbprints (base64url) or configured names. No '/', spaces or quotes. */
export const KID_PATTERN = /^[A-Za-z0-9_.:+=-]{1,128}$/;

export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 8192; // larger moduli only make verification a CPU-exhaustion vector
export const MIN_SECRET_BYTES = 32; // HMAC-SHA256 keys: at least the hash output (RFC 2104, RFC 7518 3.2)
