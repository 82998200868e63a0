import * as jose from 'jose';
import * as nodeJose from 'node-jose';
import { keys, storeOf } from '../test/fixtures';
import type { PayrailKeyStore } from '../keys/keystore';
import { EcdhAgreementPool } from './agreement-pool';
import { JweDecrypter, JweEncrypter } from './jwe';

const until = async (cond: () => boolean, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('EcdhAgreementPool (ECDH-ES agreements prepared off the event loop, by WebCrypto on the thread pool)', () => {
  let ks: PayrailKeyStore;
  let pool: EcdhAgreementPool;
  const recipient = () => keys.ecEnc().publicKey;

  beforeAll(async () => {
    ks = await storeOf(keys.ecEnc().privateJwk);
  });
  beforeEach(() => {
    pool = new EcdhAgreementPool({ size: 64, batch: 32 });
  });
  afterEach(async () => {
    await pool.close();
  });

  it('fills up in the background and hands every agreement out once', async () => {
    expect(pool.available(recipient())).toBe(0);
    pool.take(recipient()); // computed on the spot, starts the refill
    await until(() => pool.available(recipient()) >= 32);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(pool.take(recipient()).epk.x); // more than the pool holds: the rest on the spot
    expect(seen.size).toBe(200);
  });

  it('gives tokens that node-jose, panva jose and our decrypter all open, each with its own ephemeral key', async () => {
    const encrypter = new JweEncrypter(ks, { agreements: pool });
    await encrypter.encrypt('warm-up');
    await until(() => pool.available(recipient()) >= 32);
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => encrypter.encrypt(`4111111111111111-${i}`, { extraProtected: { pfld: 'card.number' } })));
    const joseStore = nodeJose.JWK.createKeyStore();
    await joseStore.add(keys.ecEnc().privateJwk);
    const panva = await jose.importJWK(keys.ecEnc().privateJwk as jose.JWK, 'ECDH-ES+A256KW');
    const decrypter = new JweDecrypter(ks);
    for (const [i, token] of tokens.entries()) {
      expect((await decrypter.decrypt(token)).toString()).toBe(`4111111111111111-${i}`);
      expect((await nodeJose.JWE.createDecrypt(joseStore, { algorithms: ['ECDH-ES+A256KW', 'A256GCM'] }).decrypt(token)).plaintext.toString()).toBe(`4111111111111111-${i}`);
      expect(new TextDecoder().decode((await jose.compactDecrypt(token, panva)).plaintext)).toBe(`4111111111111111-${i}`);
    }
    const epks = tokens.map((t) => (JSON.parse(Buffer.from(t.split('.')[0] ?? '', 'base64url').toString()) as { epk: { x: string } }).epk.x);
    expect(new Set(epks).size).toBe(20);
  }, 30_000);

  it('closes at once while a refill is under way, and stops refilling', async () => {
    pool.take(recipient()); // a refill starts
    const started = Date.now();
    await pool.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 200)); // jobs already on the thread pool finish; nothing is added
    expect(pool.available(recipient())).toBe(0);
  });

  it('keeps working on the spot once closed', async () => {
    await pool.close();
    const token = await new JweEncrypter(ks, { agreements: pool }).encrypt('after close');
    expect((await new JweDecrypter(ks).decrypt(token)).toString()).toBe('after close');
    expect(pool.available(recipient())).toBe(0);
  });
});
