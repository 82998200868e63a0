import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { KeyUse } from '../lib/algorithms';
import { KeyConfigError } from '../lib/errors';
import { effectiveState, type KeyRecord } from './key-record';
import { ACTIVE_RECORD, KEY_CLOCK, RECORDS, RESOLVE_KEY, type ActiveKeyProvider, type KeyResolver } from './internal';
import { PayrailKeyStore, readKeyFile } from './keystore';
import { parseKeyText } from './sources';

export interface WatchOptions {
  /** Called with the new store after each successful reload. */
  onReload?: (ks: PayrailKeyStore) => void;
  /** Called when a reload fails; the previous keys stay in use. */
  onError?: (e: Error) => void;
  /**
   * The owner's own checks of a reloaded file (the same it ran at boot), before the new keys replace the old ones: a
   * rejection keeps the current keys and is reported through onError.
   */
  accept?: (fresh: PayrailKeyStore) => Promise<void>;
  /** Reload on this signal (default 'SIGHUP'); null to not listen. */
  signal?: 'SIGHUP' | null;
  /**
   * Keys that disappear from the file keep verifying (and decrypting) as 'verify-only' for this long, so messages
   * signed just before a rotation still verify. Default 24 h. A key listed as "retired" stops at once.
   */
  overlapMs?: number;
  /** Coalesces bursts of file events (editors, Kubernetes' atomic symlink swap). Default 200 ms. */
  debounceMs?: number;
  /** Also poll the file's content at this interval (filesystems where watch events are lost). Default 30 s; null: off. */
  pollIntervalMs?: number | null;
  /** Clock (ms) for the overlap. */
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Rotation without restart: a keystore that reloads its file on change (the directory is watched, which also
 * sees Kubernetes Secret updates: they swap a `..data` symlink rather than write the file), on SIGHUP, or on
 * reload(). A file that fails to load never replaces working keys.
 */
export class ReloadingKeyStore implements KeyResolver, ActiveKeyProvider {
  #current: PayrailKeyStore;
  #hash: string;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #signalHandler: (() => void) | undefined;
  #signalName: 'SIGHUP' | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #path: string;
  readonly #opts: Required<Pick<WatchOptions, 'overlapMs' | 'debounceMs'>> & WatchOptions;
  readonly #now: () => number;

  private constructor(path: string, initial: PayrailKeyStore, hash: string, opts: WatchOptions) {
    this.#path = path;
    this.#current = initial;
    this.#hash = hash;
    this.#opts = { ...opts, overlapMs: opts.overlapMs ?? DAY_MS, debounceMs: opts.debounceMs ?? 200 };
    this.#now = opts.now ?? Date.now;
  }

  /** Loads the file (throws KeyConfigError at startup if it is unusable) and starts watching it. */
  static async watch(path: string, opts: WatchOptions = {}): Promise<ReloadingKeyStore> {
    const text = await readKeyFile(path);
    const initial = await PayrailKeyStore.assemble(parseKeyText(text, `key file ${path}`), { now: opts.now });
    const ks = new ReloadingKeyStore(path, initial, sha256(text), opts);
    ks.#start();
    return ks;
  }

  current(): PayrailKeyStore {
    return this.#current;
  }

  /** Reloads now (queued behind a reload in progress). Rejects if the file is unusable; the old keys stay. */
  reload(): Promise<void> {
    const next = this.#chain.then(() => this.#load());
    this.#chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#poll) clearInterval(this.#poll);
    if (this.#signalHandler && this.#signalName) process.off(this.#signalName, this.#signalHandler);
    this.#signalHandler = undefined;
  }

  /** @internal */
  [RESOLVE_KEY](kid: string): KeyRecord | undefined {
    return this.#current[RESOLVE_KEY](kid);
  }

  /** @internal */
  [KEY_CLOCK](): number {
    return this.#now();
  }

  /** @internal */
  [ACTIVE_RECORD](use: KeyUse): KeyRecord {
    return this.#current[ACTIVE_RECORD](use);
  }

  #start(): void {
    try {
      // Any event in the directory may concern us (Kubernetes renames "..data", editors write temp files);
      // the content hash makes spurious reloads free.
      this.#watcher = watch(dirname(this.#path), { persistent: false }, () => this.#schedule());
      this.#watcher.on('error', (e: Error) => this.#report(e));
    } catch (e) {
      this.#report(e instanceof Error ? e : new Error(String(e)));
    }
    const poll = this.#opts.pollIntervalMs === undefined ? 30_000 : this.#opts.pollIntervalMs;
    if (poll !== null && poll > 0) {
      this.#poll = setInterval(() => this.#trigger(), poll);
      this.#poll.unref();
    }
    const sig = this.#opts.signal === undefined ? 'SIGHUP' : this.#opts.signal;
    if (sig !== null) {
      this.#signalHandler = () => this.#trigger();
      this.#signalName = sig;
      process.on(sig, this.#signalHandler);
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#trigger(), this.#opts.debounceMs);
    this.#debounce.unref();
  }

  #trigger(): void {
    if (this.#closed) return;
    this.reload().catch((e: unknown) => this.#report(e instanceof Error ? e : new Error(String(e))));
  }

  #report(e: Error): void {
    this.#opts.onError?.(e);
  }

  async #load(): Promise<void> {
    const text = await readKeyFile(this.#path);
    const hash = sha256(text);
    if (hash === this.#hash) return; // unchanged (poll, duplicate events)
    const fresh = await PayrailKeyStore.assemble(parseKeyText(text, `key file ${this.#path}`), { now: this.#now });
    // a bad rotation must not take signing or encryption down: keep the old keys and report
    for (const use of ['sig', 'enc'] as const) {
      if (hasActive(this.#current, use) && !hasActive(fresh, use)) {
        throw new KeyConfigError(`key file ${this.#path}: the new keys have no active ${use === 'sig' ? 'signing key with a private part' : 'encryption key'}; keeping the current keys`);
      }
    }
    if (this.#opts.accept) {
      try {
        await this.#opts.accept(fresh);
      } catch (e) {
        throw new KeyConfigError(`key file ${this.#path}: ${e instanceof Error ? e.message : 'refused'}; keeping the current keys`);
      }
    }
    const next = await this.#withOverlap(fresh);
    if (this.#closed) return;
    this.#current = next;
    this.#hash = hash;
    this.#opts.onReload?.(next);
  }

  /** Keeps keys that vanished from the file verifying for the overlap (as verify-only, with a deadline). */
  async #withOverlap(fresh: PayrailKeyStore): Promise<PayrailKeyStore> {
    const now = this.#now();
    const carried: KeyRecord[] = [];
    for (const old of this.#current[RECORDS]()) {
      if (fresh.has(old.kid)) continue;
      if (effectiveState(old, now) === 'retired') continue;
      carried.push(Object.freeze({ ...old, state: 'verify-only' as const, expiresAt: old.expiresAt ?? now + this.#opts.overlapMs }));
    }
    if (carried.length === 0) return fresh;
    try {
      return await PayrailKeyStore.fromRecords([...fresh[RECORDS](), ...carried], this.#now);
    } catch (e) {
      throw e instanceof KeyConfigError ? e : new KeyConfigError(`key file ${this.#path}: cannot merge the previous keys`);
    }
  }
}

function hasActive(ks: PayrailKeyStore, use: KeyUse): boolean {
  try {
    ks[ACTIVE_RECORD](use);
    return true;
  } catch {
    return false;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
