import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, constants, KeyObject } from 'node:crypto';
import type * as nodeJose from 'node-jose';
import {
  KID_PATTERN,
  MIN_SECRET_BYTES,
  RSA_MAX_BITS,
  RSA_MIN_BITS,
  isKeyState,
  isKeyWrapAlg,
  isSigningAlg,
  type KeyState,
  type KeyUse,
  type KeyWrapAlg,
  type SigningAlg,
} from '../lib/algorithms';
import { isB64u } from '../lib/base64url';
import { KeyConfigError } from '../lib/errors';
import { isPlainObject, type JsonObject } from '../lib/json';

/** One validated key: its JOSE identity, node:crypto KeyObjects for the hot path, node-jose key for JWE. */
export interface KeyRecord {
  readonly kid: string;
  readonly kty: 'EC' | 'RSA' | 'OKP';
  readonly use: KeyUse;
  readonly alg: SigningAlg | KeyWrapAlg;
  readonly state: KeyState;
  /** Public members only (built from an allowlist, so private members can never leak). */
  readonly publicJwk: Readonly<Record<string, string>>;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject | undefined;
  /** node-jose key (EC and RSA only: node-jose has no OKP support); private when the record is. */
  readonly joseKey: nodeJose.JWK.Key | undefined;
  /** Exact signature length for this key and alg (sig keys), encrypted-key length (enc keys). */
  readonly outputBytes: number;
  /** Rotation overlap: after this instant (ms) the key counts as retired. */
  readonly expiresAt: number | undefined;
  /** Where it came from, for error messages ("file /keys/a.json, key #2"). */
  readonly source: string;
}

export interface KeyOverrides {
  kid?: string;
  use?: KeyUse;
  alg?: string;
  state?: KeyState;
}

const PUBLIC_MEMBERS: Record<KeyRecord['kty'], readonly string[]> = {
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
  RSA: ['kty', 'n', 'e'],
};
const PRIVATE_MEMBERS: Record<KeyRecord['kty'], readonly string[]> = {
  EC: ['d'],
  OKP: ['d'],
  RSA: ['d', 'p', 'q', 'dp', 'dq', 'qi'],
};

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of the required public members. */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const kty = jwk['kty'];
  let members: readonly string[];
  if (kty === 'EC') members = ['crv', 'kty', 'x', 'y'];
  else if (kty === 'OKP') members = ['crv', 'kty', 'x'];
  else if (kty === 'RSA') members = ['e', 'kty', 'n'];
  else throw new KeyConfigError(`cannot compute a thumbprint for key type ${String(kty)}`);
  const parts: string[] = [];
  for (const m of members) {
    const v = jwk[m];
    if (typeof v !== 'string') throw new KeyConfigError(`cannot compute a thumbprint: member ${m} missing`);
    parts.push(`${JSON.stringify(m)}:${JSON.stringify(v)}`);
  }
  return createHash('sha256').update(`{${parts.join(',')}}`).digest('base64url');
}

function str(jwk: JsonObject, member: string, where: string): string {
  const v = jwk[member];
  if (typeof v !== 'string' || !isB64u(v) || v.length === 0) throw new KeyConfigError(`${where}: member "${member}" is missing or not base64url`);
  return v;
}

function bytesOf(b64u: string): number {
  return Buffer.from(b64u, 'base64url').length;
}

