import { FORBIDDEN_HEADERS, KID_PATTERN, isSigningAlg, type SigningAlg } from '../lib/algorithms';
import { hasCanonicalTail } from '../lib/base64url';
import { CryptoError, KeyConfigError, type CryptoErrorReason, type CryptoLogger } from '../lib/errors';
import { isPlainObject, parseStrictJson, type JsonObject } from '../lib/json';
import { effectiveState, type KeyRecord } from '../keys/key-record';
import { KEY_CLOCK, RESOLVE_KEY, type KeyResolver } from '../keys/internal';
import type { PayrailKeyStore } from '../keys/keystore';
import type { ReloadingKeyStore } from '../keys/reloading-keystore';
import type { ReplayStore } from '../replay/replay-store';
import type { RemoteJwksClient } from './remote-jwks';
import { rawVerify, rawVerifyOffloaded } from './sign-primitives';

export interface VerifyPolicy {
  /** Explicit allowlist (required). A token must also use the one algorithm of the key its kid names. */
  algorithms: SigningAlg[];
  /** Whole compact token, default 64 KiB. */
  maxTokenBytes?: number;
  /** Encoded protected header, default 4 KiB. */
  maxHeaderBytes?: number;
  /** Detached bodies (verifyDetached), default 1 MiB. */
  maxBodyBytes?: number;
  /** Tolerance for exp / nbf / iat, default 60 s, at most 600 s. */
  clockSkewSeconds?: number;
  /** Require payload.iat (seconds since the epoch). */
  requireIat?: boolean;
  /** Reject payloads whose iat is older than this (implies requireIat). */
  maxAgeSeconds?: number;
  /** Require payload.exp. */
  requireExp?: boolean;
  /**
   * Require this typ header, or one of these (compared case-insensitively, "application/" prefix optional, RFC
   * 7515 4.1.9): a token of one kind is never accepted as another (RFC 8725 3.11).
   */
  typ?: string | readonly string[];
  /**
   * false: a token without typ passes, one with a typ must carry an expected one (issuers that did not always
   * send a typ, e.g. upstreams). Default true when `typ` is set.
   */
  typRequired?: boolean;
  /**
   * Claim payload.jti once (namespaced by kid). The entry lives max(ttlSeconds, the token's remaining
   * acceptance window); a token without a bounded window (exp, or iat with maxAgeSeconds) is refused, since
   * it could be replayed once the entry expires. maxTtlSeconds (default 7 days) caps the window.
   */
  replay?: { store: ReplayStore; ttlSeconds: number; maxTtlSeconds?: number };
  /**
   * Check signatures on libuv's threadpool instead of the event loop: more verifications per second for a server
   * handling many requests at once (it uses the other cores), a little more latency for a single one. Default false.
   */
  offload?: boolean;
  /** Clock in ms, for tests. */
  now?: () => number;
}

export interface VerifiedJws<T = unknown> {
  /** The parsed payload. Its shape is the signer's: validate it (e.g. with a zod schema) before use. */
  payload: T;
  kid: string;
  alg: SigningAlg;
  protectedHeader: Record<string, unknown>;
}

const COMPACT_CHARS = /^[A-Za-z0-9_.-]+$/;
const MAX_SKEW = 600;
/** Protected headers kept parsed per verifier (a producer's events all carry the header of its active key). */
const HEADER_CACHE_SIZE = 32;

interface Settings {
  readonly algorithms: ReadonlySet<SigningAlg>;
  readonly maxTokenBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  readonly skew: number;
  readonly requireIat: boolean;
  readonly maxAge: number | undefined;
  readonly requireExp: boolean;
  readonly typ: ReadonlySet<string> | undefined;
  readonly typRequired: boolean;
  readonly replay: { readonly store: ReplayStore; readonly ttl: number; readonly maxTtl: number } | undefined;
  readonly offload: boolean;
  readonly now: () => number;
}

/** A protected header that passed every header check of this verifier's policy. */
interface CheckedHeader {
  readonly header: JsonObject;
  readonly alg: SigningAlg;
  readonly kid: string;
}

interface Parsed extends CheckedHeader {
  readonly headerB64: string;
  readonly payloadB64: string;
  readonly signatureB64: string;
}

