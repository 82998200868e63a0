// Benchmark of @payrail/crypto against raw node:crypto doing the same job, in one run with the same keys and the
// same ~300-byte payment. Usage: node -r @swc-node/register tools/bench/crypto-bench.ts [--json FILE]
//   [--rounds N] [--round-ms MS] [--check]   (--check: exit 1 when ES256 sign or verify is under 0.5 of raw)
//
// "raw" is the least node:crypto code producing or checking the same compact token: a precomputed header,
// JSON.stringify (no canonicalisation), crypto.sign/verify, and for JWE a hand-written ECDH-ES+A256KW + A256GCM.
// It performs none of the library's checks, so the ratio is the price of the policy and of node-jose (JWE).
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
// relative import: the @payrail/* aliases are not resolved under swc-node
import * as nodeJose from 'node-jose';
import { EcdhAgreementPool, JweDecrypter, JweEncrypter, JwsSigner, JwsVerifier, PayrailKeyStore, canonicalJson } from '../../libs/crypto/src';

interface Row {
  op: string;
  library_per_s: number;
  raw_per_s: number;
  ratio: number;
}

type Op = () => unknown;

function args(argv: string[]): { json?: string; rounds: number; roundMs: number; check: boolean } {
  const out: { json?: string; rounds: number; roundMs: number; check: boolean } = { rounds: 5, roundMs: 250, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = argv[++i];
    else if (a === '--rounds') out.rounds = Number(argv[++i]);
    else if (a === '--round-ms') out.roundMs = Number(argv[++i]);
    else if (a === '--check') out.check = true;
    else if (a === '--') continue; // npm run bench:crypto -- --json FILE
    else throw new Error(`unknown argument ${String(a)}`);
  }
  if (out.json === undefined && argv.includes('--json')) throw new Error('--json needs a file');
  if (!(out.rounds >= 1) || !(out.roundMs >= 10)) throw new Error('--rounds >= 1 and --round-ms >= 10');
  return out;
}

/** Runs op (sync or async) for about ms milliseconds; returns operations per second. */
async function rate(op: Op, ms: number): Promise<number> {
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let n = 0;
  let elapsed = 0n;
  do {
    for (let i = 0; i < 16; i++) {
      const r = op();
      if (r instanceof Promise) await r;
    }
    n += 16;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return n / (Number(elapsed) / 1e9);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** Library and raw alternate round by round so drift (thermal, neighbours) hits both alike. */
async function compare(name: string, lib: Op, raw: Op, rounds: number, roundMs: number): Promise<Row> {
  await rate(lib, roundMs);
  await rate(raw, roundMs);
  const l: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < rounds; i++) {
    l.push(await rate(lib, roundMs));
    r.push(await rate(raw, roundMs));
  }
  const library = median(l);
  const rawRate = median(r);
  return { op: name, library_per_s: Math.round(library), raw_per_s: Math.round(rawRate), ratio: Math.round((library / rawRate) * 1000) / 1000 };
}

// ---- raw node:crypto JOSE, the baseline -------------------------------------------------------------------

function b64u(b: Buffer | string): string {
  return (typeof b === 'string' ? Buffer.from(b, 'utf8') : b).toString('base64url');
}

function rawSignCompact(headerB64: string, payload: unknown, key: KeyObject, alg: 'ES256' | 'EdDSA'): string {
  const input = `${headerB64}.${b64u(JSON.stringify(payload))}`;
  const sig = alg === 'ES256' ? cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : cryptoSign(null, Buffer.from(input), key);
  return `${input}.${sig.toString('base64url')}`;
}

function rawVerifyCompact(token: string, key: KeyObject, alg: 'ES256' | 'EdDSA'): unknown {
  const d2 = token.lastIndexOf('.');
  const d1 = token.indexOf('.');
  const sig = Buffer.from(token.slice(d2 + 1), 'base64url');
  const data = Buffer.from(token.slice(0, d2));
  const ok = alg === 'ES256' ? cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig) : cryptoVerify(null, data, key, sig);
  if (!ok) throw new Error('raw verify failed');
  return JSON.parse(Buffer.from(token.slice(d1 + 1, d2), 'base64url').toString('utf8'));
}

const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

/** RFC 7518 4.6.2 Concat KDF for ECDH-ES+A256KW (empty apu/apv, 256-bit key). */
function concatKdf(z: Buffer): Buffer {
  const alg = Buffer.from('ECDH-ES+A256KW');
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return createHash('sha256')
    .update(Buffer.concat([u32(1), z, u32(alg.length), alg, u32(0), u32(0), u32(256)]))
    .digest();
}

