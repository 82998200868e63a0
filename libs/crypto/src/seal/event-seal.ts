// Event seals: how one Payrail service proves to another that an event on the bus is its own. The seal is a
// detached JWS (RFC 7515 Appendix F, `header..signature`) by the producing service's own sealing key over the RFC 8785
// canonical JSON of the event without its `seal` member, and it travels in the event's `seal` member. A consumer
// verifies it with the producer's public JWKS only (never with a key named by the token), so a seal made by another
// service's key, a changed field, or a seal copied from another event does not verify.
//
// One sign per published event, one verify per consumed one, both on node:crypto (see FIELD-NOTES: node-jose is
// 20-30x slower). Sealing keys are Ed25519 (EdDSA) by default: deterministic signatures, so an event published again
// (a redelivery, a decision re-published from its record) carries the very same seal, byte for byte; ES256 keys are
// accepted too.
import { CanonicalObject } from '../lib/canonical';
import { CryptoError, KeyConfigError, type CryptoErrorReason } from '../lib/errors';
import { JwsSigner } from '../jws/signer';
import { JwsVerifier } from '../jws/verifier';
import { ReloadingKeyStore } from '../keys/reloading-keystore';
import { PayrailKeyStore } from '../keys/keystore';
import { writeDevKeys } from '../keys/dev-keys';
import type { SigningAlg } from '../lib/algorithms';

/** The member of an event that carries its seal. */
export const SEAL_MEMBER = 'seal';

/** The algorithms a seal may use: the ones the sealing keys are generated with. */
export const SEAL_ALGS: SigningAlg[] = ['ES256', 'EdDSA'];

export type Sealed<T extends object> = Omit<T, typeof SEAL_MEMBER> & { seal: string };

export type SealCheck = { ok: true; kid: string } | { ok: false; reason: CryptoErrorReason | 'missing'; kid?: string };

/** A SealCheck that, when the seal verifies, also gives what it covers as canonical JSON (to sign it on). */
export type CoveredSealCheck<T extends object> = { ok: true; kid: string; covered: CanonicalObject<Omit<T, typeof SEAL_MEMBER>> } | Extract<SealCheck, { ok: false }>;

/** What a seal covers: the event without its seal, as canonical JSON. */
function covered<T extends object>(event: T): CanonicalObject<Omit<T, typeof SEAL_MEMBER>> {
  const { [SEAL_MEMBER]: _seal, ...rest } = event as Record<string, unknown>;
  return CanonicalObject.of(rest) as unknown as CanonicalObject<Omit<T, typeof SEAL_MEMBER>>;
}

/** The bytes a seal covers: canonical JSON of the event without its seal. */
export function sealedBytes(event: object): Buffer {
  return Buffer.from(covered(event).json, 'utf8');
}

/** The kid in a seal's protected header, read without verifying anything (for alerts). */
export function sealKid(seal: unknown): string | undefined {
  if (typeof seal !== 'string') return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(seal.slice(0, seal.indexOf('.')), 'base64url').toString('utf8'));
    const kid = typeof header === 'object' && header !== null ? (header as Record<string, unknown>)['kid'] : undefined;
    return typeof kid === 'string' && kid.length <= 128 ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** Seals events of one kind (its `typ`) with this service's own sealing key. */
export class EventSealer {
  readonly #signer: JwsSigner;

  constructor(keys: PayrailKeyStore | ReloadingKeyStore, typ: string) {
    this.#signer = new JwsSigner(keys, { typ });
  }

  /** The event with its seal (any seal it had is replaced). */
  seal<T extends object>(event: T): Sealed<T> {
    const { [SEAL_MEMBER]: _old, ...rest } = event as T & { seal?: unknown };
    return { ...(rest as Omit<T, typeof SEAL_MEMBER>), seal: this.#signer.signDetached(Buffer.from(CanonicalObject.of(rest).json, 'utf8')) };
  }
}

/** Verifies the seals of one kind (its `typ`) made by one peer service, with that peer's public keys only. */
export class EventSealVerifier {
  readonly #verifier: JwsVerifier;

  constructor(keys: PayrailKeyStore | ReloadingKeyStore, typ: string) {
    this.#verifier = new JwsVerifier(keys, { algorithms: SEAL_ALGS, typ, maxBodyBytes: 256 * 1024 });
  }

  /** Whether the event's seal verifies over the event as it is; never throws for a bad seal. */
  async check(event: object): Promise<SealCheck> {
    const check = await this.checkCovered(event);
    return check.ok ? { ok: true, kid: check.kid } : check;
  }

  /**
   * check, and when the seal verifies, the event without its seal as canonical JSON (what the seal covered), for a
   * consumer that signs or seals that content on: it is not canonicalised a second time.
   */
  async checkCovered<T extends object>(event: T): Promise<CoveredSealCheck<T>> {
    const seal = (event as Record<string, unknown>)[SEAL_MEMBER];
    if (typeof seal !== 'string' || seal.length === 0) return { ok: false, reason: 'missing' };
    try {
      const content = covered(event);
      const verified = await this.#verifier.verifyDetached(seal, Buffer.from(content.json, 'utf8'));
      return { ok: true, kid: verified.kid, covered: content };
    } catch (err) {
      if (err instanceof CryptoError) return { ok: false, reason: err.reason, kid: sealKid(seal) };
      throw err;
    }
  }
}

/** A service's sealing keys (a private JWKS file, reloaded on change) and the sealers and verifiers made from it. */
export class SealingKeys {
  private constructor(readonly store: ReloadingKeyStore) {}

  /** Throws KeyConfigError naming the file when it is unusable or holds no private signing key. */
  static async open(file: string): Promise<SealingKeys> {
    const store = await ReloadingKeyStore.watch(file);
    try {
      // fail at boot, not at the first event: the active signing key must have its private half
      new EventSealer(store, 'probe').seal({});
    } catch (err) {
      store.close();
      throw new KeyConfigError(`${file}: not a private sealing key (${err instanceof Error ? err.message : 'unusable'})`);
    }
    return new SealingKeys(store);
  }

  sealer(typ: string): EventSealer {
    return new EventSealer(this.store, typ);
  }

  /** Verifies this service's own seals (its restores read back what it published). */
  verifier(typ: string): EventSealVerifier {
    return new EventSealVerifier(this.store, typ);
  }

  close(): void {
    this.store.close();
  }
}

/** A peer's public sealing keys (a public JWKS file, several kids for rotation, reloaded on change). */
export class PeerSealKeys {
  private constructor(readonly store: ReloadingKeyStore) {}

  static async open(file: string): Promise<PeerSealKeys> {
    return new PeerSealKeys(await ReloadingKeyStore.watch(file));
  }

  verifier(typ: string): EventSealVerifier {
    return new EventSealVerifier(this.store, typ);
  }

  close(): void {
    this.store.close();
  }
}

/**
 * Writes a fresh Ed25519 (EdDSA) sealing key pair under `dir` (private.jwks.json 0600, public.jwks.json 0644): what
 * `payrail-cli dev-setup` gives each sealing service, and what tests seal the events they build by hand with.
 */
export async function writeSealKeys(dir: string): Promise<{ privateFile: string; publicFile: string; sealer(typ: string): Promise<EventSealer> }> {
  const { privatePath, publicPath } = await writeDevKeys(dir, { alg: 'EdDSA', withEncryptionKey: false, overwrite: true });
  let store: Promise<PayrailKeyStore> | undefined;
  return {
    privateFile: privatePath,
    publicFile: publicPath,
    sealer: async (typ) => new EventSealer(await (store ??= PayrailKeyStore.fromFile(privatePath)), typ),
  };
}
