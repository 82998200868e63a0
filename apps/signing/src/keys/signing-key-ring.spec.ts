import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@payrail/config';
import { JwsVerifier, PayrailKeyStore } from '@payrail/crypto';
import { es256Key, privateValues, refusedKeyFiles, withState, writeKeyFile } from '../testing/key-files';
import { JWS_TYPES, SigningKeyRing } from './signing-key-ring';

let dir: string;
let n = 0;
const opened: SigningKeyRing[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'payrail-signing-keys-'));
});
afterEach(() => {
  for (const ring of opened.splice(0)) ring.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fileIn = (name = `keys-${n++}.json`) => join(dir, name);

async function open(keysFile: string, generateDevKeys = false): Promise<SigningKeyRing> {
  const ring = await SigningKeyRing.open({ keysFile, generateDevKeys });
  opened.push(ring);
  return ring;
}

async function refusal(keysFile: string): Promise<ConfigError> {
  const err = await SigningKeyRing.open({ keysFile, generateDevKeys: false }).then(
    (ring) => {
      ring.close();
      throw new Error('expected the keys to be refused');
    },
    (e: unknown) => e,
  );
  if (!(err instanceof ConfigError)) throw err;
  return err;
}

function header(jws: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function verifierFor(ring: SigningKeyRing): Promise<JwsVerifier> {
  return new JwsVerifier(await PayrailKeyStore.fromJwks(ring.publishedJwks().body), { algorithms: ['ES256'] });
}

describe('SigningKeyRing start-up checks', () => {
  it('refuses a missing key file, naming SIGNING_KEYS_FILE, the path and how to get development keys', async () => {
    const file = fileIn();
    const err = await refusal(file);
    expect(err.problems).toEqual([{ variable: 'SIGNING_KEYS_FILE', reason: expect.stringContaining(`${file} does not exist`) }]);
    expect(err.message).toContain('SIGNING_GENERATE_DEV_KEYS=true');
  });

  it.each(refusedKeyFiles())('refuses $name, naming the variable and the file, never echoing key material', async ({ keys, reason }) => {
    const file = fileIn();
    if (typeof keys === 'string') writeFileSync(file, keys);
    else writeKeyFile(file, keys);
    const err = await refusal(file);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.variable).toBe('SIGNING_KEYS_FILE');
    expect(err.problems[0]?.reason).toContain(file);
    expect(err.message).toMatch(reason);
    for (const secret of typeof keys === 'string' ? [] : privateValues(keys)) expect(err.message).not.toContain(secret);
  });
});

describe('development keys', () => {
  it('creates one ES256 signing key exactly at SIGNING_KEYS_FILE (0600), in a folder git ignores', async () => {
    const folder = join(dir, `dev-${n++}`, 'signing');
    const file = join(folder, 'payrail-signing.jwks.json');
    const ring = await open(file, true);
    expect(ring.generatedDevKeys).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(folder, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    const written = JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<Record<string, unknown>> };
    expect(written.keys.map((k) => [k['use'], k['alg'], k['payrail_state']])).toEqual([['sig', 'ES256', 'active']]);
    expect(ring.publishedJwks().kids).toEqual([ring.activeKey().kid]);

    // the second start uses the same key
    const again = await open(file, true);
    expect(again.generatedDevKeys).toBe(false);
    expect(again.activeKey().kid).toBe(ring.activeKey().kid);
  });
});

describe('signing', () => {
  it('signs canonical JSON with the active key; the returned kid is the one in the header, with the document type', async () => {
    const file = fileIn();
    const key = es256Key('payrail-sig-2026-11');
    writeKeyFile(file, [key]);
    const ring = await open(file);
    const { jws, kid } = ring.sign('instruction', { b: 2, a: { d: 1, c: [3, 'x'] } });
    expect(kid).toBe('payrail-sig-2026-11');
    expect(header(jws)).toEqual({ alg: 'ES256', kid: 'payrail-sig-2026-11', typ: JWS_TYPES.instruction });
    expect(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')).toBe('{"a":{"c":[3,"x"],"d":1},"b":2}');
    const verified = await (await verifierFor(ring)).verify(jws);
    expect(verified.kid).toBe(kid);
    expect(header(ring.sign('settlementBatch', { batch_id: 'b-1' }).jws)['typ']).toBe(JWS_TYPES.settlementBatch);
  });

  it('publishes active and verify-only public keys only: no private members, no retired key', async () => {
    const file = fileIn();
    const keys = [es256Key('k-new', 'verify-only'), es256Key('k-current'), es256Key('k-old', 'retired')];
    writeKeyFile(file, keys);
    const ring = await open(file);
    const published = ring.publishedJwks();
    expect(published.kids).toEqual(['k-new', 'k-current']);
    for (const secret of privateValues(keys)) expect(published.body).not.toContain(secret);
    expect(published.body).not.toContain('payrail_state');
    expect(published.etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(ring.publishedJwks().etag).toBe(published.etag);
  });
});

describe('rotation without restart', () => {
  it('publishes the new key, then signs with it, while the old key keeps verifying until it is retired', async () => {
    const file = fileIn();
    const k1 = es256Key('k1');
    const k2 = es256Key('k2', 'verify-only');
    writeKeyFile(file, [k1]);
    const ring = await open(file);
    const before = ring.sign('instruction', { payment_id: 'p-1' });
    const etag1 = ring.publishedJwks().etag;

    writeKeyFile(file, [k1, k2]); // 1. publish
    await ring.reload();
    expect(ring.publishedJwks().kids).toEqual(['k1', 'k2']);
    expect(ring.publishedJwks().etag).not.toBe(etag1);
    expect(ring.sign('instruction', {}).kid).toBe('k1');

    writeKeyFile(file, [withState(k1, 'verify-only'), withState(k2, 'active')]); // 2. switch
    await ring.reload();
    const after = ring.sign('instruction', { payment_id: 'p-2' });
    expect(after.kid).toBe('k2');
    const verifier = await verifierFor(ring);
    await expect(verifier.verify(before.jws)).resolves.toMatchObject({ kid: 'k1' });
    await expect(verifier.verify(after.jws)).resolves.toMatchObject({ kid: 'k2' });

    writeKeyFile(file, [withState(k1, 'retired'), withState(k2, 'active')]); // 3. retire
    await ring.reload();
    expect(ring.publishedJwks().kids).toEqual(['k2']);
    await expect((await verifierFor(ring)).verify(before.jws)).rejects.toThrow();
  });

  it('keeps the current keys when the new file cannot sign, and says why without key material', async () => {
    const file = fileIn();
    const k1 = es256Key('k1');
    writeKeyFile(file, [k1]);
    const ring = await open(file);
    const errors: string[] = [];
    ring.useLogger({ info: () => undefined, warn: () => undefined, error: (o) => errors.push(JSON.stringify(o)) });
    writeKeyFile(file, [withState(k1, 'verify-only')]);
    process.emit('SIGHUP'); // what `kill -HUP` does
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(errors[0]).toMatch(/no active signing key/);
    await expect(ring.reload()).rejects.toThrow(/no active signing key/);
    expect(ring.sign('instruction', {}).kid).toBe('k1');
    expect(ring.publishedJwks().kids).toEqual(['k1']);
    for (const secret of privateValues([k1])) expect(errors.join('\n')).not.toContain(secret);
  });
});