function rawJweEncrypt(plaintext: Buffer, recipient: KeyObject, kid: string): string {
  const eph = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const epk = eph.publicKey.export({ format: 'jwk' });
  const header = b64u(JSON.stringify({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid, epk: { kty: 'EC', crv: 'P-256', x: epk.x, y: epk.y } }));
  const kek = concatKdf(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }));
  const cek = randomBytes(32);
  const kw = createCipheriv('id-aes256-wrap', kek, KW_IV);
  const wrapped = Buffer.concat([kw.update(cek), kw.final()]);
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', cek, iv);
  gcm.setAAD(Buffer.from(header));
  const ct = Buffer.concat([gcm.update(plaintext), gcm.final()]);
  return `${header}.${b64u(wrapped)}.${b64u(iv)}.${b64u(ct)}.${b64u(gcm.getAuthTag())}`;
}

function rawJweDecrypt(token: string, privateKey: KeyObject): Buffer {
  const [h = '', ek = '', iv = '', ct = '', tag = ''] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { epk: { kty: string; crv: string; x: string; y: string } };
  const epk = createPublicKey({ key: header.epk, format: 'jwk' });
  const kek = concatKdf(diffieHellman({ privateKey, publicKey: epk }));
  const kw = createDecipheriv('id-aes256-wrap', kek, KW_IV);
  const cek = Buffer.concat([kw.update(Buffer.from(ek, 'base64url')), kw.final()]);
  const gcm = createDecipheriv('aes-256-gcm', cek, Buffer.from(iv, 'base64url'));
  gcm.setAAD(Buffer.from(h));
  gcm.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([gcm.update(Buffer.from(ct, 'base64url')), gcm.final()]);
}

// ---- setup ------------------------------------------------------------------------------------------------

function jwkOf(key: KeyObject, kid: string, use: string, alg: string): Record<string, unknown> {
  return { ...(key.export({ format: 'jwk' }) as Record<string, unknown>), kid, use, alg };
}