// Internal rejection, turned into a CryptoError at the boundary. Not an Error: no stack trace to capture, so
// rejecting garbage stays cheap.
class Rejection {
  constructor(
    readonly reason: CryptoErrorReason,
    readonly detail: string,
    readonly kid?: string,
  ) {}
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw new KeyConfigError(`VerifyPolicy.${name} must be a positive integer`);
  return v;
}

function typSet(typ: VerifyPolicy['typ']): ReadonlySet<string> | undefined {
  if (typ === undefined) return undefined;
  const list: readonly string[] = typeof typ === 'string' ? [typ] : typ;
  if (list.length === 0 || list.some((t) => typeof t !== 'string' || t.length === 0)) throw new KeyConfigError('VerifyPolicy.typ must be a non-empty string or list of them');
  return new Set(list.map(normaliseTyp));
}

function normaliseTyp(t: string): string {
  const lower = t.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function settingsFrom(policy: VerifyPolicy): Settings {
  if (!policy || !Array.isArray(policy.algorithms) || policy.algorithms.length === 0) {
    throw new KeyConfigError('VerifyPolicy.algorithms must list at least one algorithm');
  }
  for (const a of policy.algorithms) if (!isSigningAlg(a)) throw new KeyConfigError(`VerifyPolicy.algorithms: "${String(a)}" is not accepted (ES256, EdDSA, PS256)`);
  const skew = policy.clockSkewSeconds ?? 60;
  if (!Number.isFinite(skew) || skew < 0 || skew > MAX_SKEW) throw new KeyConfigError(`VerifyPolicy.clockSkewSeconds must be between 0 and ${MAX_SKEW}`);
  const maxAge = policy.maxAgeSeconds === undefined ? undefined : positiveInt('maxAgeSeconds', policy.maxAgeSeconds, 0);
  let replay: Settings['replay'];
  if (policy.replay) {
    if (typeof policy.replay.store?.claimOnce !== 'function') throw new KeyConfigError('VerifyPolicy.replay.store must implement ReplayStore');
    replay = {
      store: policy.replay.store,
      ttl: positiveInt('replay.ttlSeconds', policy.replay.ttlSeconds, 0),
      maxTtl: positiveInt('replay.maxTtlSeconds', policy.replay.maxTtlSeconds, 7 * 24 * 3600),
    };
  }
  return Object.freeze({
    algorithms: new Set(policy.algorithms),
    maxTokenBytes: positiveInt('maxTokenBytes', policy.maxTokenBytes, 64 * 1024),
    maxHeaderBytes: positiveInt('maxHeaderBytes', policy.maxHeaderBytes, 4 * 1024),
    maxBodyBytes: positiveInt('maxBodyBytes', policy.maxBodyBytes, 1024 * 1024),
    skew,
    requireIat: policy.requireIat === true || maxAge !== undefined,
    maxAge,
    requireExp: policy.requireExp === true,
    typ: typSet(policy.typ),
    typRequired: policy.typRequired !== false,
    replay,
    offload: policy.offload === true,
    now: policy.now ?? Date.now,
  });
}

/**
 * Verifies compact and detached JWS on node:crypto, with the policy checked on every call. It never calls
 * node-jose's JWS verifier, whose module-wide option defaults can be changed by any other caller in the
 * process (allowEmbeddedKey, algorithms). Keys come only from the configured store or JWKS, by kid.
 */
export class JwsVerifier {
  readonly #keys: KeyResolver;
  readonly #s: Settings;
  readonly #log: CryptoLogger | undefined;
  /**
   * Encoded protected header -> the result of its checks, for headers that passed them: the checks depend only on
   * the header's bytes and this verifier's (immutable) policy, so the same header is not decoded and parsed again
   * for every token. Rejected headers are never kept; the map is emptied when full (bounded whatever comes in).
   */
  readonly #headers = new Map<string, CheckedHeader>();

  constructor(keys: PayrailKeyStore | ReloadingKeyStore | RemoteJwksClient, policy: VerifyPolicy, logger?: CryptoLogger) {
    this.#keys = keys;
    this.#s = settingsFrom(policy);
    this.#log = logger;
  }

  /** Verifies `header.payload.signature`. Throws CryptoError('invalid token') with `.reason`. */
  async verify<T = unknown>(compact: string): Promise<VerifiedJws<T>> {
    try {
      const parsed = this.#parse(compact, false);
      return await this.#complete<T>(parsed, undefined);
    } catch (e) {
      throw this.#reject(e, compact);
    }
  }

  /** Verifies RFC 7515 Appendix F `header..signature` against the body it travelled with; payload = parsed JSON body. */
  async verifyDetached<T = unknown>(detached: string, body: Buffer | string): Promise<VerifiedJws<T>> {
    try {
      if (typeof body !== 'string' && !Buffer.isBuffer(body)) throw new Rejection('format', 'body is neither a string nor a Buffer');
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      if (bytes.length > this.#s.maxBodyBytes) throw new Rejection('size', 'body over maxBodyBytes');
      const parsed = this.#parse(detached, true);
      return await this.#complete<T>(parsed, bytes);
    } catch (e) {
      throw this.#reject(e, detached);
    }
  }

  #parse(token: unknown, detached: boolean): Parsed {
    const s = this.#s;
    if (typeof token !== 'string') throw new Rejection('format', 'not a string');
    if (token.length > s.maxTokenBytes) throw new Rejection('size', 'token over maxTokenBytes');
    const d1 = token.indexOf('.');
    const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
    if (d1 <= 0 || d2 < 0 || token.indexOf('.', d2 + 1) !== -1) throw new Rejection('format', 'not three segments');
    if (!COMPACT_CHARS.test(token)) throw new Rejection('format', 'character outside base64url');
    const headerB64 = token.slice(0, d1);
    const payloadB64 = token.slice(d1 + 1, d2);
    const signatureB64 = token.slice(d2 + 1);
    if (signatureB64.length === 0) throw new Rejection('format', 'empty signature');
    if (detached !== (payloadB64.length === 0)) throw new Rejection('format', detached ? 'payload present in a detached JWS' : 'empty payload');
    if (headerB64.length > s.maxHeaderBytes) throw new Rejection('size', 'header over maxHeaderBytes');
    if (!hasCanonicalTail(headerB64) || !hasCanonicalTail(payloadB64) || !hasCanonicalTail(signatureB64)) throw new Rejection('format', 'non-canonical base64url');
    let checked = this.#headers.get(headerB64);
    if (checked === undefined) {
      checked = this.#checkHeader(headerB64);
      if (this.#headers.size >= HEADER_CACHE_SIZE) this.#headers.clear();
      this.#headers.set(headerB64, checked);
    }
    return { ...checked, headerB64, payloadB64, signatureB64 };
  }

  #checkHeader(headerB64: string): CheckedHeader {
    const s = this.#s;
    const header = parseStrictJson(Buffer.from(headerB64, 'base64url').toString('utf8'));
    if (!isPlainObject(header)) throw new Rejection('format', 'header is not a JSON object (or has duplicate members)');
    for (const name of Object.keys(header)) {
      const forbidden = FORBIDDEN_HEADERS.get(name);
      if (forbidden !== undefined) throw new Rejection(forbidden, `header parameter ${name} is not accepted`);
    }
    const alg = header['alg'];
    if (typeof alg !== 'string' || !isSigningAlg(alg) || !s.algorithms.has(alg)) throw new Rejection('alg', 'alg not in the allowlist');
    const kid = header['kid'];
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) throw new Rejection('kid', 'kid missing or malformed');
    if (s.typ !== undefined) {
      const typ = header['typ'];
      const absentAllowed = typ === undefined && !s.typRequired;
      if (!absentAllowed && (typeof typ !== 'string' || !s.typ.has(normaliseTyp(typ)))) throw new Rejection('typ', 'typ mismatch');
    }
    // shared by every token with this header: nobody may change it
    return { header: deepFreeze(header), alg, kid };
  }

  async #complete<T>(p: Parsed, body: Buffer | undefined): Promise<VerifiedJws<T>> {
    const found = this.#keys[RESOLVE_KEY](p.kid);
    const record: KeyRecord | undefined = found instanceof Promise ? await found : found;
    if (record === undefined) throw new Rejection('kid', 'unknown kid', p.kid);
    if (effectiveState(record, this.#keys[KEY_CLOCK]()) === 'retired') throw new Rejection('retired', 'key is retired', p.kid);
    if (record.use !== 'sig' || record.alg !== p.alg) throw new Rejection('alg', 'alg is not the algorithm of this key', p.kid);
    const signature = Buffer.from(p.signatureB64, 'base64url');
    if (signature.length !== record.outputBytes) throw new Rejection('signature', 'signature length', p.kid);
    const payloadB64 = body === undefined ? p.payloadB64 : body.toString('base64url');
    const signingInput = Buffer.from(`${p.headerB64}.${payloadB64}`, 'latin1');
    const valid = this.#s.offload ? await rawVerifyOffloaded(p.alg, record.publicKey, signingInput, signature) : rawVerify(p.alg, record.publicKey, signingInput, signature);
    if (!valid) {
      throw new Rejection('signature', 'signature does not verify', p.kid);
    }
    const text = body === undefined ? Buffer.from(p.payloadB64, 'base64url').toString('utf8') : body.toString('utf8');
    const payload = parseStrictJson(text);
    if (payload === undefined) throw new Rejection('format', 'payload is not JSON (or has duplicate members)');
    await this.#claims(payload, p.kid);
    return { payload: payload as T, kid: p.kid, alg: p.alg, protectedHeader: p.header };
  }

  async #claims(payload: unknown, kid: string): Promise<void> {
    const s = this.#s;
    const needsObject = s.requireIat || s.requireExp || s.replay !== undefined;
    if (!isPlainObject(payload)) {
      if (needsObject) throw new Rejection('claims', 'payload is not an object');
      return;
    }
    const nowS = s.now() / 1000;
    let deadline = Infinity; // last second at which this token is still acceptable
    const exp = payload['exp'];
    if (exp !== undefined) {
      if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new Rejection('claims', 'exp is not a number');
      if (nowS > exp + s.skew) throw new Rejection('expired', 'exp passed');
      deadline = exp + s.skew;
    } else if (s.requireExp) throw new Rejection('claims', 'exp missing');
    const nbf = payload['nbf'];
    if (nbf !== undefined) {
      if (typeof nbf !== 'number' || !Number.isFinite(nbf)) throw new Rejection('claims', 'nbf is not a number');
      if (nowS + s.skew < nbf) throw new Rejection('not-before', 'nbf in the future');
    }
    const iat = payload['iat'];
    if (iat !== undefined) {
      if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new Rejection('claims', 'iat is not a number');
      if (iat > nowS + s.skew) throw new Rejection('freshness', 'iat in the future');
      if (s.maxAge !== undefined) {
        if (nowS - iat > s.maxAge + s.skew) throw new Rejection('freshness', 'iat older than maxAgeSeconds');
        deadline = Math.min(deadline, iat + s.maxAge + s.skew);
      }
    } else if (s.requireIat) throw new Rejection('freshness', 'iat missing');

    const replay = s.replay;
    if (replay === undefined) return;
    const jti = payload['jti'];
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw new Rejection('claims', 'jti missing or malformed');
    if (deadline === Infinity) throw new Rejection('claims', 'replay protection needs exp, or iat with maxAgeSeconds');
    const ttl = Math.max(replay.ttl, Math.ceil(deadline - nowS));
    if (ttl > replay.maxTtl) throw new Rejection('claims', 'acceptance window longer than replay.maxTtlSeconds');
    let first: boolean;
    try {
      first = await replay.store.claimOnce(`${kid}:${jti}`, ttl);
    } catch {
      throw new Rejection('unavailable', 'replay store failed');
    }
    if (first !== true) throw new Rejection('replay', 'jti already seen');
  }

  #reject(e: unknown, token: unknown): CryptoError {
    // anything unexpected fails closed
    const r = e instanceof Rejection ? e : new Rejection('unavailable', `unexpected ${e instanceof Error ? e.name : 'error'}`);
    if (this.#log) {
      // no token, payload or key material: reason, detail, the kid once it is known to name one of our keys
      const tokenLength = typeof token === 'string' ? token.length : undefined;
      this.#log.debug({ event: 'payrail.jws.rejected', reason: r.reason, detail: r.detail, kid: r.kid, tokenLength }, 'JWS rejected');
    }
    return new CryptoError(r.reason);
  }
}
