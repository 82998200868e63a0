// Payrail's private signing keys, held only by the signing service: loaded from SIGNING_KEYS_FILE (a Kubernetes
// Secret mounted as a file), checked before anything is consumed, re-read when the file changes or on SIGHUP
// (rotation without restart, see docs/runbooks/key-rotation.md). Framework-free; the NestJS provider wraps it.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError } from '@payrail/config';
import { PAYMENT_INSTRUCTION_JWS_TYPE, SETTLEMENT_BATCH_JWS_TYPE } from '@payrail/contracts';
import { JwsSigner, KeyConfigError, type KeyState, PayrailKeyStore, ReloadingKeyStore, generateDevKeys } from '@payrail/crypto';

/** Explicit JWS types (RFC 8725 3.11): an instruction can never pass for a settlement report, nor the reverse. */
export const JWS_TYPES = {
  instruction: PAYMENT_INSTRUCTION_JWS_TYPE,
  settlementBatch: SETTLEMENT_BATCH_JWS_TYPE,
} as const;
export type SignedDocument = keyof typeof JWS_TYPES;

export interface KeyRingLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KeyRingOptions {
  keysFile: string;
  /** Development only: create the file (one ES256 key) when it does not exist. */
  generateDevKeys: boolean;
  /** Keys that vanish from the file keep verifying for this long (ReloadingKeyStore's overlap). Default 24 h. */
  overlapMs?: number;
}

export interface PublishedJwks {
  /** The JSON body served at /.well-known/jwks.json: active and verify-only public signing keys. */
  body: string;
  /** Strong validator of the body (changes exactly when the published keys change). */
  etag: string;
  kids: string[];
}

const VARIABLE = 'SIGNING_KEYS_FILE';

/** Until the service's logger takes over: one JSON line on stderr, like the platform's start-up messages. */
const stderrLogger: KeyRingLogger = {
  info: () => undefined,
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', service: 'signing', ...obj, msg })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'error', service: 'signing', ...obj, msg })}\n`),
};

/** kid -> state of the signing keys (what a rotation changes). */
export type SigningKeyStates = ReadonlyMap<string, KeyState>;

export class SigningKeyRing {
  private logger: KeyRingLogger = stderrLogger;
  private reloadListener: ((before: SigningKeyStates, after: SigningKeyStates) => void) | undefined;
  private lastStates: SigningKeyStates;
  private readonly signers: Record<SignedDocument, JwsSigner>;

  private constructor(
    private readonly store: ReloadingKeyStore,
    readonly keysFile: string,
    /** True when this start created development keys (the service logs a warning). */
    readonly generatedDevKeys: boolean,
  ) {
    this.signers = {
      instruction: new JwsSigner(store, { typ: JWS_TYPES.instruction }),
      settlementBatch: new JwsSigner(store, { typ: JWS_TYPES.settlementBatch }),
    };
    this.lastStates = this.keyStates();
  }

  /**
   * Loads the keys, or refuses with a ConfigError naming SIGNING_KEYS_FILE: a missing or unreadable file, invalid
   * JSON, a weak key (RSA < 2048 bits, a curve other than P-256 / Ed25519), a private key that does not match its
   * public members, no active key with a private part, several active keys, or an encryption key (this file holds
   * signing keys only). Never echoes key material.
   */
  static async open(opts: KeyRingOptions): Promise<SigningKeyRing> {
    let generated = false;
    if (!existsSync(opts.keysFile)) {
      if (!opts.generateDevKeys) {
        throw refuse(`${opts.keysFile} does not exist: mount Payrail's private signing JWKS there (for development only, SIGNING_GENERATE_DEV_KEYS=true creates one)`);
      }
      await writeDevSigningKeys(opts.keysFile);
      generated = true;
    }
    // the store's callbacks reach the ring (and the logger it is given later) once it exists
    const created: { ring?: SigningKeyRing } = {};
    try {
      const store = await ReloadingKeyStore.watch(opts.keysFile, {
        signal: 'SIGHUP',
        overlapMs: opts.overlapMs,
        onReload: (ks) => created.ring?.reloaded(ks),
        onError: (err) => (created.ring?.logger ?? stderrLogger).error({ file: opts.keysFile, err: err.message }, 'signing key reload refused; the previous keys stay in use'),
      });
      const ring = new SigningKeyRing(store, opts.keysFile, generated);
      try {
        ring.check(store.current());
      } catch (err) {
        store.close();
        throw err;
      }
      created.ring = ring;
      return ring;
    } catch (err) {
      if (err instanceof KeyConfigError) throw refuse(err.message.includes(opts.keysFile) ? err.message : `key file ${opts.keysFile}: ${err.message}`);
      throw err;
    }
  }