async function main(): Promise<void> {
  const opts = args(process.argv.slice(2));
  const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  const encKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // the library loads the very keys the raw code uses
  const esStore = await PayrailKeyStore.fromJwks({ keys: [jwkOf(es.privateKey, 'bench-es256', 'sig', 'ES256'), jwkOf(encKeys.privateKey, 'bench-enc', 'enc', 'ECDH-ES+A256KW')] });
  const edStore = await PayrailKeyStore.fromJwks({ keys: [jwkOf(ed.privateKey, 'bench-eddsa', 'sig', 'EdDSA')] });

  const now = Math.floor(Date.now() / 1000);
  const payment = {
    payment_id: 'pay_01JB8Z5Q9X4N7K2M3P6R8T0V1W',
    merchant_id: 'mer_4f9c2a7e',
    amount: { value: 125_000, currency: 'EUR' },
    payer: { account: 'DE89370400440532013000', name: 'Erika Mustermann' },
    payee: { account: 'FR1420041010050500013M02606' },
    reference: 'INV-2026-000123',
    iat: now,
    jti: '4b7f0c2e-9a51-4d2b-8f3e-6c1a0d9e7b52',
  };
  const payloadBytes = Buffer.byteLength(canonicalJson(payment));

  const esSigner = new JwsSigner(esStore);
  const edSigner = new JwsSigner(edStore);
  // realistic policy: allowlist, size limits, clock checks with iat required, no replay store (that is I/O)
  const esVerifier = new JwsVerifier(esStore, { algorithms: ['ES256'], requireIat: true, maxAgeSeconds: 3600 });
  const edVerifier = new JwsVerifier(edStore, { algorithms: ['EdDSA'], requireIat: true, maxAgeSeconds: 3600 });
  const encrypter = new JweEncrypter(esStore);
  const agreements = new EcdhAgreementPool();
  const pooledEncrypter = new JweEncrypter(esStore, { agreements });
  const decrypter = new JweDecrypter(esStore);
  // the JWE engine before: node-jose encrypting to the same key, with the ephemeral key made by node:crypto (as
  // JweEncrypter did; node-jose's own JavaScript key generation is slower still)
  const joseKey = await nodeJose.JWK.asKey(jwkOf(encKeys.publicKey, 'bench-enc', 'enc', 'ECDH-ES+A256KW'));
  type CreateEncrypt = (o: nodeJose.JWE.EncryptOptions, r: { key: nodeJose.JWK.Key; epk: Record<string, unknown> }) => nodeJose.JWE.Encryptor;
  const createEncrypt = nodeJose.JWE.createEncrypt as unknown as CreateEncrypt;
  const nodeJoseEncrypt = (): Promise<unknown> =>
    createEncrypt(
      { format: 'compact', contentAlg: 'A256GCM', fields: { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'bench-enc' }, protect: '*' },
      { key: joseKey, epk: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<string, unknown> },
    )
      .update(plaintext)
      .final();

  const esHeader = b64u(JSON.stringify({ alg: 'ES256', kid: 'bench-es256' }));
  const edHeader = b64u(JSON.stringify({ alg: 'EdDSA', kid: 'bench-eddsa' }));
  const esToken = esSigner.sign(payment);
  const edToken = edSigner.sign(payment);
  const plaintext = Buffer.from(canonicalJson(payment));
  const jweToken = await encrypter.encrypt(plaintext);

  // sanity: both sides do the same job and understand each other
  rawVerifyCompact(esToken, es.publicKey, 'ES256');
  await esVerifier.verify(rawSignCompact(esHeader, payment, es.privateKey, 'ES256'));
  rawVerifyCompact(edToken, ed.publicKey, 'EdDSA');
  await edVerifier.verify(rawSignCompact(edHeader, payment, ed.privateKey, 'EdDSA'));
  if (!rawJweDecrypt(jweToken, encKeys.privateKey).equals(plaintext)) throw new Error('raw JWE decrypt mismatch');
  if (!(await decrypter.decrypt(rawJweEncrypt(plaintext, encKeys.publicKey, 'bench-enc'))).equals(plaintext)) throw new Error('library JWE decrypt mismatch');

  const { rounds, roundMs } = opts;
  const results: Row[] = [];
  const run = async (name: string, lib: Op, raw: Op): Promise<void> => {
    const row = await compare(name, lib, raw, rounds, roundMs);
    results.push(row);
    process.stderr.write(`  ${name}: done\n`);
  };
  await run('ES256 sign', () => esSigner.sign(payment), () => rawSignCompact(esHeader, payment, es.privateKey, 'ES256'));
  await run('ES256 verify', () => esVerifier.verify(esToken), () => rawVerifyCompact(esToken, es.publicKey, 'ES256'));
  await run('EdDSA sign', () => edSigner.sign(payment), () => rawSignCompact(edHeader, payment, ed.privateKey, 'EdDSA'));
  await run('EdDSA verify', () => edVerifier.verify(edToken), () => rawVerifyCompact(edToken, ed.publicKey, 'EdDSA'));
  await run('JWE encrypt (ECDH-ES+A256KW, A256GCM)', () => encrypter.encrypt(plaintext), () => rawJweEncrypt(plaintext, encKeys.publicKey, 'bench-enc'));
  await run('JWE decrypt (ECDH-ES+A256KW, A256GCM)', () => decrypter.decrypt(jweToken), () => rawJweDecrypt(jweToken, encKeys.privateKey));
  // agreements prepared on a worker thread (run one at a time here, the pool drains and the rest is computed on the spot)
  await run('JWE encrypt with EcdhAgreementPool', () => pooledEncrypter.encrypt(plaintext), () => rawJweEncrypt(plaintext, encKeys.publicKey, 'bench-enc'));
  const nodeJoseRates: number[] = [];
  for (let i = 0; i < rounds; i++) nodeJoseRates.push(await rate(nodeJoseEncrypt, roundMs));
  const nodeJosePerS = median(nodeJoseRates);
  await agreements.close();

  const targets = new Map([
    ['ES256 sign', 0.5],
    ['ES256 verify', 0.5],
  ]);
  const pad = (s: string, n: number): string => s.padEnd(n);
  const lpad = (s: string, n: number): string => s.padStart(n);
  const lines = [
    `payrail crypto bench: node ${process.version}, ${cpus().length} CPU(s), payload ${payloadBytes} bytes, ${rounds} rounds x ${roundMs} ms (median)`,
    `${pad('op', 46)} ${lpad('library/s', 10)} ${lpad('raw/s', 10)} ${lpad('ratio', 7)}  target`,
    ...results.map((r) => {
      const t = targets.get(r.op);
      const verdict = t === undefined ? '' : r.ratio >= t ? `>= ${t} ok` : `>= ${t} MISSED`;
      return `${pad(r.op, 46)} ${lpad(String(r.library_per_s), 10)} ${lpad(String(r.raw_per_s), 10)} ${lpad(r.ratio.toFixed(3), 7)}  ${verdict}`;
    }),
    `JWE encrypt before (node-jose 2.2.0, node:crypto ephemeral keys): ${Math.round(nodeJosePerS)}/s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (opts.json !== undefined) {
    const doc = { results, meta: { node_jose_jwe_encrypt_per_s: Math.round(nodeJosePerS), node: process.version, cpus: cpus().length, payload_bytes: payloadBytes, rounds, round_ms: roundMs, at: new Date().toISOString() } };
    writeFileSync(opts.json, `${JSON.stringify(doc, null, 2)}\n`);
    process.stdout.write(`wrote ${opts.json}\n`);
  }
  const missed = results.filter((r) => (targets.get(r.op) ?? 0) > r.ratio);
  if (opts.check && missed.length > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
