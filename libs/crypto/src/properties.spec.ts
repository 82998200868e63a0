// Property-based round trips (fast-check): modest run counts, crypto is not free.
import fc from 'fast-check';
import { JweDecrypter, JweEncrypter } from './jwe/jwe';
import { JwsSigner } from './jws/signer';
import { JwsVerifier } from './jws/verifier';
import type { PayrailKeyStore } from './keys/keystore';
import { canonicalJson } from './lib/canonical';
import { CryptoError } from './lib/errors';
import { keys, storeOf } from './test/fixtures';

let es: PayrailKeyStore;
let ed: PayrailKeyStore;
let rsaEnc: PayrailKeyStore;
beforeAll(async () => {
  es = await storeOf(keys.es256().privateJwk, keys.ecEnc().privateJwk);
  ed = await storeOf(keys.eddsa().privateJwk);
  rsaEnc = await storeOf(keys.rsaEnc().privateJwk);
});

const payload = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 12 });

function shuffleKeys(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => shuffleKeys(x, seed + i));
  if (typeof v !== 'object' || v === null) return v;
  const entries = Object.entries(v);
  entries.sort((a, b) => ((a[0].length * 31 + seed) % 7) - ((b[0].length * 31 + seed) % 7) || (seed % 2 === 0 ? 1 : -1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) Object.defineProperty(out, k, { value: shuffleKeys(x, seed + 1), enumerable: true, writable: true, configurable: true });
  return out;
}

describe('properties', () => {
  it('sign -> verify returns the payload (ES256 and EdDSA)', async () => {
    const esV = new JwsVerifier(es, { algorithms: ['ES256'] });
    const edV = new JwsVerifier(ed, { algorithms: ['EdDSA'] });
    await fc.assert(
      fc.asyncProperty(payload, async (p) => {
        const a = await esV.verify(new JwsSigner(es).sign(p));
        const b = await edV.verify(new JwsSigner(ed).sign(p));
        expect(canonicalJson(a.payload)).toBe(canonicalJson(p));
        expect(canonicalJson(b.payload)).toBe(canonicalJson(p));
      }),
      { numRuns: 100 },
    );
  });

  it('signing input is identical under member reordering', () => {
    fc.assert(
      fc.property(payload, fc.nat(1000), (p, seed) => {
        const q = shuffleKeys(p, seed);
        const a = new JwsSigner(es).sign(p);
        const b = new JwsSigner(es).sign(q);
        expect(a.slice(0, a.lastIndexOf('.'))).toBe(b.slice(0, b.lastIndexOf('.')));
        expect(new JwsSigner(ed).sign(p)).toBe(new JwsSigner(ed).sign(q)); // Ed25519 is deterministic
      }),
      { numRuns: 100 },
    );
  });

  it('any single-character change to a token is rejected', async () => {
    const v = new JwsVerifier(es, { algorithms: ['ES256'] });
    const token = new JwsSigner(es).sign({ payment_id: 'pay_1', amount: 1250 });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/';
    await fc.assert(
      fc.asyncProperty(fc.nat(token.length - 1), fc.constantFrom(...alphabet), async (i, c) => {
        fc.pre(token[i] !== c);
        const mutated = token.slice(0, i) + c + token.slice(i + 1);
        await expect(v.verify(mutated)).rejects.toBeInstanceOf(CryptoError);
      }),
      { numRuns: 100 },
    );
  });

  it('detached sign -> verify for any JSON body', async () => {
    const v = new JwsVerifier(es, { algorithms: ['ES256'] });
    await fc.assert(
      fc.asyncProperty(payload, async (p) => {
        const body = JSON.stringify(p);
        const r = await v.verifyDetached(new JwsSigner(es).signDetached(body), Buffer.from(body));
        expect(canonicalJson(r.payload)).toBe(canonicalJson(JSON.parse(body)));
      }),
      { numRuns: 50 },
    );
  });

  it('encrypt -> decrypt returns the bytes (ECDH-ES+A256KW and RSA-OAEP-256)', async () => {
    const ecE = new JweEncrypter(es);
    const ecD = new JweDecrypter(es);
    const rsaE = new JweEncrypter(rsaEnc);
    const rsaD = new JweDecrypter(rsaEnc);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        const buf = Buffer.from(bytes);
        expect((await ecD.decrypt(await ecE.encrypt(buf))).equals(buf)).toBe(true);
      }),
      { numRuns: 50 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 500 }), async (s) => {
        expect((await rsaD.decrypt(await rsaE.encrypt(s))).toString('utf8')).toBe(Buffer.from(s, 'utf8').toString('utf8'));
      }),
      { numRuns: 20 },
    );
  });
});
