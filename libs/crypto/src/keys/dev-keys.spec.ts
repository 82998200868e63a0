import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenerateKeys } from '../cli/generate-keys';
import { JwsSigner } from '../jws/signer';
import { JwsVerifier } from '../jws/verifier';
import { KeyConfigError } from '../lib/errors';
import { generateDevKeys, writeDevKeys } from './dev-keys';
import { PayrailKeyStore } from './keystore';
import { jwkThumbprint } from './key-record';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'payrail-devkeys-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'payrail_state'];

describe('generateDevKeys', () => {
  it.each(['ES256', 'EdDSA'] as const)('makes a %s signing key and an encryption key whose public JWKS verifies its tokens', async (alg) => {
    const { privateJwks, publicJwks } = await generateDevKeys({ alg });
    expect(privateJwks.keys.map((k) => [k['use'], k['alg'], k['payrail_state']])).toEqual([
      ['sig', alg, 'active'],
      ['enc', 'ECDH-ES+A256KW', 'active'],
    ]);
    for (const k of privateJwks.keys) expect(k['kid']).toBe(jwkThumbprint(k));
    for (const k of publicJwks.keys) for (const m of PRIVATE) expect(k).not.toHaveProperty(m);
    const token = new JwsSigner(await PayrailKeyStore.fromJwks(privateJwks)).sign({ hello: 'world' });
    const verified = await new JwsVerifier(await PayrailKeyStore.fromJwks(publicJwks), { algorithms: [alg] }).verify(token);
    expect(verified.payload).toEqual({ hello: 'world' });
  });

  it('makes PS256 / RSA-OAEP-256 keys and refuses weak RSA sizes', async () => {
    const { privateJwks } = await generateDevKeys({ alg: 'PS256', encAlg: 'RSA-OAEP-256', rsaModulusBits: 2048 });
    expect(privateJwks.keys.map((k) => k['alg'])).toEqual(['PS256', 'RSA-OAEP-256']);
    await expect(generateDevKeys({ alg: 'PS256', rsaModulusBits: 1024 })).rejects.toThrow(KeyConfigError);
  });

  it('can skip the encryption key', async () => {
    expect((await generateDevKeys({ withEncryptionKey: false })).privateJwks.keys).toHaveLength(1);
  });

  it('can skip the signing key (a file of one encryption key), not both', async () => {
    expect((await generateDevKeys({ withSigningKey: false })).privateJwks.keys.map((k) => [k['use'], k['alg']])).toEqual([['enc', 'ECDH-ES+A256KW']]);
    await expect(generateDevKeys({ withSigningKey: false, withEncryptionKey: false })).rejects.toThrow(KeyConfigError);
  });
});

describe('writeDevKeys and the CLI', () => {
  it('writes private.jwks.json with mode 0600 and public.jwks.json, and refuses to overwrite', async () => {
    const out = join(dir, 'a', 'keys');
    const { privatePath, publicPath } = await writeDevKeys(out);
    expect(statSync(privatePath).mode & 0o777).toBe(0o600);
    expect(statSync(publicPath).mode & 0o777).toBe(0o644);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    const pub = JSON.parse(readFileSync(publicPath, 'utf8')) as { keys: Array<Record<string, unknown>> };
    expect(pub.keys).toHaveLength(2);
    expect(readFileSync(publicPath, 'utf8')).not.toMatch(/"d"|payrail_state/);
    expect((await PayrailKeyStore.fromFile(privatePath)).activeKey('sig').alg).toBe('ES256');
    await expect(writeDevKeys(out)).rejects.toThrow(/already exists/);
    const before = readFileSync(privatePath, 'utf8');
    await writeDevKeys(out, { overwrite: true });
    expect(readFileSync(privatePath, 'utf8')).not.toBe(before);
    expect(statSync(privatePath).mode & 0o777).toBe(0o600);
  });

  it('runGenerateKeys writes both files and reports usage errors', async () => {
    const lines: string[] = [];
    const errs: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => errs.push(l) };
    const out = join(dir, 'cli');
    expect(await runGenerateKeys(['--out', out, '--alg', 'EdDSA', '--no-enc'], io)).toBe(0);
    expect(lines.join('\n')).toMatch(/private JWKS: .*private\.jwks\.json \(mode 0600\)/);
    const ks = await PayrailKeyStore.fromFile(join(out, 'private.jwks.json'));
    expect(ks.size()).toBe(1);
    expect(ks.activeKey('sig').alg).toBe('EdDSA');
    expect(await runGenerateKeys(['--out', out], io)).toBe(1); // exists
    expect(errs.pop()).toMatch(/already exists/);
    expect(await runGenerateKeys(['--out', out, '--force'], io)).toBe(0);
    expect(await runGenerateKeys(['--alg', 'HS256'], io)).toBe(2);
    expect(await runGenerateKeys(['--bogus'], io)).toBe(2);
    expect(await runGenerateKeys(['--help'], io)).toBe(0);
  });
});