  useLogger(logger: KeyRingLogger): void {
    this.logger = logger;
  }

  /** Called after each accepted reload with the signing keys' states before and after it (rotation metrics). */
  onReload(listener: (before: SigningKeyStates, after: SigningKeyStates) => void): void {
    this.reloadListener = listener;
  }

  /**
   * The keys loaded now (the file holds signing keys only: checked at start) and their current state; a key carried
   * over a rotation reads retired once its overlap ends.
   */
  keyStates(): SigningKeyStates {
    const ks = this.store.current();
    const states = new Map<string, KeyState>();
    for (const kid of ks.kids()) {
      const state = ks.state(kid);
      if (state) states.set(kid, state);
    }
    return states;
  }

  /**
   * Signs the canonical (RFC 8785) JSON of `payload` with the active key. The kid is read in the same synchronous
   * step as the signature, so it is the kid in the header even while a rotation swaps the keys.
   */
  sign(document: SignedDocument, payload: unknown): { jws: string; kid: string } {
    const signer = this.signers[document];
    const kid = signer.kid;
    return { jws: signer.sign(payload), kid };
  }

  activeKey(): { kid: string; alg: string } {
    return this.store.current().activeKey('sig');
  }

  /** Active and verify-only public signing keys (never private members, never encryption keys). */
  publishedJwks(): PublishedJwks {
    const keys = this.store.current().publicJwks().keys.filter((k) => k['use'] === 'sig');
    const body = JSON.stringify({ keys });
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    return { body, etag, kids: keys.map((k) => String(k['kid'])) };
  }

  /** Re-reads the file now (what SIGHUP does). Rejects, keeping the current keys, when the new file is unusable. */
  reload(): Promise<void> {
    return this.store.reload();
  }

  close(): void {
    this.store.close();
  }

  private reloaded(ks: PayrailKeyStore): void {
    const before = this.lastStates;
    this.lastStates = this.keyStates();
    this.reloadListener?.(before, this.lastStates);
    try {
      this.check(ks);
      this.logger.info({ file: this.keysFile, active_kid: ks.activeKey('sig').kid, published: this.publishedJwks().kids }, 'signing keys reloaded');
    } catch (err) {
      // ReloadingKeyStore already refuses a file without an active signing key; an encryption key slipped into
      // the file is loaded but never published (publishedJwks filters it): say so loudly
      this.logger.error({ file: this.keysFile, err: (err as Error).message }, 'signing keys reloaded with a problem');
    }
  }

  private check(ks: PayrailKeyStore): void {
    const encryption = ks.publicJwks().keys.filter((k) => k['use'] !== 'sig');
    if (encryption.length > 0) {
      throw new KeyConfigError(`key file ${this.keysFile}: holds encryption key(s) ${encryption.map((k) => String(k['kid'])).join(', ')}; the signing service takes signing keys only (they would be published in its JWKS)`);
    }
    try {
      ks.activeKey('sig');
    } catch {
      throw new KeyConfigError(`key file ${this.keysFile}: no active signing key with a private part (mark exactly one key "payrail_state": "active"; a public JWKS cannot sign)`);
    }
  }
}

function refuse(reason: string): ConfigError {
  return new ConfigError([{ variable: VARIABLE, reason }]);
}

/**
 * One fresh ES256 key, written where SIGNING_KEYS_FILE points (0600, its folder 0700). A folder created here gets
 * a `.gitignore` of `*`, so development keys stay out of git wherever the file is put.
 */
async function writeDevSigningKeys(keysFile: string): Promise<void> {
  const dir = dirname(keysFile);
  const createdDir = !existsSync(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (createdDir) await writeFile(join(dir, '.gitignore'), '# development keys: never committed\n*\n', { mode: 0o644 });
  const { privateJwks } = await generateDevKeys({ alg: 'ES256', withEncryptionKey: false });
  const tmp = `${keysFile}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(privateJwks, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600);
  await rename(tmp, keysFile);
}