function resolveUseAndAlg(kty: KeyRecord['kty'], jwk: JsonObject, o: KeyOverrides, where: string): { use: KeyUse; alg: SigningAlg | KeyWrapAlg } {
  const declaredUse = o.use ?? jwk['use'];
  const declaredAlg = o.alg ?? jwk['alg'];
  if (declaredUse !== undefined && declaredUse !== 'sig' && declaredUse !== 'enc') {
    throw new KeyConfigError(`${where}: use "${String(declaredUse)}" is not supported (sig or enc)`);
  }
  const allowed: Record<KeyRecord['kty'], { sig: SigningAlg | undefined; enc: KeyWrapAlg | undefined }> = {
    EC: { sig: 'ES256', enc: 'ECDH-ES+A256KW' },
    OKP: { sig: 'EdDSA', enc: undefined },
    RSA: { sig: 'PS256', enc: 'RSA-OAEP-256' },
  };
  if (declaredAlg !== undefined) {
    const alg = declaredAlg;
    const use: KeyUse | undefined = isSigningAlg(alg) ? 'sig' : isKeyWrapAlg(alg) ? 'enc' : undefined;
    if (use === undefined || allowed[kty][use] !== alg) {
      const list = [allowed[kty].sig, allowed[kty].enc].filter((a) => a !== undefined).join(', ');
      throw new KeyConfigError(`${where}: alg "${String(alg)}" is not accepted for a ${kty} key (allowed: ${list})`);
    }
    if (declaredUse !== undefined && declaredUse !== use) throw new KeyConfigError(`${where}: alg ${alg} contradicts use "${declaredUse}"`);
    return { use, alg: alg as SigningAlg | KeyWrapAlg };
  }
  const use: KeyUse = declaredUse ?? 'sig';
  const alg = allowed[kty][use];
  if (alg === undefined) throw new KeyConfigError(`${where}: a ${kty} key cannot be used for ${use}`);
  return { use, alg };
}

function checkStrength(kty: KeyRecord['kty'], jwk: JsonObject, where: string): void {
  if (kty === 'EC') {
    if (jwk['crv'] !== 'P-256') throw new KeyConfigError(`${where}: curve "${String(jwk['crv'])}" is not accepted (EC keys must be P-256)`);
    if (bytesOf(str(jwk, 'x', where)) !== 32 || bytesOf(str(jwk, 'y', where)) !== 32) throw new KeyConfigError(`${where}: P-256 coordinates must be 32 bytes`);
  } else if (kty === 'OKP') {
    if (jwk['crv'] !== 'Ed25519') throw new KeyConfigError(`${where}: curve "${String(jwk['crv'])}" is not accepted (OKP keys must be Ed25519)`);
    if (bytesOf(str(jwk, 'x', where)) !== 32) throw new KeyConfigError(`${where}: Ed25519 public key must be 32 bytes`);
  } else {
    const n = Buffer.from(str(jwk, 'n', where), 'base64url');
    const e = Buffer.from(str(jwk, 'e', where), 'base64url');
    const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0] ?? 0));
    if (bits < RSA_MIN_BITS) throw new KeyConfigError(`${where}: RSA key of ${bits} bits is too weak (minimum ${RSA_MIN_BITS})`);
    if (bits > RSA_MAX_BITS) throw new KeyConfigError(`${where}: RSA key of ${bits} bits is larger than ${RSA_MAX_BITS}`);
    const exp = e.length === 0 || e.length > 4 ? 0 : e.readUIntBE(0, e.length);
    if (exp < 65537 || exp % 2 === 0) throw new KeyConfigError(`${where}: RSA public exponent must be odd, >= 65537 and < 2^32`);
  }
}

/** Signs and verifies a probe so a private key that does not belong to its public members is refused at load. */
function selfTest(kty: KeyRecord['kty'], privateKey: KeyObject, publicKey: KeyObject, where: string): void {
  const probe = Buffer.from('payrail key self-test');
  let ok = false;
  try {
    if (kty === 'OKP') ok = cryptoVerify(null, probe, publicKey, cryptoSign(null, probe, privateKey));
    else if (kty === 'EC') ok = cryptoVerify('sha256', probe, publicKey, cryptoSign('sha256', probe, privateKey));
    else {
      const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
      ok = cryptoVerify('sha256', probe, { key: publicKey, ...pss }, cryptoSign('sha256', probe, { key: privateKey, ...pss }));
    }
  } catch {
    ok = false;
  }
  if (!ok) throw new KeyConfigError(`${where}: private key does not match its public members`);
}

export function signatureBytes(kty: KeyRecord['kty'], publicJwk: Readonly<Record<string, string>>): number {
  if (kty === 'RSA') return Buffer.from(publicJwk['n'] ?? '', 'base64url').length;
  return 64; // ES256 (IEEE P1363 r||s) and Ed25519
}

export interface BuildOptions {
  overrides?: KeyOverrides;
  /** Refuse private members (keys fetched from a remote JWKS). */
  publicOnly?: boolean;
}

