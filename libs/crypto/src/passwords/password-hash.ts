// Operator passwords, stored only as scrypt hashes (node:crypto; memory-hard, so a stolen users file is slow to
// attack). Encoded as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (salt and hash base64url) so the cost can be raised
// later without invalidating existing hashes. Verification compares in constant time.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface PasswordHashParams {
  /** log2 of scrypt's CPU/memory cost N. */
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

/** 32 MiB and ~0.3 s per hash on our 2-core machines (measured): fine for sign-ins, costly for guessing. */
export const DEFAULT_PASSWORD_HASH_PARAMS: PasswordHashParams = { log2N: 15, r: 8, p: 1 };

const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Longer inputs are refused before hashing (no hashing megabytes on request). */
export const MAX_PASSWORD_LENGTH = 1024;
const FORMAT = /^scrypt\$([0-9]{2})\$([0-9]{1,2})\$([0-9]{1,2})\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;

function derive(password: string, salt: Buffer, params: PasswordHashParams): Promise<Buffer> {
  const N = 2 ** params.log2N;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** The parameters of an encoded hash, or undefined when it is not one this library accepts (bounded costs). */
export function parsePasswordHash(encoded: string): { params: PasswordHashParams; salt: Buffer; hash: Buffer } | undefined {
  const m = FORMAT.exec(encoded);
  if (!m) return undefined;
  const params = { log2N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // bounded so a hostile or mistyped file cannot make each sign-in allocate gigabytes
  if (params.log2N < 14 || params.log2N > 20 || params.r < 8 || params.r > 32 || params.p < 1 || params.p > 16) return undefined;
  return { params, salt: Buffer.from(m[4] ?? '', 'base64url'), hash: Buffer.from(m[5] ?? '', 'base64url') };
}

export async function hashPassword(password: string, params: PasswordHashParams = DEFAULT_PASSWORD_HASH_PARAMS): Promise<string> {
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) throw new RangeError(`a password has 1 to ${MAX_PASSWORD_LENGTH} characters`);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params);
  return ['scrypt', String(params.log2N).padStart(2, '0'), params.r, params.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** True when `password` matches `encoded`; false for a wrong password, an over-long one or a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (!parsed || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) return false;
  const candidate = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(candidate, parsed.hash);
}
