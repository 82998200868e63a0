// Strict base64url: RFC 7515 forbids padding and other alphabets; non-canonical trailing bits are refused so
// one byte string has exactly one encoding (no signature malleability through the encoding).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

const SEGMENT = /^[A-Za-z0-9_-]*$/;

/** True when `s` is canonical unpadded base64url. */
export function isB64u(s: string): boolean {
  return SEGMENT.test(s) && hasCanonicalTail(s);
}

/** Only the length and the last character: for segments whose alphabet was already checked. */
export function hasCanonicalTail(s: string): boolean {
  const rem = s.length % 4;
  if (rem === 0) return true;
  if (rem === 1) return false;
  const last = INDEX[s.charCodeAt(s.length - 1)] ?? -1;
  if (last < 0) return false;
  return rem === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0;
}

/** Decoded byte length of a canonical base64url string, without decoding it. */
export function b64uByteLength(s: string): number {
  return Math.floor((s.length * 3) / 4);
}

export function b64uDecode(s: string): Buffer {
  return Buffer.from(s, 'base64url');
}

export function b64uEncode(data: Buffer | Uint8Array | string): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString('base64url');
}
