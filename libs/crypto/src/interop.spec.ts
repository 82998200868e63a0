// Interop both ways: panva `jose` (test-only dependency) and node-jose used directly. The fast path
// (node:crypto) and node-jose must produce and accept the same tokens.
import * as jose from 'jose';
import * as nodeJose from 'node-jose';
import { JweDecrypter, JweEncrypter } from './jwe/jwe';
import { JwsSigner } from './jws/signer';
import { JwsVerifier } from './jws/verifier';
import type { PayrailKeyStore } from './keys/keystore';
import { keys, nowS, storeOf, type Jwk, type TestKey } from './test/fixtures';

const payment = { payment_id: 'pay_7', amount: { value: 990, currency: 'EUR' }, iat: 0 };
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const importKey = (jwk: Jwk, alg: string) => jose.importJWK(jwk as jose.JWK, alg);

type Case = { alg: 'ES256' | 'EdDSA' | 'PS256'; key: () => TestKey };
const CASES: Case[] = [
  { alg: 'ES256', key: () => keys.es256() },
  { alg: 'EdDSA', key: () => keys.eddsa() },
  { alg: 'PS256', key: () => keys.ps256() },
];

describe.each(CASES)('JWS $alg interop', ({ alg, key }) => {
  let ks: PayrailKeyStore;
  beforeAll(async () => {
    ks = await storeOf(key().privateJwk);
  });
  const verifier = (): JwsVerifier => new JwsVerifier(ks, { algorithms: [alg], requireIat: true });

  it('panva jose verifies what we sign', async () => {
    const p = { ...payment, iat: nowS() };
    const token = new JwsSigner(ks).sign(p);
    const { payload, protectedHeader } = await jose.compactVerify(token, await importKey(key().publicJwk, alg));
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(p);
    expect(protectedHeader).toEqual({ alg, kid: key().kid });
  });

  it('we verify what panva jose signs (compact and JWT)', async () => {
    const priv = await importKey(key().privateJwk, alg);
    const p = { ...payment, iat: nowS() };
    const token = await new jose.CompactSign(enc(p)).setProtectedHeader({ alg, kid: key().kid }).sign(priv);
    expect((await verifier().verify(token)).payload).toEqual(p);
    const jwt = await new jose.SignJWT({ payment_id: 'pay_8' }).setProtectedHeader({ alg, kid: key().kid, typ: 'JWT' }).setIssuedAt().setExpirationTime('2m').setJti('j-1').sign(priv);
    const v = await new JwsVerifier(ks, { algorithms: [alg], typ: 'JWT', requireExp: true, maxAgeSeconds: 60 }).verify<{ payment_id: string }>(jwt);
    expect(v.payload.payment_id).toBe('pay_8');
  });

  it('detached payloads (RFC 7515 Appendix F) both ways', async () => {
    const body = JSON.stringify({ ...payment, iat: nowS() });
    const ours = new JwsSigner(ks).signDetached(body);
    const [h = '', , s = ''] = ours.split('.');
    const flat = await jose.flattenedVerify({ protected: h, payload: Buffer.from(body).toString('base64url'), signature: s }, await importKey(key().publicJwk, alg));
    expect(new TextDecoder().decode(flat.payload)).toBe(body);
    const theirs = await new jose.CompactSign(new TextEncoder().encode(body)).setProtectedHeader({ alg, kid: key().kid }).sign(await importKey(key().privateJwk, alg));
    const [th = '', , ts = ''] = theirs.split('.');
    expect((await verifier().verifyDetached(`${th}..${ts}`, body)).kid).toBe(key().kid);
  });

  if (alg !== 'EdDSA') {
    // node-jose has no OKP (Ed25519) support
    it('node-jose verifies fast-path tokens, and the fast path verifies node-jose tokens', async () => {
      const joseStore = nodeJose.JWK.createKeyStore();
      const joseKey = await joseStore.add(key().privateJwk);
      const p = { ...payment, iat: nowS() };
      const ours = new JwsSigner(ks).sign(p);
      const checked = await nodeJose.JWS.createVerify(joseStore, { algorithms: [alg] }).verify(ours);
      expect(JSON.parse(checked.payload.toString())).toEqual(p);
      const theirs = await nodeJose.JWS.createSign({ format: 'compact', fields: { alg, kid: key().kid } }, joseKey).update(JSON.stringify(p)).final();
      expect((await verifier().verify(theirs as unknown as string)).payload).toEqual(p);
    });
  }
});

