// Compact JWE encryption and decryption on node:crypto (RFC 7516), for the two key-management algorithms Payrail accepts:
//   ECDH-ES+A256KW  RFC 7518 4.6: ephemeral P-256 key agreement, Concat KDF (NIST SP 800-56A, SHA-256), the
//                   derived key wraps a random CEK with AES Key Wrap (RFC 3394, node:crypto 'id-aes256-wrap')
//   RSA-OAEP-256    RFC 7518 4.3: RSAES-OAEP with SHA-256 and MGF1-SHA-256 wraps the CEK
// and content encryption A256GCM (RFC 7518 5.3) with the ASCII of the encoded protected header as AAD.
// node-jose does the same job at ~300-900/s (its EC arithmetic is JavaScript); this runs at native speed. The interop
// tests (interop.spec.ts) decrypt these tokens with node-jose and panva `jose` and vice versa. Decryption trusts its
// caller (JweDecrypter) to have checked the token first: algorithms, epk on the curve, segment lengths, no zip.
import { constants, createCipheriv, createDecipheriv, createHash, diffieHellman, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { CONTENT_ENCRYPTION_ALG, type KeyWrapAlg } from '../lib/algorithms';
import { agreeNow, type EcdhAgreement, type EcdhAgreementPool } from './agreement-pool';

/** RFC 3394 2.2.3.1 default initial value. */
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const CEK_BYTES = 32;
const GCM_IV_BYTES = 12;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Length-prefixed octets, the "Datalen || Data" of RFC 7518 4.6.2. */
function lengthPrefixed(data: Buffer): Buffer {
  return Buffer.concat([u32(data.length), data]);
}

/**
 * RFC 7518 4.6.2 Concat KDF for keys of up to 256 bits (one round of SHA-256, truncated):
 * counter(1) || Z || AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo(keydatalen in bits).
 * AlgorithmID is the `alg` for key agreement with key wrapping, the `enc` for direct key agreement.
 */
export function concatKdf(sharedSecret: Buffer, algorithmId: string, keyBits = 256, apu: Buffer = Buffer.alloc(0), apv: Buffer = Buffer.alloc(0)): Buffer {
  if (!Number.isInteger(keyBits) || keyBits <= 0 || keyBits > 256 || keyBits % 8 !== 0) throw new RangeError('concatKdf: keyBits must be a multiple of 8 up to 256');
  const digest = createHash('sha256')
    .update(u32(1))
    .update(sharedSecret)
    .update(lengthPrefixed(Buffer.from(algorithmId, 'ascii')))
    .update(lengthPrefixed(apu))
    .update(lengthPrefixed(apv))
    .update(u32(keyBits))
    .digest();
  return digest.subarray(0, keyBits / 8);
}

/** RFC 3394 AES Key Wrap with a 256-bit key encryption key. */
export function aesKeyWrap(kek: Buffer, cek: Buffer): Buffer {
  const wrap = createCipheriv('id-aes256-wrap', kek, KW_IV);
  return Buffer.concat([wrap.update(cek), wrap.final()]);
}

/** RFC 3394 AES Key Unwrap with a 256-bit key encryption key; throws when the integrity check fails. */
export function aesKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const unwrap = createDecipheriv('id-aes256-wrap', kek, KW_IV);
  return Buffer.concat([unwrap.update(wrapped), unwrap.final()]);
}

/** ECDH-ES key agreement with a fresh ephemeral key: the public half (for `epk`) and the key encryption key. */
export function ecdhEsAgreement(recipient: KeyObject, alg: string, pool?: EcdhAgreementPool): { epk: EcdhAgreement['epk']; kek: Buffer } {
  const { epk, sharedSecret } = pool ? pool.take(recipient) : agreeNow(recipient);
  return { epk, kek: concatKdf(sharedSecret, alg) };
}

export interface NativeJweInput {
  alg: KeyWrapAlg;
  kid: string;
  recipient: KeyObject;
  plaintext: Buffer;
  /** Extra protected members, already checked by the caller (never alg, enc, kid, epk). */
  extraProtected: Record<string, unknown>;
  /** Where ECDH-ES agreements come from (default: computed on the spot). */
  agreements?: EcdhAgreementPool;
}

/** `header.encryptedKey.iv.ciphertext.tag` with a random CEK and IV per message. */
export function encryptCompactNative(input: NativeJweInput): string {
  const cek = randomBytes(CEK_BYTES);
  const header: Record<string, unknown> = { ...input.extraProtected, alg: input.alg, enc: CONTENT_ENCRYPTION_ALG, kid: input.kid };
  let encryptedKey: Buffer;
  if (input.alg === 'ECDH-ES+A256KW') {
    const { epk, kek } = ecdhEsAgreement(input.recipient, input.alg, input.agreements);
    header['epk'] = epk;
    encryptedKey = aesKeyWrap(kek, cek);
  } else {
    encryptedKey = publicEncrypt({ key: input.recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek);
  }
  const protectedB64 = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
  const iv = randomBytes(GCM_IV_BYTES);
  const gcm = createCipheriv('aes-256-gcm', cek, iv);
  gcm.setAAD(Buffer.from(protectedB64, 'ascii'));
  const ciphertext = Buffer.concat([gcm.update(input.plaintext), gcm.final()]);
  const tag = gcm.getAuthTag();
  cek.fill(0);
  return `${protectedB64}.${encryptedKey.toString('base64url')}.${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${tag.toString('base64url')}`;
}

export interface NativeJweDecryptInput {
  alg: KeyWrapAlg;
  recipient: KeyObject;
  /** ECDH-ES: the sender's ephemeral public key from `epk`, already checked to be on the curve. */
  epk: KeyObject | undefined;
  /** The encoded protected header exactly as in the token (the AAD) and its parsed members (epk, apu, apv). */
  protectedB64: string;
  header: Readonly<Record<string, unknown>>;
  encryptedKey: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * The plaintext of a compact JWE whose header the caller has checked. Throws on any failure (unwrap, tag); the
 * caller turns that into one generic error. An RSA-OAEP unwrap that fails goes on with a random CEK, so it fails at
 * the tag like any other forgery (RFC 7516 11.5: no padding oracle).
 */
export function decryptCompactNative(input: NativeJweDecryptInput): Buffer {
  let cek: Buffer;
  if (input.alg === 'ECDH-ES+A256KW') {
    if (input.epk === undefined) throw new Error('ECDH-ES without an ephemeral public key');
    const epk = input.epk;
    const b64 = (v: unknown): Buffer => (typeof v === 'string' ? Buffer.from(v, 'base64url') : Buffer.alloc(0));
    const kek = concatKdf(diffieHellman({ privateKey: input.recipient, publicKey: epk }), input.alg, 256, b64(input.header['apu']), b64(input.header['apv']));
    cek = aesKeyUnwrap(kek, input.encryptedKey);
  } else {
    try {
      cek = privateDecrypt({ key: input.recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, input.encryptedKey);
    } catch {
      cek = randomBytes(CEK_BYTES);
    }
  }
  if (cek.length !== CEK_BYTES) throw new Error('content encryption key of the wrong size');
  try {
    const gcm = createDecipheriv('aes-256-gcm', cek, input.iv, { authTagLength: 16 });
    gcm.setAAD(Buffer.from(input.protectedB64, 'ascii'));
    gcm.setAuthTag(input.tag);
    return Buffer.concat([gcm.update(input.ciphertext), gcm.final()]);
  } finally {
    cek.fill(0);
  }
}
