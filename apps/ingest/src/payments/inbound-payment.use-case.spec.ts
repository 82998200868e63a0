// Decrypt, then verify: a payment on the inbound topic reaches the signature checks only as a JWE to one of ingest's
// inbound keys (active or, during a rotation, verify-only); anything else is refused with a reason and never
// reaches them. The submission use case is faked: what it receives is the point.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@payrail/config';
import { INBOUND_PAYMENT_JWE_CONTENT_TYPE } from '@payrail/contracts';
import { JweEncrypter, PayrailKeyStore, generateDevKeys } from '@payrail/crypto';
import { InboundPaymentEncrypter } from '@payrail/upstream-sdk';
import { InboundKeys } from './inbound-keys';
import { ReceiveInboundPaymentUseCase } from './inbound-payment.use-case';
import type { SubmitPaymentCommand, SubmitPaymentResult } from './submit-payment.use-case';

type Jwk = Record<string, unknown>;
const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function encryptionKey(state: 'active' | 'verify-only' = 'active'): Promise<Jwk> {
  const { privateJwks } = await generateDevKeys({ alg: 'ES256', withEncryptionKey: true });
  const key = privateJwks.keys.find((k) => k['use'] === 'enc');
  if (!key) throw new Error('no encryption key generated');
  return { ...key, payrail_state: state };
}

const publicOf = async (key: Jwk): Promise<Jwk> => {
  const [pub] = (await PayrailKeyStore.fromJwks({ keys: [key] })).publicJwks().keys;
  if (!pub) throw new Error('no public key');
  return pub;
};

// the compact JWS is not checked here (the fake submission takes it as it is): any three segments do
const SIGNED = `${b64({ alg: 'ES256', kid: 'upstream-key', typ: 'payrail-payment+jws' })}.${b64({ jti: 'jti-0001', iat: 1, payment: {} })}.${b64('signature')}`;
const ACCEPTED: SubmitPaymentResult = { kind: 'ACCEPTED', paymentId: 'p-1', upstreamId: 'psp-alpha', upstreamReference: 'ref-1', acceptedAt: '2026-01-01T00:00:00.000Z' };

