import { createPublicKey, type KeyObject } from 'node:crypto';
import { CONTENT_ENCRYPTION_ALG, FORBIDDEN_HEADERS, KID_PATTERN, isKeyWrapAlg, type KeyWrapAlg } from '../lib/algorithms';
import { hasCanonicalTail, isB64u } from '../lib/base64url';
import { CryptoError, KeyConfigError, type CryptoErrorReason, type CryptoLogger } from '../lib/errors';
import { isPlainObject, parseStrictJson, type JsonObject } from '../lib/json';
import { effectiveState, type KeyRecord } from '../keys/key-record';
import { ACTIVE_RECORD, KEY_CLOCK, RESOLVE_KEY, type ActiveKeyProvider, type KeyResolver } from '../keys/internal';
import type { PayrailKeyStore } from '../keys/keystore';
import type { ReloadingKeyStore } from '../keys/reloading-keystore';
import type { EcdhAgreementPool } from './agreement-pool';
import { decryptCompactNative, encryptCompactNative } from './native-jwe';

// Encryption and decryption run on node:crypto (native-jwe.ts, ~10-20x node-jose, whose EC arithmetic is
// JavaScript). Everything decryption takes from the token (algorithms, epk, zip, crit, sizes, segment lengths) is
// checked here first, and the key is the one the kid selects, with that key's one algorithm.

const RESERVED = new Set(['alg', 'enc', 'kid', 'epk', 'apu', 'apv', 'iv', 'tag', ...FORBIDDEN_HEADERS.keys()]);
const COMPACT_CHARS = /^[A-Za-z0-9_.-]+$/;
const EPK_MEMBERS = new Set(['kty', 'crv', 'x', 'y']);

export interface JweEncrypterOptions {
  /** Refuse larger plaintexts (default 128 KiB, which the default decrypter limit accepts). */
  maxPlaintextBytes?: number;
  /**
   * ECDH-ES agreements prepared off the event loop (a busy server's event loop then does ~30 us per JWE instead of
   * ~200). The caller owns the pool and closes it on shutdown. Default: computed on the spot.
   */
  agreements?: EcdhAgreementPool;
}

export interface JweEncryptOptions {
  /** Extra protected (authenticated) header members, e.g. the field a ciphertext belongs to. */
  extraProtected?: Record<string, string | number | boolean>;
}

/** Compact JWE: ECDH-ES+A256KW (P-256) or RSA-OAEP-256 by the active 'enc' key, content A256GCM, no compression. */
export class JweEncrypter {
  readonly #keys: ActiveKeyProvider;
  readonly #max: number;
  readonly #agreements: EcdhAgreementPool | undefined;

  constructor(keys: PayrailKeyStore | ReloadingKeyStore, opts: JweEncrypterOptions = {}) {
    this.#keys = keys;
    this.#max = opts.maxPlaintextBytes ?? 128 * 1024;
    this.#agreements = opts.agreements;
  }

  /** kid of the key new JWEs are encrypted to. */
  get kid(): string {
    return this.#keys[ACTIVE_RECORD]('enc').kid;
  }

