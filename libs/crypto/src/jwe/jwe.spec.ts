import * as nodeJose from 'node-jose';
import { keys, storeOf, withState, rejectionReason as reason } from '../test/fixtures';
import type { PayrailKeyStore } from '../keys/keystore';
import { JweDecrypter, JweEncrypter } from './jwe';

const headerOf = (t: string): Record<string, unknown> => JSON.parse(Buffer.from(t.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;


let ec: PayrailKeyStore;
let rsa: PayrailKeyStore;
beforeAll(async () => {
  ec = await storeOf(keys.ecEnc().privateJwk, withState(keys.ecEnc('enc-0').privateJwk, 'verify-only'));
  rsa = await storeOf(keys.rsaEnc().privateJwk);
});

describe('JweEncrypter / JweDecrypter', () => {
  it('round-trips with ECDH-ES+A256KW / A256GCM and a fresh ephemeral key per message', async () => {
    const enc = new JweEncrypter(ec);
    const a = await enc.encrypt('4111111111111111');
    const b = await enc.encrypt(Buffer.from('4111111111111111'));
    const ha = headerOf(a);
    expect(Object.keys(ha).sort()).toEqual(['alg', 'enc', 'epk', 'kid']);
    expect(ha).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'enc-1' });
    expect(ha['epk']).not.toEqual(headerOf(b)['epk']);
    const dec = new JweDecrypter(ec);
    expect((await dec.decrypt(a)).toString()).toBe('4111111111111111');
    expect((await dec.decrypt(b)).toString()).toBe('4111111111111111');
    expect(enc.kid).toBe('enc-1');
  });

  it('round-trips with RSA-OAEP-256 / A256GCM', async () => {
    const t = await new JweEncrypter(rsa).encrypt('secret');
    expect(headerOf(t)).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'rsaenc-1' });
    expect((await new JweDecrypter(rsa).decryptWithHeader(t)).plaintext.toString()).toBe('secret');
  });

  it('authenticates extra protected members and refuses reserved ones', async () => {
    const enc = new JweEncrypter(ec);
    const t = await enc.encrypt('x', { extraProtected: { pfld: 'card.pan', cty: 'text/plain' } });
    const r = await new JweDecrypter(ec).decryptWithHeader(t);
    expect(r.protectedHeader).toMatchObject({ pfld: 'card.pan', cty: 'text/plain' });
    expect(r.kid).toBe('enc-1');
    for (const name of ['alg', 'enc', 'kid', 'epk', 'zip', 'crit', 'jku', 'p2c']) {
      await expect(enc.encrypt('x', { extraProtected: { [name]: 'v' } })).rejects.toThrow(TypeError);
    }
  });

  it('decrypts with verify-only (decrypt-only) keys, encrypts to the active one only', async () => {
    const old = await new JweEncrypter(await storeOf(keys.ecEnc('enc-0').publicJwk)).encrypt('old data');
    expect((await new JweDecrypter(ec).decrypt(old)).toString()).toBe('old data');
    expect(headerOf(await new JweEncrypter(ec).encrypt('new')).kid).toBe('enc-1');
  });

  it('encrypts to a public-only key but cannot decrypt with it', async () => {
    const pub = await storeOf(keys.ecEnc().publicJwk);
    const t = await new JweEncrypter(pub).encrypt('for someone else');
    expect(await reason(new JweDecrypter(pub).decrypt(t))).toBe('kid');
    expect((await new JweDecrypter(ec).decrypt(t)).toString()).toBe('for someone else');
  });

  it('bounds plaintext and token sizes', async () => {
    const enc = new JweEncrypter(ec, { maxPlaintextBytes: 10 });
    await expect(enc.encrypt('01234567890')).rejects.toThrow(RangeError);
    const t = await new JweEncrypter(ec).encrypt('x'.repeat(2000));
    expect(await reason(new JweDecrypter(ec, { maxTokenBytes: 1000 }).decrypt(t))).toBe('size');
  });

  it('interoperates with node-jose used directly (its own ephemeral keys), both ways', async () => {
    const joseKey = await nodeJose.JWK.asKey(keys.ecEnc().publicJwk);
    const theirs = await nodeJose.JWE.createEncrypt({ format: 'compact', contentAlg: 'A256GCM', fields: { alg: 'ECDH-ES+A256KW', kid: 'enc-1' } }, joseKey).update(Buffer.from('from node-jose')).final();
    expect((await new JweDecrypter(ec).decrypt(theirs)).toString()).toBe('from node-jose');
    const ours = await new JweEncrypter(rsa).encrypt('from payrail');
    const priv = await nodeJose.JWK.asKey(keys.rsaEnc().privateJwk);
    const out = await nodeJose.JWE.createDecrypt(priv).decrypt(ours);
    expect(out.plaintext.toString()).toBe('from payrail');
  });

  it('logs rejections without ciphertext or plaintext', async () => {
    const logs: object[] = [];
    const dec = new JweDecrypter(ec, { logger: { debug: (o) => logs.push(o) } });
    const t = await new JweEncrypter(ec).encrypt('4111111111111111');
    const parts = t.split('.');
    parts[3] = Buffer.from('tampered-ciphertext').toString('base64url');
    expect(await reason(dec.decrypt(parts.join('.')))).toBe('decrypt');
    expect(logs).toEqual([{ event: 'payrail.jwe.rejected', reason: 'decrypt', detail: 'decryption failed', tokenLength: parts.join('.').length }]);
  });
});
