import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwsSigner } from '../jws/signer';
import { JwsVerifier } from '../jws/verifier';
import { KeyConfigError } from '../lib/errors';
import { keys, withState, type Jwk, rejectionReason as reason } from '../test/fixtures';
import type { PayrailKeyStore } from './keystore';
import { ReloadingKeyStore } from './reloading-keystore';

let dir: string;
let n = 0;
const open: ReloadingKeyStore[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'payrail-reload-'));
});
afterEach(() => {
  for (const ks of open.splice(0)) ks.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes like kubectl/editors do: temp file + rename, so readers never see half a file. */
function writeJwks(path: string, ...jwks: Jwk[]): void {
  const tmp = `${path}.tmp${n++}`;
  writeFileSync(tmp, JSON.stringify({ keys: jwks }));
  renameSync(tmp, path);
}

function freshFile(...jwks: Jwk[]): string {
  const sub = join(dir, `case-${n++}`);
  mkdirSync(sub);
  const p = join(sub, 'private.jwks.json');
  writeJwks(p, ...jwks);
  return p;
}

async function watch(path: string, opts: Parameters<typeof ReloadingKeyStore.watch>[1] = {}): Promise<ReloadingKeyStore> {
  const ks = await ReloadingKeyStore.watch(path, { signal: null, pollIntervalMs: null, ...opts });
  open.push(ks);
  return ks;
}


function nextReload(): { onReload: (ks: PayrailKeyStore) => void; reloaded: Promise<PayrailKeyStore> } {
  let resolve: (ks: PayrailKeyStore) => void = () => undefined;
  const reloaded = new Promise<PayrailKeyStore>((r) => {
    resolve = r;
  });
  return { onReload: (ks) => resolve(ks), reloaded };
}

async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('ReloadingKeyStore', () => {
  const oldKey = keys.es256('k-2026-01');
  const newKey = keys.es256('k-2026-02');

  it('rotates without restart: the signer moves to the new key, the previous key keeps verifying', async () => {
    const path = freshFile(oldKey.privateJwk);
    const ks = await watch(path);
    const signer = new JwsSigner(ks);
    const verifier = new JwsVerifier(ks, { algorithms: ['ES256'] });
    const before = signer.sign({ n: 1 });
    writeJwks(path, newKey.privateJwk, withState(oldKey.privateJwk, 'verify-only'));
    await ks.reload();
    const after = signer.sign({ n: 2 });
    expect((await verifier.verify(after)).kid).toBe('k-2026-02');
    expect((await verifier.verify(before)).kid).toBe('k-2026-01');
    expect(ks.current().activeKey('sig').kid).toBe('k-2026-02');
  });

  it('keeps a key dropped from the file verifying for the overlap, then retires it', async () => {
    let now = 1_000_000;
    const path = freshFile(oldKey.privateJwk);
    const ks = await watch(path, { overlapMs: 60_000, now: () => now });
    const verifier = new JwsVerifier(ks, { algorithms: ['ES256'] });
    const old = new JwsSigner(ks).sign({ n: 1 });
    writeJwks(path, newKey.privateJwk);
    await ks.reload();
    expect(ks.current().state('k-2026-01')).toBe('verify-only');
    expect(ks.current().publicJwks().keys.map((k) => k['kid'])).toEqual(['k-2026-02', 'k-2026-01']);
    expect(await reason(verifier.verify(old))).toBe('accepted');
    now += 60_001;
    expect(await reason(verifier.verify(old))).toBe('retired');
    expect(ks.current().publicJwks().keys.map((k) => k['kid'])).toEqual(['k-2026-02']);
    // the deadline survives further reloads and is not extended
    writeJwks(path, newKey.privateJwk, keys.ecEnc().privateJwk);
    await ks.reload();
    expect(ks.current().has('k-2026-01')).toBe(false);
  });

  it('retires a key listed as retired at once (compromise)', async () => {
    const path = freshFile(oldKey.privateJwk);
    const ks = await watch(path);
    const old = new JwsSigner(ks).sign({ n: 1 });
    writeJwks(path, newKey.privateJwk, withState(oldKey.publicJwk, 'retired'));
    await ks.reload();
    expect(await reason(new JwsVerifier(ks, { algorithms: ['ES256'] }).verify(old))).toBe('retired');
  });

  it('keeps the working keys when the new file is broken or weak', async () => {
    const path = freshFile(oldKey.privateJwk);
    const ks = await watch(path);
    writeFileSync(path, '{"keys": [');
    await expect(ks.reload()).rejects.toThrow(KeyConfigError);
    writeJwks(path, { kty: 'oct', k: 'AQ' });
    await expect(ks.reload()).rejects.toThrow(/too short/);
    expect(ks.current().activeKey('sig').kid).toBe('k-2026-01');
  });

  it('refuses a rotation that would leave no active signing key', async () => {
    const path = freshFile(oldKey.privateJwk);
    const ks = await watch(path);
    writeJwks(path, withState(oldKey.privateJwk, 'verify-only'));
    await expect(ks.reload()).rejects.toThrow(/no active signing key/);
    expect(ks.current().activeKey('sig').kid).toBe('k-2026-01');
  });

  it('refuses to start on an unusable file', async () => {
    const path = freshFile(oldKey.privateJwk);
    writeFileSync(path, 'nonsense');
    await expect(ReloadingKeyStore.watch(path, { signal: null })).rejects.toThrow(/neither JSON/);
  });

  it('reloads on SIGHUP and stops listening on close', async () => {
    const baseline = process.listenerCount('SIGHUP');
    const path = freshFile(oldKey.privateJwk);
    const { onReload, reloaded } = nextReload();
    const ks = await watch(path, { signal: 'SIGHUP', onReload });
    expect(process.listenerCount('SIGHUP')).toBe(baseline + 1);
    writeJwks(path, newKey.privateJwk);
    process.emit('SIGHUP', 'SIGHUP');
    expect((await within(reloaded, 5000)).activeKey('sig').kid).toBe('k-2026-02');
    ks.close();
    expect(process.listenerCount('SIGHUP')).toBe(baseline);
  });

  it('notices a changed file through the directory watch', async () => {
    const path = freshFile(oldKey.privateJwk);
    const { onReload, reloaded } = nextReload();
    await watch(path, { onReload, debounceMs: 20 });
    writeJwks(path, newKey.privateJwk);
    expect((await within(reloaded, 5000)).activeKey('sig').kid).toBe('k-2026-02');
  });

  it('notices a Kubernetes Secret update (atomic ..data symlink swap)', async () => {
    const mount = join(dir, `k8s-${n++}`);
    mkdirSync(join(mount, '..v1'), { recursive: true });
    writeFileSync(join(mount, '..v1', 'private.jwks.json'), JSON.stringify({ keys: [oldKey.privateJwk] }));
    symlinkSync('..v1', join(mount, '..data'));
    symlinkSync(join('..data', 'private.jwks.json'), join(mount, 'private.jwks.json'));
    const { onReload, reloaded } = nextReload();
    await watch(join(mount, 'private.jwks.json'), { onReload, debounceMs: 20 });
    mkdirSync(join(mount, '..v2'));
    writeFileSync(join(mount, '..v2', 'private.jwks.json'), JSON.stringify({ keys: [newKey.privateJwk, withState(oldKey.privateJwk, 'verify-only')] }));
    symlinkSync('..v2', join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    const ks = await within(reloaded, 5000);
    expect(ks.activeKey('sig').kid).toBe('k-2026-02');
  });

  it('polls without reloading unchanged content, and picks up a change', async () => {
    const path = freshFile(oldKey.privateJwk);
    const reloads: string[] = [];
    const ks = await watch(path, { pollIntervalMs: 25, onReload: (s) => reloads.push(s.activeKey('sig').kid) });
    await new Promise((r) => setTimeout(r, 120));
    expect(reloads).toEqual([]); // polls happened, content unchanged
    writeJwks(path, newKey.privateJwk);
    for (let i = 0; i < 100 && reloads.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(reloads).toEqual(['k-2026-02']);
    expect(ks.current().activeKey('sig').kid).toBe('k-2026-02');
  });
});
