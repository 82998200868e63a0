// Internal capabilities shared by the keystores, signer, verifier and JWE classes. Keyed by symbols that are not
// exported from the package, so application code cannot reach private KeyObjects through the public API.
import type { KeyUse } from '../lib/algorithms';
import type { KeyRecord } from './key-record';

export const RESOLVE_KEY: unique symbol = Symbol('payrail.crypto.resolveKey');
export const ACTIVE_RECORD: unique symbol = Symbol('payrail.crypto.activeRecord');
export const KEY_CLOCK: unique symbol = Symbol('payrail.crypto.clock');
export const RECORDS: unique symbol = Symbol('payrail.crypto.records');
export const JOSE_STORE: unique symbol = Symbol('payrail.crypto.joseStore');

/** Looks a key up by kid (a Map key: never an object property, never anything from the token but the kid). */
export interface KeyResolver {
  [RESOLVE_KEY](kid: string): KeyRecord | undefined | Promise<KeyRecord | undefined>;
  /** Clock for rotation overlaps (ms). */
  [KEY_CLOCK](): number;
}

export interface ActiveKeyProvider {
  /** The key that signs (use 'sig', private) or that new JWEs are encrypted to (use 'enc'). Throws KeyConfigError. */
  [ACTIVE_RECORD](use: KeyUse): KeyRecord;
}
