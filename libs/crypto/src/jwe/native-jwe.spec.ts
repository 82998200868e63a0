// Known-answer tests of the node:crypto JWE building blocks against their RFCs' own examples.
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { aesKeyUnwrap, aesKeyWrap, concatKdf } from './native-jwe';

describe('native JWE building blocks', () => {
  it('derives the RFC 7518 Appendix C example key (ECDH-ES, Concat KDF with apu "Alice" and apv "Bob")', () => {
    const alice = createPrivateKey({
      key: { kty: 'EC', crv: 'P-256', x: 'gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0', y: 'SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps', d: '0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo' },
      format: 'jwk',
    });
    const bob = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: 'weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ', y: 'e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck' }, format: 'jwk' });
    const z = diffieHellman({ privateKey: alice, publicKey: bob });
    expect([...z]).toEqual([158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196]);
    expect(concatKdf(z, 'A128GCM', 128, Buffer.from('Alice'), Buffer.from('Bob')).toString('base64url')).toBe('VqqN6vgjbSBcIijNcacQGg');
  });

  it('wraps 256 bits of key data with a 256-bit KEK as RFC 3394 4.6 does', () => {
    const kek = Buffer.from('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', 'hex');
    const key = Buffer.from('00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F', 'hex');
    expect(aesKeyWrap(kek, key).toString('hex').toUpperCase()).toBe('28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21');
  });

  it('unwraps the RFC 3394 4.6 example back, and refuses a wrapped key that fails its integrity check', () => {
    const kek = Buffer.from('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', 'hex');
    const wrapped = Buffer.from('28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21', 'hex');
    expect(aesKeyUnwrap(kek, wrapped).toString('hex').toUpperCase()).toBe('00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F');
    const tampered = Buffer.from(wrapped);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    expect(() => aesKeyUnwrap(kek, tampered)).toThrow();
  });

  it('refuses key lengths one Concat KDF round cannot give', () => {
    expect(() => concatKdf(Buffer.alloc(32), 'A256KW', 384)).toThrow(RangeError);
  });
});
