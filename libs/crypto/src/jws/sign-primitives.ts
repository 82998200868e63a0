import { constants, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { SigningAlg } from '../lib/algorithms';

// The hot path: node:crypto with the JOSE encodings. ES256 signatures are r||s (IEEE P1363), not DER;
// PS256 is RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 7518 3.5).

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };

export function rawSign(alg: SigningAlg, key: KeyObject, data: Buffer): Buffer {
  switch (alg) {
    case 'ES256':
      return cryptoSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return cryptoSign(null, data, key);
    case 'PS256':
      return cryptoSign('sha256', data, { key, ...PSS });
  }
}

export function rawVerify(alg: SigningAlg, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    switch (alg) {
      case 'ES256':
        return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'EdDSA':
        return cryptoVerify(null, data, key, signature);
      case 'PS256':
        return cryptoVerify('sha256', data, { key, ...PSS }, signature);
    }
  } catch {
    return false;
  }
}

/**
 * rawVerify on libuv's threadpool (node:crypto's callback form): the event loop stays free while the signature is
 * checked, so a busy server uses its other cores for verification. Costs a thread hop per call.
 */
export function rawVerifyOffloaded(alg: SigningAlg, key: KeyObject, data: Buffer, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (err: Error | null, ok: boolean): void => resolve(err === null && ok === true);
    try {
      switch (alg) {
        case 'ES256':
          return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature, done);
        case 'EdDSA':
          return cryptoVerify(null, data, key, signature, done);
        case 'PS256':
          return cryptoVerify('sha256', data, { key, ...PSS }, signature, done);
      }
    } catch {
      resolve(false);
    }
  });
}
