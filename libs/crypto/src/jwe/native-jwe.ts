// Compact JWE encryption on node:crypto (RFC 7516), for the two key-management algorithms Payrail accepts:
//   ECDH-ES+A256KW  RFC 7518 4.6: ephemeral P-256 key agreement, Concat KDF (NIST SP 800-56A, SHA-256), the
//                   derived key wraps a random CEK with AES Key Wrap (RFC 3394, node:crypto 'id-aes256-wrap')
//   RSA-OAEP-256    RFC 7518 4.3: RSAES-OAEP with SHA-256 and MGF1-SHA-256 wraps the CEK
// and content encryption A256GCM (RFC 7518 5.3) with the ASCII of the encoded protected header as AAD.
// node-jose does the same job at ~300/s (its EC arithmetic is JavaScript); this runs at native speed. The interop
// tests (interop.spec.ts) decrypt these tokens with node-jose and panva `jose` and vice versa.
import { constants, createCipheriv, createHash, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
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
