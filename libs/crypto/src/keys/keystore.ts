import { readFile, stat } from 'node:fs/promises';
import * as nodeJose from 'node-jose';
import { isKeyState, type KeyState, type KeyUse } from '../lib/algorithms';
import { KeyConfigError } from '../lib/errors';
import { isPlainObject, parseStrictJson } from '../lib/json';
import { buildKeyRecord, effectiveState, type KeyRecord } from './key-record';
import { ACTIVE_RECORD, JOSE_STORE, KEY_CLOCK, RECORDS, RESOLVE_KEY, type ActiveKeyProvider, type KeyResolver } from './internal';
import { MAX_KEY_SOURCE_BYTES, MAX_KEYS, parseKeyText, type KeyEntry, type KeyEnvSpec, type KeyFileSpec, type KeySourceOptions } from './sources';

export interface FromJwksOptions {
  /** State per kid; overrides any "payrail_state" member. */
  states?: Record<string, KeyState>;
  /** Name used in error messages. */
  source?: string;
}

export interface KeySources {
  /** Paths (or specs) of JWK, JWKS or PEM files, e.g. a Kubernetes Secret mounted as a volume. */
  files?: Array<string | KeyFileSpec>;
  /** Environment variable names (or specs) holding JWK/JWKS JSON or PEM. */
  env?: Array<string | KeyEnvSpec>;
}

/** @internal options for assembling a store. */
export interface AssembleOptions {
  now?: () => number;
  /** Keys that could not be loaded are skipped (remote JWKS) instead of failing the whole set. */
  skipInvalid?: (where: string, error: KeyConfigError) => void;
  publicOnly?: boolean;
  /** State per kid, applied before the set is checked (so it can resolve two "active" keys). */
  states?: Record<string, KeyState>;
  source?: string;
}

/** Reads a key file, refusing oversized files and naming the path in every error. */
export async function readKeyFile(path: string): Promise<string> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new KeyConfigError(`key file ${path}: not a regular file`);
    if (st.size > MAX_KEY_SOURCE_BYTES) throw new KeyConfigError(`key file ${path}: larger than ${MAX_KEY_SOURCE_BYTES} bytes`);
    return await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof KeyConfigError) throw e;
    const code = (e as { code?: unknown }).code;
    throw new KeyConfigError(`key file ${path}: cannot be read (${typeof code === 'string' ? code : 'error'})`);
  }
}

function applyStates(records: readonly KeyRecord[], states: Record<string, KeyState>, source: string): KeyRecord[] {
  const wanted = new Map(Object.entries(states));
  const known = new Set(records.map((r) => r.kid));
  for (const [kid, state] of wanted) {
    if (!known.has(kid)) throw new KeyConfigError(`${source}: states names unknown kid "${kid}"`);
    if (!isKeyState(state)) throw new KeyConfigError(`${source}: state "${String(state)}" for kid "${kid}" is not one of active, verify-only, retired`);
  }
  return records.map((r) => {
    const s = wanted.get(r.kid);
    return s === undefined ? r : Object.freeze({ ...r, state: s });
  });
}

/**
 * An immutable set of validated keys: node-jose keys (in a node-jose JWK.KeyStore, the JWE engine) and the
 * node:crypto KeyObjects derived from the same material (the sign/verify fast path). Rotation replaces the
 * whole store (see ReloadingKeyStore).
 */
export class PayrailKeyStore implements KeyResolver, ActiveKeyProvider {
  readonly #byKid: ReadonlyMap<string, KeyRecord>;
  readonly #ordered: readonly KeyRecord[];
  readonly #activeSig: KeyRecord | undefined;
  readonly #activeEnc: KeyRecord | undefined;
  readonly #ambiguousEnc: string | undefined;
  readonly #now: () => number;
  readonly #joseStore: nodeJose.JWK.KeyStore;