  /** A fresh CEK, IV (and ephemeral key for ECDH-ES) per call; node:crypto does all of it. */
  async encrypt(plaintext: string | Buffer, opts: JweEncryptOptions = {}): Promise<string> {
    const rec = this.#keys[ACTIVE_RECORD]('enc');
    if (rec.use !== 'enc' || !isKeyWrapAlg(rec.alg)) throw new KeyConfigError(`${rec.source}: not an encryption key`);
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    if (!Buffer.isBuffer(data)) throw new TypeError('JweEncrypter: plaintext must be a string or a Buffer');
    if (data.length > this.#max) throw new RangeError(`JweEncrypter: plaintext over ${this.#max} bytes`);
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(opts.extraProtected ?? {})) {
      if (RESERVED.has(k)) throw new TypeError(`JweEncrypter: header parameter "${k}" cannot be set through extraProtected`);
      fields[k] = v;
    }
    return encryptCompactNative({ alg: rec.alg, kid: rec.kid, recipient: rec.publicKey, plaintext: data, extraProtected: fields, agreements: this.#agreements });
  }
}

export interface JweDecrypterOptions {
  /** Whole compact token, default 256 KiB. */
  maxTokenBytes?: number;
  /** Encoded protected header, default 4 KiB. */
  maxHeaderBytes?: number;
  logger?: CryptoLogger;
}

export interface DecryptedJwe {
  plaintext: Buffer;
  kid: string;
  alg: KeyWrapAlg;
  protectedHeader: Record<string, unknown>;
}

// Internal rejection, turned into a CryptoError at the boundary. Not an Error: no stack trace to capture, so
// rejecting garbage stays cheap.
class Rejection {
  constructor(
    readonly reason: CryptoErrorReason,
    readonly detail: string,
  ) {}
}

/** The ephemeral public key, checked: P-256, well-formed coordinates, on the curve. */
function checkEpk(epk: unknown): KeyObject {
  if (!isPlainObject(epk)) throw new Rejection('header', 'epk missing or not an object');
  for (const m of Object.keys(epk)) if (!EPK_MEMBERS.has(m)) throw new Rejection('header', `epk member ${m} not accepted`);
  const { kty, crv, x, y } = epk;
  if (kty !== 'EC' || crv !== 'P-256') throw new Rejection('header', 'epk is not a P-256 key');
  if (typeof x !== 'string' || typeof y !== 'string' || !isB64u(x) || !isB64u(y) || x.length !== 43 || y.length !== 43) {
    throw new Rejection('header', 'epk coordinates malformed');
  }
  try {
    return createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' }); // OpenSSL refuses points off the curve
  } catch {
    throw new Rejection('header', 'epk is not on the curve');
  }
}

/** Hardened compact JWE decryption: our algorithms only, our keys only, no zip, no PBES2, no dir, no crit. */
export class JweDecrypter {
  readonly #keys: KeyResolver;
  readonly #maxToken: number;
  readonly #maxHeader: number;
  readonly #log: CryptoLogger | undefined;

  constructor(keys: PayrailKeyStore | ReloadingKeyStore, opts: JweDecrypterOptions = {}) {
    this.#keys = keys;
    this.#maxToken = opts.maxTokenBytes ?? 256 * 1024;
    this.#maxHeader = opts.maxHeaderBytes ?? 4 * 1024;
    this.#log = opts.logger;
  }

  async decrypt(compact: string): Promise<Buffer> {
    return (await this.decryptWithHeader(compact)).plaintext;
  }

  /** Like decrypt, with the protected header (e.g. to check what the ciphertext is bound to). */
  async decryptWithHeader(compact: string): Promise<DecryptedJwe> {
    try {
      const { rec, privateKey, epk, header } = this.#check(compact);
      const [h = '', ek = '', iv = '', ct = '', tag = ''] = compact.split('.');
      let plaintext: Buffer;
      try {
        plaintext = decryptCompactNative({
          alg: rec.alg as KeyWrapAlg,
          recipient: privateKey,
          epk,
          protectedB64: h,
          header,
          encryptedKey: Buffer.from(ek, 'base64url'),
          iv: Buffer.from(iv, 'base64url'),
          ciphertext: Buffer.from(ct, 'base64url'),
          tag: Buffer.from(tag, 'base64url'),
        });
      } catch {
        throw new Rejection('decrypt', 'decryption failed');
      }
      return { plaintext, kid: rec.kid, alg: rec.alg as KeyWrapAlg, protectedHeader: header };
    } catch (e) {
      const r = e instanceof Rejection ? e : new Rejection('unavailable', `unexpected ${e instanceof Error ? e.name : 'error'}`);
      const tokenLength = typeof compact === 'string' ? compact.length : undefined;
      this.#log?.debug({ event: 'payrail.jwe.rejected', reason: r.reason, detail: r.detail, tokenLength }, 'JWE rejected');
      throw new CryptoError(r.reason);
    }
  }

  #check(token: unknown): { rec: KeyRecord; privateKey: KeyObject; epk: KeyObject | undefined; header: JsonObject } {
    if (typeof token !== 'string') throw new Rejection('format', 'not a string');
    if (token.length > this.#maxToken) throw new Rejection('size', 'token over maxTokenBytes');
    if (!COMPACT_CHARS.test(token)) throw new Rejection('format', 'character outside base64url');
    const parts = token.split('.');
    if (parts.length !== 5) throw new Rejection('format', 'not five segments');
    const [h = '', ek = '', iv = '', , tag = ''] = parts;
    if (h.length === 0 || ek.length === 0 || iv.length === 0 || tag.length === 0) throw new Rejection('format', 'empty segment');
    if (h.length > this.#maxHeader) throw new Rejection('size', 'header over maxHeaderBytes');
    if (!parts.every(hasCanonicalTail)) throw new Rejection('format', 'non-canonical base64url');
    const header = parseStrictJson(Buffer.from(h, 'base64url').toString('utf8'));
    if (!isPlainObject(header)) throw new Rejection('format', 'header is not a JSON object (or has duplicate members)');
    for (const name of Object.keys(header)) {
      const forbidden = FORBIDDEN_HEADERS.get(name);
      if (forbidden !== undefined) throw new Rejection(forbidden, `header parameter ${name} is not accepted`);
    }
    const alg = header['alg'];
    if (!isKeyWrapAlg(alg)) throw new Rejection('alg', 'alg not in the allowlist');
    if (header['enc'] !== CONTENT_ENCRYPTION_ALG) throw new Rejection('alg', 'enc not in the allowlist');
    const kid = header['kid'];
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) throw new Rejection('kid', 'kid missing or malformed');
    for (const p of ['apu', 'apv'] as const) {
      const v = header[p];
      if (v !== undefined && (typeof v !== 'string' || v.length > 256 || !isB64u(v))) throw new Rejection('header', `${p} malformed`);
    }
    const epk = alg === 'ECDH-ES+A256KW' ? checkEpk(header['epk']) : undefined;
    if (epk === undefined && header['epk'] !== undefined) throw new Rejection('header', 'epk with a non-ECDH alg');

    const found = this.#keys[RESOLVE_KEY](kid);
    const rec = found instanceof Promise ? undefined : found;
    if (rec === undefined) throw new Rejection('kid', 'unknown kid');
    if (effectiveState(rec, this.#keys[KEY_CLOCK]()) === 'retired') throw new Rejection('retired', 'key is retired');
    if (rec.use !== 'enc' || rec.alg !== alg) throw new Rejection('alg', 'alg is not the algorithm of this key');
    if (rec.privateKey === undefined) throw new Rejection('kid', 'no private key for this kid');

    const ekBytes = alg === 'ECDH-ES+A256KW' ? 40 : rec.outputBytes; // A256KW of a 32-byte CEK; RSA: modulus size
    if (Buffer.from(ek, 'base64url').length !== ekBytes) throw new Rejection('format', 'encrypted key length');
    if (Buffer.from(iv, 'base64url').length !== 12) throw new Rejection('format', 'iv length');
    if (Buffer.from(tag, 'base64url').length !== 16) throw new Rejection('format', 'tag length');
    return { rec, privateKey: rec.privateKey, epk, header };
  }
}
