import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import * as nodeJose from 'node-jose';
import { KeyConfigError } from '../lib/errors';
import { keys, storeOf, withState, type Jwk } from '../test/fixtures';
import { JOSE_STORE } from './internal';
import { jwkThumbprint } from './key-record';
import { PayrailKeyStore } from './keystore';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth', 'payrail_state'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'payrail-keystore-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function refusal(p: Promise<unknown>): Promise<KeyConfigError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KeyConfigError);
    return e as KeyConfigError;
  }
  throw new Error('expected a KeyConfigError');
}

describe('PayrailKeyStore loading', () => {
  it('loads a JWKS, exposes the active keys, and derives kid from the RFC 7638 thumbprint when absent', async () => {
    const sig = keys.es256();
    const { kid: _drop, ...noKid } = keys.ecEnc().privateJwk;
    const ks = await storeOf(sig.privateJwk, noKid);
    const thumb = jwkThumbprint(keys.ecEnc().publicJwk);
    expect(ks.activeKey('sig')).toEqual({ kid: 'es-1', alg: 'ES256' });
    expect(ks.activeKey('enc')).toEqual({ kid: thumb, alg: 'ECDH-ES+A256KW' });
    expect(ks.has(thumb)).toBe(true);
    expect(ks.size()).toBe(2);
    expect(ks.kids()).toEqual(['es-1', thumb]);
  });

  it('computes the same thumbprint as node-jose and panva jose', async () => {
    for (const k of [keys.es256(), keys.eddsa(), keys.ps256()]) {
      const ours = jwkThumbprint(k.publicJwk);
      expect(ours).toBe(await calculateJwkThumbprint(k.publicJwk as Parameters<typeof calculateJwkThumbprint>[0], 'sha256'));
      if (k.publicJwk['kty'] !== 'OKP') {
        const nj = await nodeJose.JWK.asKey(k.publicJwk);
        const theirs: unknown = await nj.thumbprint('SHA-256'); // a Buffer at runtime, typed as string
        expect(Buffer.isBuffer(theirs) ? theirs.toString('base64url') : theirs).toBe(ours);
      }
    }
  });

  it('accepts a single JWK and JSON text', async () => {
    expect((await PayrailKeyStore.fromJwks(keys.eddsa().privateJwk)).activeKey('sig').alg).toBe('EdDSA');
    expect((await PayrailKeyStore.fromJwks(JSON.stringify({ keys: [keys.ps256().publicJwk] }))).has('ps-1')).toBe(true);
  });

  it('publishes public members of active and verify-only keys only', async () => {
    const ks = await storeOf(
      keys.es256().privateJwk,
      withState(keys.es256('old').privateJwk, 'verify-only'),
      withState(keys.es256('gone').privateJwk, 'retired'),
      keys.ps256().publicJwk,
      keys.rsaEnc().privateJwk,
    );
    const jwks = ks.publicJwks();
    expect(jwks.keys.map((k) => k['kid'])).toEqual(['es-1', 'old', 'ps-1', 'rsaenc-1']);
    for (const k of jwks.keys) {
      for (const m of PRIVATE_MEMBERS) expect(k).not.toHaveProperty(m);
      expect(Object.keys(k).sort()).toEqual(k['kty'] === 'EC' ? ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'] : ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    }
    expect(ks.state('gone')).toBe('retired');
    expect(ks.state('old')).toBe('verify-only');
    expect(ks.state('nope')).toBeUndefined();
    expect(ks.has('gone')).toBe(true);
  });

  it('keeps EC and RSA keys in a node-jose KeyStore (the JWE engine)', async () => {
    const ks = await storeOf(keys.es256().privateJwk, keys.eddsa().publicJwk, keys.rsaEnc().privateJwk);
    const kids = ks[JOSE_STORE]()
      .all()
      .map((k) => k.kid)
      .sort();
    expect(kids).toEqual(['es-1', 'rsaenc-1']);
  });

  it('applies per-kid states, which can resolve two active keys', async () => {
    const both = [keys.es256().privateJwk, keys.es256('next').privateJwk];
    expect((await refusal(storeOf(...both))).message).toMatch(/more than one active private signing key \(es-1, next\)/);
    const ks = await PayrailKeyStore.fromJwks({ keys: both }, { states: { 'es-1': 'verify-only' } });
    expect(ks.activeKey('sig').kid).toBe('next');
    await refusal(PayrailKeyStore.fromJwks({ keys: both }, { states: { typo: 'retired' } }));
  });

  it('loads a public JWKS published mid-rotation (two encryption keys, states stripped) but will not guess which to encrypt to', async () => {
    const signer = await storeOf(keys.es256().privateJwk, keys.ecEnc().privateJwk, withState(keys.ecEnc('enc-0').privateJwk, 'verify-only'));
    const consumer = await PayrailKeyStore.fromJwks(signer.publicJwks());
    expect(consumer.kids()).toEqual(['es-1', 'enc-1', 'enc-0']);
    expect(() => consumer.activeKey('enc')).toThrow(/several active encryption keys \(enc-1, enc-0\)/);
    await refusal(storeOf(keys.ecEnc().privateJwk, keys.ecEnc('enc-0').privateJwk));
  });

  it('throws KeyConfigError when no active key exists for a use', async () => {
    const ks = await storeOf(keys.es256().publicJwk);
    expect(() => ks.activeKey('sig')).toThrow(KeyConfigError);
    expect(() => ks.activeKey('enc')).toThrow(/no active encryption key/);
  });
});

describe('PayrailKeyStore refusals', () => {
  const ecPub = (curve: string): Jwk => generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'jwk' }) as Jwk;

  it.each<[string, () => Jwk, RegExp]>([
    ['RSA 1024', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as Jwk, /1024 bits is too weak/],
    ['RSA e=3', () => generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey.export({ format: 'jwk' }) as Jwk, /exponent/],
    ['secp256k1', () => ecPub('secp256k1'), /curve "secp256k1" is not accepted/],
    ['P-384', () => ecPub('P-384'), /curve "P-384" is not accepted/],
    ['X25519', () => generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }) as Jwk, /curve "X25519"/],
    ['Ed448', () => generateKeyPairSync('ed448').publicKey.export({ format: 'jwk' }) as Jwk, /curve "Ed448"/],
    ['short HMAC secret', () => ({ kty: 'oct', k: Buffer.alloc(16, 1).toString('base64url') }), /128 bits is too short/],
    ['1-byte HMAC secret', () => ({ kty: 'oct', k: 'AQ' }), /8 bits is too short/],
    ['any oct key', () => ({ kty: 'oct', k: Buffer.alloc(64, 1).toString('base64url') }), /symmetric/],
    ['RS256 on an RSA key', () => ({ ...keys.ps256().publicJwk, alg: 'RS256' }), /alg "RS256" is not accepted/],
    ['HS256 on an EC key', () => ({ ...keys.es256().publicJwk, alg: 'HS256' }), /alg "HS256"/],
    ['use contradicting alg', () => ({ ...keys.es256().publicJwk, use: 'enc' }), /contradicts/],
    ['unknown kty', () => ({ kty: 'AKP', x: 'AA' }), /key type "AKP"/],
    ['off-curve point', () => ({ ...keys.es256().publicJwk, y: Buffer.alloc(32, 7).toString('base64url') }), /invalid key material/],
    ['kid with a path', () => ({ ...keys.es256().publicJwk, kid: '../../etc/passwd' }), /kid must be/],
    ['bad payrail_state', () => ({ ...keys.es256().publicJwk, payrail_state: 'sleeping' }), /payrail_state/],
    ['incomplete RSA private key', () => ({ ...keys.ps256().privateJwk, qi: undefined }), /incomplete private key/],
  ])('refuses %s', async (_name, jwk, message) => {
    const e = await refusal(storeOf(jwk()));
    expect(e.message).toMatch(message);
  });

  it('refuses a private key that does not match its public members, without echoing key material', async () => {
    const a = keys.es256();
    const b = keys.es256('other');
    const mixed = { ...a.privateJwk, d: b.privateJwk['d'] };
    const e = await refusal(PayrailKeyStore.fromJwks({ keys: [mixed] }, { source: 'signing.json' }));
    expect(e.message).toMatch(/signing\.json, key #1: private key does not match/);
    expect(e.message).not.toContain(String(b.privateJwk['d']));
  });

  it('refuses duplicate kids naming both places', async () => {
    const e = await refusal(storeOf(keys.es256().publicJwk, { ...keys.eddsa().publicJwk, kid: 'es-1' }));
    expect(e.message).toMatch(/duplicate kid "es-1" in JWKS, key #1 and JWKS, key #2/);
  });

  it('refuses too many keys and non-JWKS input', async () => {
    await refusal(PayrailKeyStore.fromJwks({ keys: Array.from({ length: 101 }, () => keys.es256().publicJwk) }));
    await refusal(PayrailKeyStore.fromJwks('not json'));
    await refusal(PayrailKeyStore.fromJwks({ foo: 1 }));
    await refusal(PayrailKeyStore.fromJwks('{"keys":[],"keys":[]}'));
  });
});