  private constructor(records: readonly KeyRecord[], joseStore: nodeJose.JWK.KeyStore, now: () => number) {
    const byKid = new Map<string, KeyRecord>();
    for (const r of records) {
      const other = byKid.get(r.kid);
      if (other) throw new KeyConfigError(`duplicate kid "${r.kid}" in ${other.source} and ${r.source}`);
      byKid.set(r.kid, r);
    }
    const activeSig = records.filter((r) => r.use === 'sig' && r.state === 'active' && r.privateKey !== undefined);
    const activeEnc = records.filter((r) => r.use === 'enc' && r.state === 'active');
    const kids = (rs: KeyRecord[]): string => rs.map((r) => r.kid).join(', ');
    if (activeSig.length > 1) throw new KeyConfigError(`more than one active private signing key (${kids(activeSig)}): mark all but one "verify-only"`);
    if (activeEnc.filter((r) => r.privateKey !== undefined).length > 1) {
      throw new KeyConfigError(`more than one active encryption key (${kids(activeEnc)}): mark all but one "verify-only"`);
    }
    this.#byKid = byKid;
    this.#ordered = records;
    this.#activeSig = activeSig[0];
    // A public JWKS carries no payrail_state, so during a rotation it lists two "active" encryption keys. That is
    // fine for verifying and only ambiguous for encrypting: refuse then, not at load.
    this.#activeEnc = activeEnc.length === 1 ? activeEnc[0] : undefined;
    this.#ambiguousEnc = activeEnc.length > 1 ? kids(activeEnc) : undefined;
    this.#now = now;
    this.#joseStore = joseStore;
  }

  /** A JWKS object (or JSON text), or a single JWK. A JWKS may carry per-key "payrail_state". */
  static async fromJwks(jwks: unknown, opts: FromJwksOptions = {}): Promise<PayrailKeyStore> {
    const source = opts.source ?? 'JWKS';
    let value = jwks;
    if (typeof jwks === 'string') {
      value = parseStrictJson(jwks);
      if (value === undefined) throw new KeyConfigError(`${source}: not valid JSON (or has duplicate members)`);
    }
    if (!isPlainObject(value)) throw new KeyConfigError(`${source}: not a JWKS object`);
    let list: unknown[];
    if (Array.isArray(value['keys'])) list = value['keys'];
    else if (typeof value['kty'] === 'string') list = [value];
    else throw new KeyConfigError(`${source}: neither a JWKS (keys) nor a JWK (kty)`);
    if (list.length > MAX_KEYS) throw new KeyConfigError(`${source}: more than ${MAX_KEYS} keys`);
    const entries: KeyEntry[] = list.map((jwk, i) => ({ jwk, where: `${source}, key #${i + 1}`, overrides: {} }));
    return PayrailKeyStore.assemble(entries, { states: opts.states, source });
  }

  /** A JWK, JWKS or PEM (PKCS#8 / SPKI) file. PEM carries no metadata: use defaults to 'sig' unless set in opts. */
  static async fromFile(path: string, opts: KeySourceOptions = {}): Promise<PayrailKeyStore> {
    const text = await readKeyFile(path);
    return PayrailKeyStore.assemble(parseKeyText(text, `key file ${path}`, opts));
  }

  /** Several files and environment variables merged into one store (kids must be unique across them). */
  static async fromSources(sources: KeySources, opts: { env?: Record<string, string | undefined> } = {}): Promise<PayrailKeyStore> {
    const env = opts.env ?? process.env;
    const entries: KeyEntry[] = [];
    for (const f of sources.files ?? []) {
      const spec: KeyFileSpec = typeof f === 'string' ? { path: f } : f;
      const { path, ...rest } = spec;
      entries.push(...parseKeyText(await readKeyFile(path), `key file ${path}`, rest));
    }
    for (const v of sources.env ?? []) {
      const spec: KeyEnvSpec = typeof v === 'string' ? { name: v } : v;
      const { name, ...rest } = spec;
      const value = env[name];
      if (value === undefined || value.trim() === '') throw new KeyConfigError(`environment variable ${name} is not set or empty`);
      entries.push(...parseKeyText(value, `environment variable ${name}`, rest));
    }
    if (entries.length === 0) throw new KeyConfigError('no key sources configured');
    return PayrailKeyStore.assemble(entries);
  }