/** Validates one JWK and builds its record (without its node-jose key). Throws KeyConfigError naming `where`, never echoing key material. */
export function buildKeyRecord(input: unknown, where: string, opts: BuildOptions = {}): KeyRecord {
  if (!isPlainObject(input)) throw new KeyConfigError(`${where}: not a JWK object`);
  const jwk = input;
  const o = opts.overrides ?? {};
  const kty = jwk['kty'];
  if (kty === 'oct') {
    const k = typeof jwk['k'] === 'string' ? Buffer.from(jwk['k'], 'base64url').length : 0;
    if (k < MIN_SECRET_BYTES) throw new KeyConfigError(`${where}: HMAC secret of ${k * 8} bits is too short (minimum ${MIN_SECRET_BYTES * 8})`);
    throw new KeyConfigError(`${where}: symmetric (oct) keys are not accepted in a keystore; Payrail signs and encrypts with asymmetric keys`);
  }
  if (kty !== 'EC' && kty !== 'OKP' && kty !== 'RSA') throw new KeyConfigError(`${where}: key type "${String(kty)}" is not supported (EC P-256, OKP Ed25519, RSA)`);
  checkStrength(kty, jwk, where);
  const { use, alg } = resolveUseAndAlg(kty, jwk, o, where);

  const publicMembers: Record<string, string> = {};
  for (const m of PUBLIC_MEMBERS[kty]) {
    const v = jwk[m];
    if (typeof v !== 'string') throw new KeyConfigError(`${where}: member "${m}" is missing`);
    publicMembers[m] = v;
  }
  const privatePresent = PRIVATE_MEMBERS[kty].filter((m) => jwk[m] !== undefined);
  if (privatePresent.length > 0 && opts.publicOnly) throw new KeyConfigError(`${where}: a public key set must not contain private key members`);
  if (privatePresent.length > 0 && privatePresent.length !== PRIVATE_MEMBERS[kty].length) {
    throw new KeyConfigError(`${where}: incomplete private key (needs ${PRIVATE_MEMBERS[kty].join(', ')})`);
  }

  let publicKey: KeyObject;
  let privateKey: KeyObject | undefined;
  const privateMembers: Record<string, string> = {};
  try {
    publicKey = createPublicKey({ key: { ...publicMembers }, format: 'jwk' });
    if (privatePresent.length > 0) {
      for (const m of PRIVATE_MEMBERS[kty]) privateMembers[m] = str(jwk, m, where);
      privateKey = createPrivateKey({ key: { ...publicMembers, ...privateMembers }, format: 'jwk' });
    }
  } catch (e) {
    if (e instanceof KeyConfigError) throw e;
    throw new KeyConfigError(`${where}: invalid key material (${kty === 'EC' ? 'point not on the curve or ' : ''}malformed members)`);
  }
  if (privateKey) selfTest(kty, privateKey, publicKey, where);

  const kidSource = o.kid ?? jwk['kid'];
  let kid: string;
  if (kidSource === undefined) kid = jwkThumbprint(publicMembers);
  else if (typeof kidSource !== 'string' || !KID_PATTERN.test(kidSource)) {
    throw new KeyConfigError(`${where}: kid must be 1-128 characters of [A-Za-z0-9_.:+=-]`);
  } else kid = kidSource;

  const stateSource = o.state ?? jwk['payrail_state'] ?? 'active';
  if (!isKeyState(stateSource)) throw new KeyConfigError(`${where}: payrail_state "${String(stateSource)}" is not one of active, verify-only, retired`);

  const publicJwk: Record<string, string> = { ...publicMembers, kid, use, alg };
  return Object.freeze({
    kid,
    kty,
    use,
    alg,
    state: stateSource,
    publicJwk: Object.freeze(publicJwk),
    publicKey,
    privateKey,
    joseKey: undefined, // attached by PayrailKeyStore (node-jose keys live in its node-jose KeyStore)
    outputBytes: signatureBytes(kty, publicJwk),
    expiresAt: undefined,
    source: where,
  });
}

/** The state a record has right now (a carried-over key past its overlap is retired). */
export function effectiveState(rec: KeyRecord, nowMs: number): KeyState {
  if (rec.expiresAt !== undefined && nowMs >= rec.expiresAt) return 'retired';
  return rec.state;
}
