// `payrail signing-keys`: the key rotation steps of docs/runbooks/key-rotation.md as commands on the signing
// service's private JWKS file (SIGNING_KEYS_FILE, or a working copy of its Kubernetes Secret). Every command
// checks the result with the same code the service loads keys with before it replaces the file (atomically,
// mode 0600), so a file the service would refuse is never written. Output names kids and states, never key material.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KeyConfigError, PayrailKeyStore, generateDevKeys, type KeyState, type SigningAlg } from '@payrail/crypto';

export type SigningKeysAction = 'list' | 'add' | 'activate' | 'retire' | 'remove';

export interface SigningKeysRequest {
  action: SigningKeysAction;
  file: string;
  kid?: string;
  alg?: SigningAlg;
}

export interface SigningKeySummary {
  kid: string;
  alg: string;
  state: KeyState;
}

type Jwk = Record<string, unknown>;

const STATE = 'payrail_state';

function stateOf(jwk: Jwk): KeyState {
  const s = jwk[STATE];
  return s === 'verify-only' || s === 'retired' ? s : 'active';
}

async function readKeys(file: string, allowMissing: boolean): Promise<Jwk[]> {
  if (!existsSync(file)) {
    if (allowMissing) return [];
    throw new KeyConfigError(`${file} does not exist`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new KeyConfigError(`${file}: not valid JSON`);
  }
  const keys = (doc as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))) {
    throw new KeyConfigError(`${file}: not a JWKS ({"keys": [...]})`);
  }
  return keys as Jwk[];
}

function find(keys: Jwk[], kid: string | undefined, file: string): Jwk {
  if (!kid) throw new KeyConfigError('--kid is required');
  const key = keys.find((k) => k['kid'] === kid);
  if (!key) throw new KeyConfigError(`${file}: no key with kid "${kid}" (list shows the kids)`);
  return key;
}

/** What the service would load: valid, strong, matching keys, exactly one active signing key with a private part. */
async function check(keys: Jwk[], file: string): Promise<SigningKeySummary[]> {
  const store = await PayrailKeyStore.fromJwks({ keys }, { source: file });
  store.activeKey('sig');
  return store.kids().map((kid) => {
    const jwk = keys.find((k) => k['kid'] === kid);
    return { kid, alg: String(jwk?.['alg'] ?? ''), state: store.state(kid) ?? 'active' };
  });
}

async function writeKeys(file: string, keys: Jwk[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600);
  await rename(tmp, file); // the service's watcher never sees half a file
}

export async function runSigningKeys(req: SigningKeysRequest): Promise<SigningKeySummary[]> {
  const keys = await readKeys(req.file, req.action === 'add');
  switch (req.action) {
    case 'list':
      return check(keys, req.file);
    case 'add': {
      // step 1 of a rotation: the new key is published (verify-only) before it signs anything; the first key of a
      // new file signs at once
      const { privateJwks } = await generateDevKeys({ alg: req.alg ?? 'ES256', withEncryptionKey: false });
      const [generated] = privateJwks.keys;
      if (!generated) throw new Error('no key generated');
      const kid = req.kid ?? String(generated['kid']);
      if (keys.some((k) => k['kid'] === kid)) throw new KeyConfigError(`${req.file}: kid "${kid}" is already used`);
      keys.push({ ...generated, kid, [STATE]: keys.length === 0 ? 'active' : 'verify-only' });
      break;
    }
    case 'activate': {
      const key = find(keys, req.kid, req.file);
      if (stateOf(key) === 'retired') throw new KeyConfigError(`${req.file}: "${req.kid}" is retired; add a new key instead of reviving it`);
      if (key['d'] === undefined) throw new KeyConfigError(`${req.file}: "${req.kid}" has no private part and cannot sign`);
      for (const k of keys) if (k !== key && stateOf(k) === 'active') k[STATE] = 'verify-only';
      key[STATE] = 'active';
      break;
    }
    case 'retire': {
      const key = find(keys, req.kid, req.file);
      if (stateOf(key) === 'active') throw new KeyConfigError(`${req.file}: "${req.kid}" is the active key; activate its successor first`);
      key[STATE] = 'retired';
      break;
    }
    case 'remove': {
      const key = find(keys, req.kid, req.file);
      if (stateOf(key) !== 'retired') throw new KeyConfigError(`${req.file}: retire "${req.kid}" before removing it`);
      keys.splice(keys.indexOf(key), 1);
      break;
    }
  }
  const summary = await check(keys, req.file);
  await writeKeys(req.file, keys);
  return summary;
}
