import { canonicalJson } from '../lib/canonical';
import { CryptoError } from '../lib/errors';
import { parseStrictJson } from '../lib/json';
import type { JweDecrypter, JweEncrypter } from '../jwe/jwe';
import { fingerprint, fingerprintField } from './fingerprint';
import { luhnValid, maskAccount, maskPan, normaliseIdentifier } from './mask';

/** Protected header member binding each field ciphertext to its path, so ciphertexts cannot be swapped between fields. */
export const PROTECTED_FIELD_HEADER = 'pfld';

export interface ProtectedFieldInfo {
  /** fingerprintField(fingerprintKey, original value): HMAC-SHA256, base64url. */
  readonly fingerprint: string;
  /** Display form for strings: maskPan for Luhn-valid 12-19 digit numbers, maskAccount for other values of 8+ characters, all '*' below. */
  readonly masked?: string;
}

/**
 * What protect() returns. `data` is a copy of the input in which every listed field that was present (not
 * undefined or null) holds a compact JWE of its canonical JSON; everything else is unchanged and readable.
 * `fields` has, per protected path, the keyed fingerprint and the masked form.
 */
export interface ProtectedRecord<D> {
  readonly data: D;
  readonly fields: Readonly<Record<string, ProtectedFieldInfo>>;
}

type ProtectedValue<V> = V extends null | undefined ? V : string;
type SubPaths<F extends string, K extends string> = F extends `${K}.${infer R}` ? R : never;

/** T with the dotted paths F replaced by JWE strings. */
export type WithProtectedFields<T, F extends string> = {
  [K in keyof T]: K extends string
    ? K extends F
      ? ProtectedValue<T[K]>
      : [SubPaths<F, K>] extends [never]
        ? T[K]
        : WithProtectedFields<T[K], SubPaths<F, K>>
    : T[K];
};

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

function parsePaths(fields: readonly string[]): string[][] {
  if (!Array.isArray(fields)) throw new TypeError('fields must be an array of paths');
  const unique = [...new Set(fields)];
  const paths = unique.map((f) => {
    if (typeof f !== 'string' || f.length === 0) throw new TypeError('field paths must be non-empty strings');
    const segs = f.split('.');
    if (segs.some((s) => s.length === 0 || FORBIDDEN_SEGMENTS.has(s))) throw new TypeError(`field path "${f}" is not accepted`);
    return segs;
  });
  for (const a of unique) for (const b of unique) if (a !== b && b.startsWith(`${a}.`)) throw new TypeError(`field paths "${a}" and "${b}" overlap`);
  return paths;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copy-on-write walk to the parent of a path: copies only the objects on the way, never mutates the input. */
function parentFor(root: Record<string, unknown>, segs: readonly string[], copied: Set<object>): Record<string, unknown> | undefined {
  let parent = root;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i] as string;
    if (!Object.hasOwn(parent, seg)) return undefined;
    const child = parent[seg];
    if (!isRecord(child)) return undefined;
    let copy = child;
    if (!copied.has(child)) {
      copy = { ...child };
      copied.add(copy);
      parent[seg] = copy;
    }
    parent = copy;
  }
  return parent;
}

/** Encrypts the sensitive fields of a payment-like object, fingerprints and masks them, leaves the rest readable. */
export class FieldProtector {
  readonly #encrypter: JweEncrypter;
  readonly #key: Buffer;

  constructor(opts: { encrypter: JweEncrypter; fingerprintKey: Buffer }) {
    fingerprint(opts.fingerprintKey, ''); // refuses a short key now rather than on the first payment
    this.#encrypter = opts.encrypter;
    this.#key = Buffer.from(opts.fingerprintKey);
  }

  /** Paths are dotted ("card.pan"); array elements are not addressed. Missing, undefined and null fields are skipped. */
  async protect<T extends object, const F extends string>(
    obj: T,
    fields: readonly F[],
  ): Promise<ProtectedRecord<string extends F ? Record<string, unknown> : WithProtectedFields<T, F>>> {
    if (!isRecord(obj)) throw new TypeError('protect: obj must be an object');
    const paths = parsePaths(fields);
    const root: Record<string, unknown> = { ...obj };
    const copied = new Set<object>([root]);
    const jobs: Array<Promise<[string, ProtectedFieldInfo]>> = [];
    for (const segs of paths) {
      const parent = parentFor(root, segs, copied);
      const leaf = segs[segs.length - 1] as string;
      if (parent === undefined || !Object.hasOwn(parent, leaf)) continue;
      const value = parent[leaf];
      if (value === undefined || value === null) continue;
      const path = segs.join('.');
      const info: ProtectedFieldInfo = { fingerprint: fingerprintField(this.#key, value), ...maskFor(value) };
      jobs.push(
        this.#encrypter.encrypt(canonicalJson(value), { extraProtected: { [PROTECTED_FIELD_HEADER]: path } }).then((jwe) => {
          parent[leaf] = jwe;
          return [path, info];
        }),
      );
    }
    const done = await Promise.all(jobs);
    return { data: root as never, fields: Object.freeze(Object.fromEntries(done)) };
  }
}

function maskFor(value: unknown): { masked?: string } {
  if (typeof value !== 'string') return {};
  const digits = normaliseIdentifier(value);
  if (/^\d{12,19}$/.test(digits) && luhnValid(digits)) return { masked: maskPan(digits) };
  const compact = value.replace(/\s/g, '');
  // four visible characters of a short value (an expiry, a CVV) would be most of it
  return { masked: compact.length >= 8 ? maskAccount(value) : '*'.repeat(compact.length) };
}

/** The inverse of FieldProtector for services allowed to see the data: decrypts the listed fields in a copy. */
export class FieldRevealer {
  readonly #decrypter: JweDecrypter;

  constructor(opts: { decrypter: JweDecrypter }) {
    this.#decrypter = opts.decrypter;
  }

  /** Throws CryptoError if a listed field is not a JWE, does not decrypt, or was encrypted for another field path. */
  async reveal<T = Record<string, unknown>>(data: object, fields: readonly string[]): Promise<T> {
    if (!isRecord(data)) throw new TypeError('reveal: data must be an object');
    const paths = parsePaths(fields);
    const root: Record<string, unknown> = { ...data };
    const copied = new Set<object>([root]);
    const jobs: Array<Promise<void>> = [];
    for (const segs of paths) {
      const parent = parentFor(root, segs, copied);
      const leaf = segs[segs.length - 1] as string;
      if (parent === undefined || !Object.hasOwn(parent, leaf)) continue;
      const value = parent[leaf];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string') throw new CryptoError('format');
      const path = segs.join('.');
      jobs.push(
        this.#decrypter.decryptWithHeader(value).then((r) => {
          if (r.protectedHeader[PROTECTED_FIELD_HEADER] !== path) throw new CryptoError('header');
          const parsed = parseStrictJson(r.plaintext.toString('utf8'));
          if (parsed === undefined) throw new CryptoError('format');
          parent[leaf] = parsed;
        }),
      );
    }
    await Promise.all(jobs);
    return root as T;
  }
}
