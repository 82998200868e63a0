import { isSigningAlg, KID_PATTERN, type SigningAlg } from '../lib/algorithms';
import { b64uEncode } from '../lib/base64url';
import { CanonicalObject, canonicalJson } from '../lib/canonical';
import { KeyConfigError } from '../lib/errors';
import { FORBIDDEN_HEADERS } from '../lib/algorithms';
import type { KeyRecord } from '../keys/key-record';
import { ACTIVE_RECORD, type ActiveKeyProvider } from '../keys/internal';
import type { PayrailKeyStore } from '../keys/keystore';
import type { ReloadingKeyStore } from '../keys/reloading-keystore';
import { rawSign } from './sign-primitives';

export interface JwsSignerOptions {
  /** Explicit type (RFC 8725 3.11), e.g. "payrail-payment+jws"; verifiers can require it. Default: no typ. */
  typ?: string;
}

// Members the caller may not set through extraProtected: they belong to us, or we refuse them on verify.
const RESERVED = new Set(['alg', 'kid', 'typ', 'enc', 'epk', 'apu', 'apv', 'iv', 'tag', ...FORBIDDEN_HEADERS.keys()]);

interface Prepared {
  readonly record: KeyRecord;
  readonly alg: SigningAlg;
  readonly headerB64: string;
}

/**
 * Compact JWS over RFC 8785 canonical JSON, signed synchronously with node:crypto (the node-jose path is
 * 20-30x slower). Equal payments give byte-identical signing input whatever their key order.
 */
export class JwsSigner {
  readonly #keys: ActiveKeyProvider;
  readonly #typ: string | undefined;
  #prepared: Prepared | undefined;

  constructor(keys: PayrailKeyStore | ReloadingKeyStore, opts: JwsSignerOptions = {}) {
    if (opts.typ !== undefined && (typeof opts.typ !== 'string' || opts.typ.length === 0 || opts.typ.length > 64)) {
      throw new KeyConfigError('JwsSigner: typ must be a non-empty string of at most 64 characters');
    }
    this.#keys = keys;
    this.#typ = opts.typ;
  }

  /** kid of the key that signs right now. */
  get kid(): string {
    return this.#current().record.kid;
  }

  /**
   * Compact JWS `header.payload.signature`; payload = canonical JSON of `payload` (a CanonicalObject is that JSON
   * already: it is signed as it is, not canonicalised again). Header {alg, kid, typ?, ...extra}.
   */
  sign(payload: unknown, opts: { extraProtected?: Record<string, unknown> } = {}): string {
    const p = this.#current();
    const headerB64 = opts.extraProtected === undefined ? p.headerB64 : this.#header(p.record, p.alg, opts.extraProtected);
    const json = payload instanceof CanonicalObject ? payload.json : canonicalJson(payload);
    const input = `${headerB64}.${b64uEncode(json)}`;
    const sig = rawSign(p.alg, this.#privateKey(p.record), Buffer.from(input, 'latin1'));
    return `${input}.${sig.toString('base64url')}`;
  }

  /** RFC 7515 Appendix F: `header..signature`, the body travels separately (e.g. an HTTP body) and is signed as is. */
  signDetached(body: Buffer | string): string {
    const p = this.#current();
    const bodyB64 = typeof body === 'string' ? Buffer.from(body, 'utf8').toString('base64url') : body.toString('base64url');
    const sig = rawSign(p.alg, this.#privateKey(p.record), Buffer.from(`${p.headerB64}.${bodyB64}`, 'latin1'));
    return `${p.headerB64}..${sig.toString('base64url')}`;
  }

  #current(): Prepared {
    const record = this.#keys[ACTIVE_RECORD]('sig');
    const p = this.#prepared;
    if (p !== undefined && p.record === record) return p;
    // the header is built once per signing key: rotation (a new record) rebuilds it
    if (!isSigningAlg(record.alg)) throw new KeyConfigError(`${record.source}: not a signing key`);
    const next: Prepared = { record, alg: record.alg, headerB64: this.#header(record, record.alg, undefined) };
    this.#prepared = next;
    return next;
  }

  #header(record: KeyRecord, alg: SigningAlg, extra: Record<string, unknown> | undefined): string {
    const header: Record<string, unknown> = {};
    if (extra !== undefined) {
      for (const [k, v] of Object.entries(extra)) {
        if (RESERVED.has(k)) throw new TypeError(`JwsSigner: header parameter "${k}" cannot be set through extraProtected`);
        header[k] = v;
      }
    }
    header['alg'] = alg;
    header['kid'] = record.kid;
    if (this.#typ !== undefined) header['typ'] = this.#typ;
    if (!KID_PATTERN.test(record.kid)) throw new KeyConfigError(`${record.source}: kid not usable in a header`);
    return b64uEncode(canonicalJson(header));
  }

  #privateKey(record: KeyRecord): NonNullable<KeyRecord['privateKey']> {
    if (record.privateKey === undefined) throw new KeyConfigError(`${record.source}: the active signing key has no private part`);
    return record.privateKey;
  }
}