  /** @internal Validates entries, derives KeyObjects and node-jose keys, and checks the set as a whole. */
  static async assemble(entries: readonly KeyEntry[], opts: AssembleOptions = {}): Promise<PayrailKeyStore> {
    if (entries.length > MAX_KEYS) throw new KeyConfigError(`more than ${MAX_KEYS} keys`);
    const records: KeyRecord[] = [];
    for (const e of entries) {
      try {
        records.push(buildKeyRecord(e.jwk, e.where, { overrides: e.overrides, publicOnly: opts.publicOnly }));
      } catch (err) {
        if (opts.skipInvalid && err instanceof KeyConfigError) opts.skipInvalid(e.where, err);
        else throw err;
      }
    }
    return PayrailKeyStore.fromRecords(opts.states ? applyStates(records, opts.states, opts.source ?? 'JWKS') : records, opts.now ?? Date.now);
  }

  /** @internal Builds a store from records, (re)creating their node-jose keys inside one node-jose KeyStore. */
  static async fromRecords(records: readonly KeyRecord[], now: () => number = Date.now): Promise<PayrailKeyStore> {
    const joseStore = nodeJose.JWK.createKeyStore();
    const withJose: KeyRecord[] = [];
    for (const r of records) {
      if (r.kty === 'OKP') {
        withJose.push(r);
        continue;
      }
      // node-jose gets the same material as the KeyObjects (exported from them, so both paths hold one key)
      const material = r.privateKey ? { ...(r.privateKey.export({ format: 'jwk' }) as Record<string, unknown>) } : { ...r.publicJwk };
      let joseKey: nodeJose.JWK.Key;
      try {
        joseKey = await joseStore.add({ ...material, kid: r.kid, use: r.use, alg: r.alg });
      } catch {
        throw new KeyConfigError(`${r.source}: node-jose refused the key`);
      }
      withJose.push(Object.freeze({ ...r, joseKey }));
    }
    return new PayrailKeyStore(withJose, joseStore, now);
  }

  /**
   * kid and alg of the key that signs ('sig', needs a private part) or that new JWEs are encrypted to ('enc').
   * Throws KeyConfigError when there is none, or several active encryption keys (a public JWKS mid-rotation).
   */
  activeKey(use: KeyUse): { kid: string; alg: string } {
    const r = this[ACTIVE_RECORD](use);
    return { kid: r.kid, alg: r.alg };
  }

  /** Public JWKS of active and verify-only keys: public members, kid, use, alg. Never private members or payrail_state. */
  publicJwks(): { keys: Array<Record<string, unknown>> } {
    const now = this.#now();
    return { keys: this.#ordered.filter((r) => effectiveState(r, now) !== 'retired').map((r) => ({ ...r.publicJwk })) };
  }

  /** True when a key with this kid is loaded, whatever its state (see state()). */
  has(kid: string): boolean {
    return this.#byKid.has(kid);
  }

  /** Current state of a key, undefined when unknown. A key carried over past its rotation overlap reads 'retired'. */
  state(kid: string): KeyState | undefined {
    const r = this.#byKid.get(kid);
    return r ? effectiveState(r, this.#now()) : undefined;
  }

  /** kids in source order. */
  kids(): string[] {
    return this.#ordered.map((r) => r.kid);
  }

  size(): number {
    return this.#byKid.size;
  }

  /** @internal */
  [RESOLVE_KEY](kid: string): KeyRecord | undefined {
    return this.#byKid.get(kid);
  }

  /** @internal */
  [KEY_CLOCK](): number {
    return this.#now();
  }

  /** @internal */
  [ACTIVE_RECORD](use: KeyUse): KeyRecord {
    const r = use === 'sig' ? this.#activeSig : this.#activeEnc;
    if (!r && use === 'enc' && this.#ambiguousEnc !== undefined) {
      throw new KeyConfigError(`several active encryption keys (${this.#ambiguousEnc}): mark all but one "verify-only"`);
    }
    if (!r) throw new KeyConfigError(use === 'sig' ? 'no active signing key with a private part is loaded' : 'no active encryption key is loaded');
    return r;
  }

  /** @internal records in source order (rotation carry-over). */
  [RECORDS](): readonly KeyRecord[] {
    return this.#ordered;
  }

  /** @internal the node-jose KeyStore holding the EC and RSA keys (JWE engine, interop tests). */
  [JOSE_STORE](): nodeJose.JWK.KeyStore {
    return this.#joseStore;
  }
}
