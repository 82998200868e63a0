// The built signing service refuses to start on keys it must not sign with: exit code 78 (EX_CONFIG) and a message
// naming SIGNING_KEYS_FILE and the file, never the key material. And in development it creates its own key.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSealKeys } from '@payrail/crypto';
import { es256Key, privateValues, refusedKeyFiles, writeKeyFile } from './testing/key-files';
import { ServiceProcess, builtEntry } from './testing/service-process';

const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';

// ingest's and settlement's public sealing keys, which signing needs too (refused when missing: see the last test)
const sealDir = mkdtempSync(join(tmpdir(), 'payrail-signing-seals-'));
const sealEnv: Record<string, string> = {};
beforeAll(async () => {
  sealEnv['INGEST_SEAL_JWKS_FILE'] = (await writeSealKeys(join(sealDir, 'ingest-seal'))).publicFile;
  sealEnv['SETTLEMENT_SEAL_JWKS_FILE'] = (await writeSealKeys(join(sealDir, 'settlement-seal'))).publicFile;
});
afterAll(() => rmSync(sealDir, { recursive: true, force: true }));

describe('signing service start-up with bad keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'payrail-signing-startup-'));
  let n = 0;
  beforeAll(() => builtEntry('signing'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function refusedStart(keysFile: string, extraEnv: Record<string, string> = {}): Promise<string> {
    const signing = await ServiceProcess.start('signing', { KAFKA_BROKERS: brokers, SIGNING_KEYS_FILE: keysFile, ...sealEnv, ...extraEnv });
    const code = await signing.waitExit();
    expect(code).toBe(78);
    return signing.logs;
  }

  it('exits 78 naming SIGNING_KEYS_FILE when the file is missing', async () => {
    const file = join(dir, 'missing.json');
    const output = await refusedStart(file);
    expect(output).toContain('refusing to start: invalid configuration');
    expect(output).toContain(`SIGNING_KEYS_FILE: ${file} does not exist`);
  }, 30_000);

  // every refused case is covered by the key ring's unit tests; here the process-level behaviour for three of them
  const processCases = refusedKeyFiles().filter((c) => /weak RSA|does not match|public keys only/.test(c.name));
  it.each(processCases)('exits 78 on $name, naming the variable and the file, without key material', async ({ keys, reason }) => {
    const file = join(dir, `keys-${n++}.json`);
    if (typeof keys === 'string') writeFileSync(file, keys);
    else writeKeyFile(file, keys);
    const output = await refusedStart(file);
    expect(output).toContain('SIGNING_KEYS_FILE');
    expect(output).toContain(file);
    expect(output).toMatch(reason);
    for (const secret of typeof keys === 'string' ? [] : privateValues(keys)) expect(output).not.toContain(secret);
  }, 30_000);

  it('refuses to create development keys in production', async () => {
    const output = await refusedStart(join(dir, 'never-created', 'keys.json'), { SIGNING_GENERATE_DEV_KEYS: 'true', NODE_ENV: 'production' });
    expect(output).toContain('SIGNING_GENERATE_DEV_KEYS: must not be true when NODE_ENV=production');
  }, 30_000);

  it('exits 78 naming INGEST_SEAL_JWKS_FILE when that file is missing', async () => {
    const keysFile = join(dir, `keys-${n++}.json`);
    writeKeyFile(keysFile, [es256Key('payrail-sig-seal-test')]);
    const output = await refusedStart(keysFile, { INGEST_SEAL_JWKS_FILE: join(dir, 'no-such-ingest.jwks.json') });
    expect(output).toContain('INGEST_SEAL_JWKS_FILE');
    expect(output).toContain('no-such-ingest.jwks.json');
  });
});

describe('signing service first start in development', () => {
  it('creates its key file, serves the new public key and keeps the private one out of its output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payrail-signing-devkeys-'));
    const file = join(dir, 'keys', 'signing.jwks.json');
    const signing = await ServiceProcess.start('signing', { KAFKA_BROKERS: brokers, SIGNING_KEYS_FILE: file, SIGNING_GENERATE_DEV_KEYS: 'true', NODE_ENV: 'development', ...sealEnv });
    try {
      await signing.waitReady();
      const written = JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<Record<string, unknown>> };
      const jwks = (await (await fetch(`${signing.url}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
      expect(jwks.keys.map((k) => k['kid'])).toEqual(written.keys.map((k) => k['kid']));
      expect(readFileSync(join(dir, 'keys', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
      expect(signing.logs).toContain('generated development signing keys');
      for (const secret of privateValues(written.keys)) expect(signing.logs + JSON.stringify(jwks)).not.toContain(secret);
    } finally {
      await signing.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
