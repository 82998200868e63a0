import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { KeyState, KeyUse } from '../lib/algorithms';
import { KeyConfigError } from '../lib/errors';
import { isPlainObject, parseStrictJson } from '../lib/json';
import type { KeyOverrides } from './key-record';

/** Per-source settings, for sources that carry no JOSE metadata (PEM) or to pin a kid. Single-key sources only. */
export interface KeySourceOptions {
  kid?: string;
  use?: KeyUse;
  alg?: string;
  state?: KeyState;
}
export interface KeyFileSpec extends KeySourceOptions {
  path: string;
}
export interface KeyEnvSpec extends KeySourceOptions {
  name: string;
}

export interface KeyEntry {
  jwk: unknown;
  where: string;
  overrides: KeyOverrides;
}

export const MAX_KEY_SOURCE_BYTES = 1024 * 1024;
export const MAX_KEYS = 100;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function pemToJwk(label: string, block: string, where: string): unknown {
  let key: KeyObject;
  try {
    if (label === 'PRIVATE KEY') key = createPrivateKey({ key: block, format: 'pem' });
    else if (label === 'PUBLIC KEY') key = createPublicKey({ key: block, format: 'pem' });
    else if (label === 'ENCRYPTED PRIVATE KEY') {
      throw new KeyConfigError(`${where}: encrypted PKCS#8 is not supported; the secret store protects the key, mount it unencrypted`);
    } else {
      throw new KeyConfigError(
        `${where}: PEM "${label}" is not accepted; use PKCS#8 ("PRIVATE KEY") or SPKI ("PUBLIC KEY"), e.g. openssl pkcs8 -topk8 -nocrypt`,
      );
    }
  } catch (e) {
    if (e instanceof KeyConfigError) throw e;
    throw new KeyConfigError(`${where}: unreadable ${label} PEM`);
  }
  try {
    return key.export({ format: 'jwk' });
  } catch {
    throw new KeyConfigError(`${where}: key type or curve is not supported`);
  }
}

/** Splits the text of a file or variable into JWK entries: a JWK, a JWKS, or one or more PKCS#8/SPKI PEM blocks. */
export function parseKeyText(raw: string, where: string, opts: KeySourceOptions = {}): KeyEntry[] {
  if (Buffer.byteLength(raw, 'utf8') > MAX_KEY_SOURCE_BYTES) throw new KeyConfigError(`${where}: larger than ${MAX_KEY_SOURCE_BYTES} bytes`);
  let text = raw.trim();
  const found: Array<{ jwk: unknown; where: string }> = [];
  if (text.startsWith('{')) {
    const parsed = parseStrictJson(text);
    if (!isPlainObject(parsed)) throw new KeyConfigError(`${where}: not valid JSON (or has duplicate members)`);
    if (Array.isArray(parsed['keys'])) {
      parsed['keys'].forEach((jwk: unknown, i: number) => found.push({ jwk, where: `${where}, key #${i + 1}` }));
    } else if (typeof parsed['kty'] === 'string') {
      found.push({ jwk: parsed, where });
    } else {
      throw new KeyConfigError(`${where}: JSON is neither a JWK (kty) nor a JWKS (keys)`);
    }
  } else if (text.includes('-----BEGIN ')) {
    // values pasted into .env files often carry literal "\n"
    if (!text.includes('\n') && text.includes('\\n')) text = text.replace(/\\n/g, '\n');
    let i = 0;
    for (const m of text.matchAll(PEM_BLOCK)) {
      i++;
      const label = m[1] ?? '';
      found.push({ jwk: pemToJwk(label, m[0], `${where}, PEM block #${i}`), where: `${where}, PEM block #${i}` });
    }
    if (found.length === 0) throw new KeyConfigError(`${where}: no complete PEM block`);
  } else {
    throw new KeyConfigError(`${where}: neither JSON (JWK/JWKS) nor PEM`);
  }
  if (found.length === 0) throw new KeyConfigError(`${where}: contains no keys`);
  if (found.length > MAX_KEYS) throw new KeyConfigError(`${where}: more than ${MAX_KEYS} keys`);
  const hasOverrides = Object.values(opts).some((v) => v !== undefined);
  if (hasOverrides && found.length !== 1) throw new KeyConfigError(`${where}: kid/use/alg/state settings apply to single-key sources only`);
  return found.map((f) => ({ ...f, overrides: { kid: opts.kid, use: opts.use, alg: opts.alg, state: opts.state } }));
}
