import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PayrailKeyStore } from '@payrail/crypto';
import { runSigningKeys } from './signing-keys';

describe('payrail signing-keys (the rotation runbook on a key file)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'payrail-cli-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const privateDs = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ d: string }> }).keys.map((k) => k.d);

  it('adds, publishes, switches, retires and removes keys, each step a file the service accepts', async () => {
    const file = join(dir, 'signing', 'private.jwks.json');
    expect(await runSigningKeys({ action: 'add', file, kid: 'sig-2026-10' })).toEqual([{ kid: 'sig-2026-10', alg: 'ES256', state: 'active' }]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await runSigningKeys({ action: 'add', file, kid: 'sig-2026-11' })).toEqual([
      { kid: 'sig-2026-10', alg: 'ES256', state: 'active' },
      { kid: 'sig-2026-11', alg: 'ES256', state: 'verify-only' },
    ]);
    expect((await PayrailKeyStore.fromJwks(readFileSync(file, 'utf8'))).publicJwks().keys.map((k) => k['kid'])).toEqual(['sig-2026-10', 'sig-2026-11']);

    const switched = await runSigningKeys({ action: 'activate', file, kid: 'sig-2026-11' });
    expect(switched.map((k) => k.state)).toEqual(['verify-only', 'active']);
    expect((await PayrailKeyStore.fromJwks(readFileSync(file, 'utf8'))).activeKey('sig').kid).toBe('sig-2026-11');

    expect((await runSigningKeys({ action: 'retire', file, kid: 'sig-2026-10' })).map((k) => k.state)).toEqual(['retired', 'active']);
    expect(await runSigningKeys({ action: 'remove', file, kid: 'sig-2026-10' })).toEqual([{ kid: 'sig-2026-11', alg: 'ES256', state: 'active' }]);
    expect(await runSigningKeys({ action: 'list', file })).toEqual([{ kid: 'sig-2026-11', alg: 'ES256', state: 'active' }]);
  });

  it('refuses steps that would break signing or revive a retired key, leaving the file as it was', async () => {
    const file = join(dir, 'private.jwks.json');
    await runSigningKeys({ action: 'add', file, kid: 'a' });
    await runSigningKeys({ action: 'add', file, kid: 'b' });
    const before = readFileSync(file, 'utf8');
    await expect(runSigningKeys({ action: 'retire', file, kid: 'a' })).rejects.toThrow(/is the active key/);
    await expect(runSigningKeys({ action: 'remove', file, kid: 'b' })).rejects.toThrow(/retire "b" before removing it/);
    await expect(runSigningKeys({ action: 'activate', file, kid: 'nope' })).rejects.toThrow(/no key with kid "nope"/);
    await expect(runSigningKeys({ action: 'add', file, kid: 'a' })).rejects.toThrow(/already used/);
    await runSigningKeys({ action: 'activate', file, kid: 'b' });
    await runSigningKeys({ action: 'retire', file, kid: 'a' });
    const retired = readFileSync(file, 'utf8');
    await expect(runSigningKeys({ action: 'activate', file, kid: 'a' })).rejects.toThrow(/is retired/);
    expect(readFileSync(file, 'utf8')).toBe(retired);
    expect(before).not.toBe(retired);
  });

  it('reports kids and states only, never key material', async () => {
    const file = join(dir, 'private.jwks.json');
    const out = JSON.stringify([await runSigningKeys({ action: 'add', file }), await runSigningKeys({ action: 'add', file, alg: 'EdDSA' }), await runSigningKeys({ action: 'list', file })]);
    for (const d of privateDs(file)) expect(out).not.toContain(d);
    expect(out).not.toContain('"d"');
  });
});