describe('ReceiveInboundPaymentUseCase (decrypt, then verify)', () => {
  let dir: string;
  let activeKey: Jwk;
  let oldKey: Jwk;
  let keys: InboundKeys;
  let submitted: SubmitPaymentCommand[];
  let useCase: ReceiveInboundPaymentUseCase;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'payrail-inbound-keys-'));
    activeKey = await encryptionKey('active');
    oldKey = await encryptionKey('verify-only');
    writeFileSync(join(dir, 'inbound.jwks.json'), JSON.stringify({ keys: [activeKey, oldKey] }), { mode: 0o600 });
    keys = await InboundKeys.open(join(dir, 'inbound.jwks.json'));
  });

  afterAll(() => {
    keys.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    submitted = [];
    useCase = new ReceiveInboundPaymentUseCase(keys.decrypter, { execute: async (command) => (submitted.push(command), ACCEPTED) });
  });

  const encrypterTo = async (key: Jwk): Promise<InboundPaymentEncrypter> => InboundPaymentEncrypter.fromJwks({ keys: [await publicOf(key)] });

  it("hands the nested JWS, exactly, to the signature checks with the upstream's idempotency key", async () => {
    const upstream = InboundPaymentEncrypter.fromJwks(keys.publishedJwks());
    const message = await (await upstream).message(SIGNED, 'order-1');
    expect(message.jwe?.split('.')).toHaveLength(5);
    expect(JSON.parse(Buffer.from(message.jwe?.split('.')[0] ?? '', 'base64url').toString())).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: INBOUND_PAYMENT_JWE_CONTENT_TYPE, kid: activeKey['kid'] });
    await expect(useCase.execute({ message, eventId: 'evt-1' })).resolves.toEqual({ kind: 'SUBMITTED', result: ACCEPTED });
    expect(submitted).toEqual([{ submission: { form: 'compact', jws: SIGNED }, channel: 'kafka', idempotencyKey: 'order-1', traceparent: undefined }]);
  });

  it('without an idempotency key, takes the event id (a redelivery is the same request)', async () => {
    const message = await (await encrypterTo(activeKey)).message(SIGNED);
    await useCase.execute({ message, eventId: 'evt-2', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(submitted[0]?.idempotencyKey).toBe('kafka:evt-2');
    expect(submitted[0]?.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('refuses a plain, unencrypted JWS as inbound_not_encrypted, without looking at it', async () => {
    await expect(useCase.execute({ message: { jws: SIGNED, idempotency_key: 'order-2' }, eventId: 'evt-3' })).resolves.toMatchObject({ kind: 'REFUSED', reason: 'inbound_not_encrypted' });
    expect(submitted).toEqual([]);
  });

  it('refuses a tampered JWE (ciphertext, tag, protected header) as inbound_jwe_invalid', async () => {
    const { jwe = '' } = await (await encrypterTo(activeKey)).message(SIGNED);
    const [h = '', ek = '', iv = '', ct = '', tag = ''] = jwe.split('.');
    const flip = (s: string): string => `${s.slice(0, 5)}${s[5] === 'A' ? 'B' : 'A'}${s.slice(6)}`;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Jwk;
    for (const tampered of [[h, ek, iv, flip(ct), tag], [h, ek, iv, ct, flip(tag)], [b64({ ...header, cty: 'JWT' }), ek, iv, ct, tag]]) {
      await expect(useCase.execute({ message: { jwe: tampered.join('.') }, eventId: 'evt-4' })).resolves.toMatchObject({ kind: 'REFUSED', reason: 'inbound_jwe_invalid' });
    }
    expect(submitted).toEqual([]);
  });

  it('refuses a JWE to a key that is not one of ingest\'s as inbound_key_unknown', async () => {
    const message = await (await encrypterTo(await encryptionKey())).message(SIGNED);
    await expect(useCase.execute({ message, eventId: 'evt-5' })).resolves.toMatchObject({ kind: 'REFUSED', reason: 'inbound_key_unknown' });
    expect(submitted).toEqual([]);
  });

  it('refuses a JWE without the nested-payment cty, and one whose plaintext is not a compact JWS', async () => {
    const plain = new JweEncrypter(await PayrailKeyStore.fromJwks({ keys: [await publicOf(activeKey)] }));
    await expect(useCase.execute({ message: { jwe: await plain.encrypt(SIGNED) }, eventId: 'evt-6' })).resolves.toMatchObject({ kind: 'REFUSED', reason: 'inbound_jwe_invalid' });
    const notJws = await plain.encrypt('{"payment":{"payer":{"card":{"number":"4111111111111111"}}}}', { extraProtected: { cty: INBOUND_PAYMENT_JWE_CONTENT_TYPE } });
    await expect(useCase.execute({ message: { jwe: notJws }, eventId: 'evt-7' })).resolves.toMatchObject({ kind: 'REFUSED', reason: 'inbound_jwe_invalid' });
    expect(submitted).toEqual([]);
  });

  it.each([
    ['dir', { alg: 'dir', enc: 'A256GCM' }],
    ['RSA1_5', { alg: 'RSA1_5', enc: 'A256GCM' }],
    ['A256KW', { alg: 'A256KW', enc: 'A256GCM' }],
    ['ECDH-ES (direct)', { alg: 'ECDH-ES', enc: 'A256GCM' }],
    ['A128CBC-HS256 content', { alg: 'ECDH-ES+A256KW', enc: 'A128CBC-HS256' }],
  ])('refuses alg/enc %s as inbound_alg_not_allowed', async (_name, algs) => {
    const { jwe = '' } = await (await encrypterTo(activeKey)).message(SIGNED);
    const [h = '', ek = '', iv = '', ct = '', tag = ''] = jwe.split('.');
    const header = { ...(JSON.parse(Buffer.from(h, 'base64url').toString()) as Jwk), ...algs };
    await expect(useCase.execute({ message: { jwe: [b64(header), ek, iv, ct, tag].join('.') }, eventId: 'evt-8' })).resolves.toMatchObject({ kind: 'REFUSED', reason: 'inbound_alg_not_allowed' });
    expect(submitted).toEqual([]);
  });

  it('refuses a compressed or PBES2 JWE before any work (zip, p2c)', async () => {
    const { jwe = '' } = await (await encrypterTo(activeKey)).message(SIGNED);
    const [h = '', ek = '', iv = '', ct = '', tag = ''] = jwe.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Jwk;
    for (const extra of [{ zip: 'DEF' }, { alg: 'PBES2-HS256+A128KW', p2c: 10_000_000, p2s: b64('salt-salt-salt') }]) {
      await expect(useCase.execute({ message: { jwe: [b64({ ...header, ...extra }), ek, iv, ct, tag].join('.') }, eventId: 'evt-9' })).resolves.toMatchObject({ kind: 'REFUSED' });
    }
    expect(submitted).toEqual([]);
  });

  it('during a rotation opens JWEs to the active and to the verify-only key, and publishes only the active one', async () => {
    expect(keys.publishedJwks().keys.map((k) => k['kid'])).toEqual([activeKey['kid']]);
    expect(keys.publishedJwks().keys.every((k) => !('d' in k))).toBe(true);
    for (const key of [activeKey, oldKey]) {
      const message = await (await encrypterTo(key)).message(SIGNED, `rotation-${String(key['kid'])}`);
      await expect(useCase.execute({ message, eventId: 'evt-10' })).resolves.toEqual({ kind: 'SUBMITTED', result: ACCEPTED });
    }
    expect(submitted.map((c) => c.submission)).toEqual([{ form: 'compact', jws: SIGNED }, { form: 'compact', jws: SIGNED }]);
  });

  it('a retired key opens nothing: once the old key is gone, what was encrypted to it is refused', async () => {
    const file = join(dir, 'retired.jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [activeKey, { ...oldKey, payrail_state: 'retired' }] }), { mode: 0o600 });
    const rotated = await InboundKeys.open(file);
    try {
      const after = new ReceiveInboundPaymentUseCase(rotated.decrypter, { execute: async () => ACCEPTED });
      const message = await (await encrypterTo(oldKey)).message(SIGNED);
      await expect(after.execute({ message, eventId: 'evt-11' })).resolves.toMatchObject({ kind: 'REFUSED', reason: 'inbound_key_unknown' });
    } finally {
      rotated.onApplicationShutdown();
    }
  });
});

describe('InboundKeys (INGEST_INBOUND_JWE_KEYS_FILE)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'payrail-inbound-keys-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = async (keys: unknown, name: string): Promise<unknown> => {
    const file = join(dir, name);
    if (keys !== undefined) writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
    return InboundKeys.open(file).then(
      (k) => (k.onApplicationShutdown(), undefined),
      (err: unknown) => err,
    );
  };

  it('stops the start naming the variable: missing file, a signing key, a public key only, two active keys', async () => {
    const { privateJwks } = await generateDevKeys({ alg: 'ES256', withEncryptionKey: true });
    const enc = await encryptionKey();
    const cases: [unknown, string, string][] = [
      [undefined, 'missing.json', 'missing.json'],
      [privateJwks, 'with-signing.json', 'is not an encryption key'],
      [{ keys: [await publicOf(enc)] }, 'public-only.json', 'no private half'],
      [{ keys: [enc, await encryptionKey('active')] }, 'two-active.json', 'active encryption key'],
    ];
    for (const [keys, name, reason] of cases) {
      const err = await refusal(keys, name);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([{ variable: 'INGEST_INBOUND_JWE_KEYS_FILE', reason: expect.stringContaining(reason) }]);
    }
  });

  it('gives a replaced file the same checks before it replaces the keys in use: a bad one is refused and the old keys stay; a good one is taken', async () => {
    const file = join(dir, 'reloaded.json');
    const first = await encryptionKey();
    writeFileSync(file, JSON.stringify({ keys: [first] }), { mode: 0o600 });
    const refusals: Error[] = [];
    const keys = await InboundKeys.open(file, { onReloadError: (err) => refusals.push(err) });
    const until = async (what: string, done: () => boolean): Promise<void> => {
      for (let i = 0; !done(); i++) {
        if (i > 300) throw new Error(`not seen: ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      // still one active encryption key, but a signing key next to it: refused, as at boot
      const { privateJwks } = await generateDevKeys({ alg: 'ES256', withEncryptionKey: false });
      writeFileSync(file, JSON.stringify({ keys: [first, ...privateJwks.keys] }), { mode: 0o600 });
      await until('the refusal of the file with a signing key', () => refusals.length > 0);
      expect(refusals[0]?.message).toContain('is not an encryption key');
      expect(keys.activeKid).toBe(first['kid']);
      expect(keys.publishedJwks().keys.map((k) => k['kid'])).toEqual([first['kid']]);
      // a proper rotation: the new key active, the old one verify-only
      const second = await encryptionKey();
      writeFileSync(file, JSON.stringify({ keys: [second, { ...first, payrail_state: 'verify-only' }] }), { mode: 0o600 });
      await until('the rotated keys in use', () => keys.activeKid === second['kid']);
      expect(keys.publishedJwks().keys.map((k) => k['kid'])).toEqual([second['kid']]);
      // each refusal (a file event may be seen more than once) was that file's
      for (const r of refusals) expect(r.message).toContain('is not an encryption key');
    } finally {
      keys.onApplicationShutdown();
    }
  }, 30_000);
});