describe('PayrailKeyStore files and environment', () => {
  it('loads JWKS, JWK and PEM files (PKCS#8 and SPKI)', async () => {
    const es = keys.es256();
    expect((await PayrailKeyStore.fromFile(file('set.json', JSON.stringify({ keys: [es.privateJwk] })))).activeKey('sig').kid).toBe('es-1');
    expect((await PayrailKeyStore.fromFile(file('one.json', JSON.stringify(keys.eddsa().privateJwk)))).activeKey('sig').alg).toBe('EdDSA');
    const pkcs8 = es.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const fromPem = await PayrailKeyStore.fromFile(file('sig.pem', pkcs8));
    expect(fromPem.activeKey('sig')).toEqual({ kid: jwkThumbprint(es.publicJwk), alg: 'ES256' });
    const spki = keys.ps256().publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const both = await PayrailKeyStore.fromFile(file('bundle.pem', `${spki}\n${keys.eddsa().publicKey.export({ type: 'spki', format: 'pem' }).toString()}`));
    expect(both.size()).toBe(2);
    const enc = await PayrailKeyStore.fromFile(file('enc.pem', keys.rsaEnc().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), { use: 'enc', kid: 'enc-2025' });
    expect(enc.activeKey('enc')).toEqual({ kid: 'enc-2025', alg: 'RSA-OAEP-256' });
  });

  it('refuses other PEM types with a hint, and unreadable files naming the path', async () => {
    const sec1 = keys.es256().privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    expect((await refusal(PayrailKeyStore.fromFile(file('sec1.pem', sec1)))).message).toMatch(/sec1\.pem.*"EC PRIVATE KEY" is not accepted.*pkcs8/);
    const encrypted = keys.es256().privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }).toString();
    expect((await refusal(PayrailKeyStore.fromFile(file('enc-pkcs8.pem', encrypted)))).message).toMatch(/encrypted PKCS#8/);
    expect((await refusal(PayrailKeyStore.fromFile(join(dir, 'missing.json')))).message).toMatch(/missing\.json: cannot be read \(ENOENT\)/);
    expect((await refusal(PayrailKeyStore.fromFile(file('junk.txt', 'hello')))).message).toMatch(/junk\.txt: neither JSON/);
    expect((await refusal(PayrailKeyStore.fromFile(file('two.pem', `${keys.es256().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()}${keys.es256('x').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()}`), { kid: 'a' }))).message).toMatch(/single-key sources only/);
  });

  it('reads a Kubernetes Secret volume (files are symlinks through ..data)', async () => {
    const mount = join(dir, 'k8s');
    mkdirSync(join(mount, '..2026_11_29_11_06_00.1'), { recursive: true });
    writeFileSync(join(mount, '..2026_11_29_11_06_00.1', 'signing.jwks.json'), JSON.stringify({ keys: [keys.es256().privateJwk] }));
    symlinkSync('..2026_11_29_11_06_00.1', join(mount, '..data'));
    symlinkSync(join('..data', 'signing.jwks.json'), join(mount, 'signing.jwks.json'));
    const ks = await PayrailKeyStore.fromSources({ files: [join(mount, 'signing.jwks.json')] });
    expect(ks.activeKey('sig').kid).toBe('es-1');
  });

  it('merges files and environment variables (JSON or PEM, literal \\n tolerated)', async () => {
    const pem = keys.eddsa().publicKey.export({ type: 'spki', format: 'pem' }).toString().replace(/\n/g, '\\n');
    const env = { SIG_JWKS: JSON.stringify({ keys: [keys.es256().privateJwk] }), PARTNER_PEM: pem };
    const ks = await PayrailKeyStore.fromSources(
      { files: [{ path: file('enc.json', JSON.stringify(keys.ecEnc().privateJwk)) }], env: ['SIG_JWKS', { name: 'PARTNER_PEM', kid: 'partner-1' }] },
      { env },
    );
    expect(ks.kids()).toEqual(['enc-1', 'es-1', 'partner-1']);
    expect((await refusal(PayrailKeyStore.fromSources({ env: ['NOPE'] }, { env }))).message).toBe('environment variable NOPE is not set or empty');
    expect((await refusal(PayrailKeyStore.fromSources({ env: ['SIG_JWKS', 'SIG_JWKS'] }, { env }))).message).toMatch(/duplicate kid "es-1" in environment variable SIG_JWKS, key #1 and environment variable SIG_JWKS, key #1/);
    await refusal(PayrailKeyStore.fromSources({}));
  });
});