describe.each([
  { alg: 'ECDH-ES+A256KW', key: () => keys.ecEnc() },
  { alg: 'RSA-OAEP-256', key: () => keys.rsaEnc() },
])('JWE $alg interop', ({ alg, key }) => {
  let ks: PayrailKeyStore;
  beforeAll(async () => {
    ks = await storeOf(key().privateJwk);
  });

  it('panva jose decrypts what we encrypt', async () => {
    const token = await new JweEncrypter(ks).encrypt('4111111111111111');
    const { plaintext, protectedHeader } = await jose.compactDecrypt(token, await importKey(key().privateJwk, alg));
    expect(new TextDecoder().decode(plaintext)).toBe('4111111111111111');
    expect(protectedHeader).toMatchObject({ alg, enc: 'A256GCM', kid: key().kid });
  });

  it('we decrypt what panva jose encrypts', async () => {
    const token = await new jose.CompactEncrypt(new TextEncoder().encode('from jose')).setProtectedHeader({ alg, enc: 'A256GCM', kid: key().kid }).encrypt(await importKey(key().publicJwk, alg));
    expect((await new JweDecrypter(ks).decrypt(token)).toString()).toBe('from jose');
  });

  it('node-jose decrypts what the node:crypto path encrypts, extra protected members included', async () => {
    const joseStore = nodeJose.JWK.createKeyStore();
    await joseStore.add(key().privateJwk);
    for (let i = 0; i < 20; i++) {
      const token = await new JweEncrypter(ks).encrypt(`4111111111111111-${i}`, { extraProtected: { pfld: 'card.number' } });
      const out = await nodeJose.JWE.createDecrypt(joseStore, { algorithms: [alg, 'A256GCM'] }).decrypt(token);
      expect(out.plaintext.toString()).toBe(`4111111111111111-${i}`);
      expect(out.header).toMatchObject({ alg, enc: 'A256GCM', kid: key().kid, pfld: 'card.number' });
    }
  });

  it('we decrypt what node-jose encrypts', async () => {
    const joseKey = await nodeJose.JWK.asKey(key().publicJwk);
    const token = await nodeJose.JWE.createEncrypt({ format: 'compact', contentAlg: 'A256GCM', fields: { alg, kid: key().kid }, protect: '*' }, joseKey).update(Buffer.from('from node-jose')).final();
    expect((await new JweDecrypter(ks).decrypt(token as unknown as string)).toString()).toBe('from node-jose');
  });

  it('panva jose decrypts a stream of our tokens: fresh CEK, IV and ephemeral key each time', async () => {
    const priv = await importKey(key().privateJwk, alg);
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => new JweEncrypter(ks).encrypt(JSON.stringify({ number: `${i}` }))));
    for (const [i, token] of tokens.entries()) {
      expect(new TextDecoder().decode((await jose.compactDecrypt(token, priv)).plaintext)).toBe(JSON.stringify({ number: `${i}` }));
    }
    const segments = (n: number) => new Set(tokens.map((t) => t.split('.')[n]));
    expect(segments(0).size).toBe(alg === 'ECDH-ES+A256KW' ? 50 : 1); // the header carries a fresh epk (ECDH-ES only)
    expect(segments(1).size).toBe(50); // encrypted CEK
    expect(segments(2).size).toBe(50); // IV
  });

  it('we refuse a token whose encrypted key was swapped for another token\'s (the tag fails, one generic reason)', async () => {
    const [a = '', b = ''] = await Promise.all([new JweEncrypter(ks).encrypt('first'), new JweEncrypter(ks).encrypt('second')]);
    const [h, , iv, ct, tag] = a.split('.');
    const swapped = [h, b.split('.')[1], iv, ct, tag].join('.');
    await expect(new JweDecrypter(ks).decrypt(swapped)).rejects.toMatchObject({ reason: 'decrypt' });
  });

  it('we refuse what panva jose encrypts with compression or another enc', async () => {
    const pub = await importKey(key().publicJwk, alg);
    const cbc = await new jose.CompactEncrypt(new TextEncoder().encode('x')).setProtectedHeader({ alg, enc: 'A128CBC-HS256', kid: key().kid }).encrypt(pub);
    await expect(new JweDecrypter(ks).decrypt(cbc)).rejects.toMatchObject({ reason: 'alg' });
  });
});

describe('JWE ECDH-ES+A256KW party info', () => {
  it('we decrypt what panva jose encrypts with apu/apv (ECDH-ES: they enter the Concat KDF), and refuse it with apv changed', async () => {
    const pub = await importKey(keys.ecEnc().publicJwk, 'ECDH-ES+A256KW');
    const token = await new jose.CompactEncrypt(new TextEncoder().encode('with party info'))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: keys.ecEnc().kid })
      .setKeyManagementParameters({ apu: new TextEncoder().encode('Alice'), apv: new TextEncoder().encode('Bob') })
      .encrypt(pub);
    expect((await new JweDecrypter(await storeOf(keys.ecEnc().privateJwk)).decrypt(token)).toString()).toBe('with party info');
    const [h = '', ...rest] = token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const changed = [Buffer.from(JSON.stringify({ ...header, apv: Buffer.from('Eve').toString('base64url') })).toString('base64url'), ...rest].join('.');
    await expect(new JweDecrypter(await storeOf(keys.ecEnc().privateJwk)).decrypt(changed)).rejects.toMatchObject({ reason: 'decrypt' });
  });
});
