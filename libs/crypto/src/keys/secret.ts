import { MIN_SECRET_BYTES } from '../lib/algorithms';
import { KeyConfigError } from '../lib/errors';
import { isPlainObject, parseStrictJson } from '../lib/json';
import { readKeyFile } from './keystore';

/** Decodes an HMAC secret: an oct JWK ({"kty":"oct","k":...}), or base64url / base64 / hex text. */
export function parseSecret(text: string, where: string): Buffer {
  const t = text.trim();
  let key: Buffer;
  if (t.startsWith('{')) {
    const jwk = parseStrictJson(t);
    if (!isPlainObject(jwk) || jwk['kty'] !== 'oct' || typeof jwk['k'] !== 'string') throw new KeyConfigError(`${where}: expected an oct JWK with "k"`);
    key = Buffer.from(jwk['k'], 'base64url');
  } else if (/^(?:[0-9a-fA-F]{2})+$/.test(t) && t.length >= MIN_SECRET_BYTES * 2) {
    key = Buffer.from(t, 'hex');
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    key = Buffer.from(t.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  } else {
    throw new KeyConfigError(`${where}: secret must be an oct JWK, base64url, base64 or hex`);
  }
  if (key.length < MIN_SECRET_BYTES) throw new KeyConfigError(`${where}: secret of ${key.length * 8} bits is too short (minimum ${MIN_SECRET_BYTES * 8})`);
  return key;
}

/** Loads an HMAC secret (e.g. the fingerprint key) from a file or an environment variable. */
export async function loadSecretKey(source: { file?: string; env?: string }, env: Record<string, string | undefined> = process.env): Promise<Buffer> {
  if (source.file !== undefined) return parseSecret(await readKeyFile(source.file), `secret file ${source.file}`);
  if (source.env !== undefined) {
    const v = env[source.env];
    if (v === undefined || v.trim() === '') throw new KeyConfigError(`environment variable ${source.env} is not set or empty`);
    return parseSecret(v, `environment variable ${source.env}`);
  }
  throw new KeyConfigError('no secret source configured (file or env)');
}
