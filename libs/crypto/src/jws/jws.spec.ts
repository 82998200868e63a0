import { CanonicalObject } from '../lib/canonical';
import { KeyConfigError } from '../lib/errors';
import { InMemoryReplayStore, type ReplayStore } from '../replay/replay-store';
import { keys, nowS, storeOf, withState, forgeEs256, rejectionReason as reason } from '../test/fixtures';
import { JwsSigner } from './signer';
import { JwsVerifier, type VerifyPolicy } from './verifier';
import type { PayrailKeyStore } from '../keys/keystore';


const decode = (seg: string): unknown => JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));

let es: PayrailKeyStore;
let ed: PayrailKeyStore;
let ps: PayrailKeyStore;
beforeAll(async () => {
  es = await storeOf(keys.es256().privateJwk, withState(keys.es256('old').privateJwk, 'verify-only'), withState(keys.es256('gone').privateJwk, 'retired'));
  ed = await storeOf(keys.eddsa().privateJwk);
  ps = await storeOf(keys.ps256().privateJwk);
});

const payment = { payment_id: 'pay_1', amount: { value: 1250, currency: 'EUR' }, payer: { account: 'DE89370400440532013000' } };

describe('JwsSigner', () => {
  it('signs canonical JSON with a minimal header', async () => {
    const token = new JwsSigner(es).sign(payment);
    const [h = '', p = ''] = token.split('.');
    expect(Buffer.from(h, 'base64url').toString()).toBe('{"alg":"ES256","kid":"es-1"}');
    expect(Buffer.from(p, 'base64url').toString()).toBe('{"amount":{"currency":"EUR","value":1250},"payer":{"account":"DE89370400440532013000"},"payment_id":"pay_1"}');
    const v = await new JwsVerifier(es, { algorithms: ['ES256'] }).verify<typeof payment>(token);
    expect(v).toEqual({ payload: payment, kid: 'es-1', alg: 'ES256', protectedHeader: { alg: 'ES256', kid: 'es-1' } });
  });

  it('gives identical signing input for equal payments whatever their key order (and identical EdDSA tokens)', () => {
    const reordered = { payer: { account: 'DE89370400440532013000' }, amount: { currency: 'EUR', value: 1250 }, payment_id: 'pay_1' };
    const a = new JwsSigner(es).sign(payment);
    const b = new JwsSigner(es).sign(reordered);
    expect(a.slice(0, a.lastIndexOf('.'))).toBe(b.slice(0, b.lastIndexOf('.')));
    expect(new JwsSigner(ed).sign(payment)).toBe(new JwsSigner(ed).sign(reordered));
  });

  it('adds typ and extra protected members, but not ones that belong to JOSE processing', async () => {
    const signer = new JwsSigner(es, { typ: 'payrail-payment+jws' });
    const token = signer.sign(payment, { extraProtected: { 'payrail:v': 1 } });
    expect(decode(token.split('.')[0] ?? '')).toEqual({ alg: 'ES256', kid: 'es-1', typ: 'payrail-payment+jws', 'payrail:v': 1 });
    for (const name of ['alg', 'kid', 'typ', 'jku', 'jwk', 'x5c', 'crit', 'b64', 'zip']) {
      expect(() => signer.sign(payment, { extraProtected: { [name]: 'x' } })).toThrow(TypeError);
    }
    expect(await reason(new JwsVerifier(es, { algorithms: ['ES256'], typ: 'application/payrail-payment+jws' }).verify(token))).toBe('accepted');
    expect(await reason(new JwsVerifier(es, { algorithms: ['ES256'], typ: 'other+jws' }).verify(token))).toBe('typ');
    // one of several types; and, for issuers that may omit it, absent passes but a wrong one does not
    expect(await reason(new JwsVerifier(es, { algorithms: ['ES256'], typ: ['other+jws', 'payrail-payment+jws'] }).verify(token))).toBe('accepted');
    const untyped = new JwsSigner(es).sign({ a: 1 });
    expect(await reason(new JwsVerifier(es, { algorithms: ['ES256'], typ: 'payrail-payment+jws' }).verify(untyped))).toBe('typ');
    expect(await reason(new JwsVerifier(es, { algorithms: ['ES256'], typ: 'payrail-payment+jws', typRequired: false }).verify(untyped))).toBe('accepted');
    expect(await reason(new JwsVerifier(es, { algorithms: ['ES256'], typ: 'other+jws', typRequired: false }).verify(token))).toBe('typ');
    expect(() => new JwsVerifier(es, { algorithms: ['ES256'], typ: [] })).toThrow('typ');
    expect(await reason(new JwsVerifier(es, { algorithms: ['ES256'], typ: 'payrail-payment+jws' }).verify(new JwsSigner(es).sign(payment)))).toBe('typ');
  });

  it('refuses values JSON cannot carry and stores without a private active key', async () => {
    expect(() => new JwsSigner(es).sign({ amount: Number.NaN })).toThrow(TypeError);
    expect(() => new JwsSigner(es).sign(undefined)).toThrow(TypeError);
    const publicOnly = await storeOf(keys.es256().publicJwk);
    expect(() => new JwsSigner(publicOnly).sign(payment)).toThrow(KeyConfigError);
    expect(() => new JwsSigner(es, { typ: '' })).toThrow(KeyConfigError);
  });

  it('signs and verifies with EdDSA and PS256', async () => {
    const edToken = new JwsSigner(ed).sign(payment);
    expect((await new JwsVerifier(ed, { algorithms: ['EdDSA'] }).verify(edToken)).alg).toBe('EdDSA');
    const psToken = new JwsSigner(ps).sign(payment);
    expect(Buffer.from(psToken.split('.')[2] ?? '', 'base64url')).toHaveLength(256);
    expect((await new JwsVerifier(ps, { algorithms: ['PS256'] }).verify(psToken)).alg).toBe('PS256');
    // the allowlist is explicit per verifier
    expect(await reason(new JwsVerifier(ps, { algorithms: ['ES256'] }).verify(psToken))).toBe('alg');
  });
});

describe('detached payloads (RFC 7515 Appendix F)', () => {
  const body = '{"payment_id":"pay_1","amount":1250}';
  const verifier = (): JwsVerifier => new JwsVerifier(es, { algorithms: ['ES256'] });

  it('signs the body as sent and verifies it against the body received', async () => {
    const sig = new JwsSigner(es).signDetached(body);
    expect(sig).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect((await verifier().verifyDetached(sig, body)).payload).toEqual({ payment_id: 'pay_1', amount: 1250 });
    expect((await verifier().verifyDetached(sig, Buffer.from(body))).kid).toBe('es-1');
    expect(await reason(verifier().verifyDetached(sig, body.replace('1250', '9250')))).toBe('signature');
    expect(await reason(verifier().verifyDetached(sig, `${body} `))).toBe('signature');
  });

  it('keeps compact and detached forms apart', async () => {
    const compact = new JwsSigner(es).sign(JSON.parse(body));
    const detached = new JwsSigner(es).signDetached(body);
    expect(await reason(verifier().verifyDetached(compact, body))).toBe('format');
    expect(await reason(verifier().verify(detached))).toBe('format');
  });

  it('needs a JSON body and bounds its size', async () => {
    expect(await reason(verifier().verifyDetached(new JwsSigner(es).signDetached('not json'), 'not json'))).toBe('format');
    const big = JSON.stringify({ pad: 'x'.repeat(2048) });
    const small = new JwsVerifier(es, { algorithms: ['ES256'], maxBodyBytes: 1024 });
    expect(await reason(small.verifyDetached(new JwsSigner(es).signDetached(big), big))).toBe('size');
  });
});

describe('JwsVerifier claims', () => {
  const at = 1_800_000_000;
  const policy = (p: Partial<VerifyPolicy> = {}): VerifyPolicy => ({ algorithms: ['ES256'], now: () => at * 1000, ...p });
  const check = (claims: Record<string, unknown>, p: Partial<VerifyPolicy> = {}): Promise<string> =>
    reason(new JwsVerifier(es, policy(p)).verify(new JwsSigner(es).sign({ ...payment, ...claims })));

  it.each<[string, Record<string, unknown>, Partial<VerifyPolicy>, string]>([
    ['exp ahead', { exp: at + 10 }, {}, 'accepted'],
    ['exp passed within skew', { exp: at - 59 }, {}, 'accepted'],
    ['exp passed beyond skew', { exp: at - 61 }, {}, 'expired'],
    ['exp passed, zero skew', { exp: at - 1 }, { clockSkewSeconds: 0 }, 'expired'],
    ['exp as a string', { exp: String(at + 10) }, {}, 'claims'],
    ['exp required and missing', {}, { requireExp: true }, 'claims'],
    ['nbf in the future', { nbf: at + 120 }, {}, 'not-before'],
    ['nbf within skew', { nbf: at + 30 }, {}, 'accepted'],
    ['iat in the future', { iat: at + 3600 }, {}, 'freshness'],
    ['iat required and missing', {}, { requireIat: true }, 'freshness'],
    ['iat too old', { iat: at - 400 }, { maxAgeSeconds: 300 }, 'freshness'],
    ['iat fresh', { iat: at - 100 }, { maxAgeSeconds: 300 }, 'accepted'],
    ['maxAge implies iat', {}, { maxAgeSeconds: 300 }, 'freshness'],
    ['iat not a number', { iat: null }, {}, 'claims'],
  ])('%s -> %s', async (_name, claims, p, expected) => {
    expect(await check(claims, p)).toBe(expected);
  });

  it('needs an object payload when the policy reads claims', async () => {
    const token = new JwsSigner(es).sign(['not', 'an', 'object']);
    expect(await reason(new JwsVerifier(es, policy()).verify(token))).toBe('accepted');
    expect(await reason(new JwsVerifier(es, policy({ requireIat: true })).verify(token))).toBe('claims');
  });

  it('claims each jti once, per kid, for at least the acceptance window', async () => {
    let now = at * 1000;
    const store = new InMemoryReplayStore({ now: () => now });
    const v = new JwsVerifier(es, { algorithms: ['ES256'], now: () => now, maxAgeSeconds: 300, replay: { store, ttlSeconds: 10 } });
    const token = new JwsSigner(es).sign({ ...payment, iat: at, jti: 'j-1' });
    expect(await reason(v.verify(token))).toBe('accepted');
    expect(await reason(v.verify(token))).toBe('replay');
    now += 200_000; // past ttlSeconds, still inside iat + maxAge: the entry must still be there
    expect(await reason(v.verify(token))).toBe('replay');
    now += 200_000; // past the window: stale now
    expect(await reason(v.verify(token))).toBe('freshness');
    // same jti from another signing key is another message
    const other = await storeOf(withState(keys.es256().privateJwk, 'verify-only'), keys.es256('old').privateJwk);
    const v2 = new JwsVerifier(other, { algorithms: ['ES256'], now: () => now, maxAgeSeconds: 300, replay: { store, ttlSeconds: 10 } });
    expect(await reason(v2.verify(new JwsSigner(other).sign({ ...payment, iat: now / 1000, jti: 'j-1' })))).toBe('accepted');
  });

  it('refuses replay-guarded tokens without jti or without a bounded lifetime, and fails closed when the store fails', async () => {
    const store = new InMemoryReplayStore();
    const v = (extra: Partial<VerifyPolicy> = {}): JwsVerifier => new JwsVerifier(es, { algorithms: ['ES256'], replay: { store, ttlSeconds: 60 }, ...extra });
    expect(await reason(v().verify(new JwsSigner(es).sign({ iat: nowS(), exp: nowS() + 60 })))).toBe('claims');
    expect(await reason(v().verify(new JwsSigner(es).sign({ jti: 'a', iat: nowS() })))).toBe('claims');
    expect(await reason(v().verify(new JwsSigner(es).sign({ jti: 'b', exp: nowS() + 60 })))).toBe('accepted');
    expect(await reason(v().verify(new JwsSigner(es).sign({ jti: 'c', exp: nowS() + 30 * 86400 })))).toBe('claims');
    const broken: ReplayStore = { claimOnce: () => Promise.reject(new Error('redis down')) };
    const vb = new JwsVerifier(es, { algorithms: ['ES256'], replay: { store: broken, ttlSeconds: 60 } });
    expect(await reason(vb.verify(new JwsSigner(es).sign({ jti: 'd', exp: nowS() + 60 })))).toBe('unavailable');
  });
});

describe('JwsVerifier keys and configuration', () => {
  it('accepts verify-only keys and rejects retired ones', async () => {
    const v = new JwsVerifier(es, { algorithms: ['ES256'] });
    expect(await reason(v.verify(forgeEs256({ alg: 'ES256', kid: 'old' }, payment, keys.es256('old').privateKey)))).toBe('accepted');
    expect(await reason(v.verify(forgeEs256({ alg: 'ES256', kid: 'gone' }, payment, keys.es256('gone').privateKey)))).toBe('retired');
  });

  it('refuses policies without an explicit, supported allowlist or with unbounded skew', () => {
    expect(() => new JwsVerifier(es, { algorithms: [] })).toThrow(KeyConfigError);
    expect(() => new JwsVerifier(es, { algorithms: ['HS256' as never] })).toThrow(/HS256/);
    expect(() => new JwsVerifier(es, { algorithms: ['ES256'], clockSkewSeconds: 3600 })).toThrow(/clockSkewSeconds/);
    expect(() => new JwsVerifier(es, { algorithms: ['ES256'], maxTokenBytes: -1 })).toThrow(/maxTokenBytes/);
    expect(() => new JwsVerifier(es, { algorithms: ['ES256'], replay: { store: {} as ReplayStore, ttlSeconds: 1 } })).toThrow(/ReplayStore/);
  });

  it('is not affected by later changes to the policy object it was given', async () => {
    const policy: VerifyPolicy = { algorithms: ['ES256'] };
    const v = new JwsVerifier(ed, policy);
    policy.algorithms.push('EdDSA');
    expect(await reason(v.verify(new JwsSigner(ed).sign(payment)))).toBe('alg');
  });

  it('logs reasons for debugging without tokens, payloads or keys', async () => {
    const logs: Array<[object, string]> = [];
    const v = new JwsVerifier(es, { algorithms: ['ES256'] }, { debug: (o, m) => logs.push([o, m]) });
    const token = new JwsSigner(es).sign({ secret_pan: '4111111111111111' });
    const at = token.length - 20; // inside the signature, away from its (canonical) last character
    const tampered = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
    expect(await reason(v.verify(tampered))).toBe('signature');
    expect(await reason(v.verify('garbage'))).toBe('format');
    expect(logs).toHaveLength(2);
    expect(logs[0]?.[0]).toMatchObject({ event: 'payrail.jws.rejected', reason: 'signature', kid: 'es-1' });
    const text = JSON.stringify(logs);
    expect(text).not.toContain('4111111111111111');
    expect(text).not.toContain(token.split('.')[1]);
    expect(text).not.toContain(tampered.split('.')[2]);
  });

  it('checks a protected header once, yet every token still gets every check', async () => {
    const v = new JwsVerifier(es, { algorithms: ['ES256'], typ: 'payrail-payment+jws' });
    const signer = new JwsSigner(es, { typ: 'payrail-payment+jws' });
    const first = await v.verify(signer.sign({ i: 1 }));
    const second = await v.verify(signer.sign({ i: 2 }));
    // one parsed header for both, shared: frozen so no caller can change what the next token is checked against
    expect(second.protectedHeader).toBe(first.protectedHeader);
    expect(Object.isFrozen(first.protectedHeader)).toBe(true);
    expect(first.protectedHeader).toEqual({ alg: 'ES256', kid: 'es-1', typ: 'payrail-payment+jws' });
    // the same (known) header over a changed payload or signature: rejected
    const token = signer.sign({ i: 3 });
    const [h = '', p = '', sig = ''] = token.split('.');
    expect(await reason(v.verify(`${h}.${Buffer.from('{"i":4}').toString('base64url')}.${sig}`))).toBe('signature');
    expect(await reason(v.verify(`${h}.${p}.${forgeEs256({ alg: 'ES256', kid: 'es-1', typ: 'payrail-payment+jws' }, { i: 3 }, keys.es256('old').privateKey).split('.')[2] ?? ''}`))).toBe('signature');
    // a refused header stays refused (rejections are not kept), and so does a key retired behind a valid header
    const untyped = new JwsSigner(es).sign({ i: 5 });
    expect(await reason(v.verify(untyped))).toBe('typ');
    expect(await reason(v.verify(untyped))).toBe('typ');
    const retired = forgeEs256({ alg: 'ES256', kid: 'gone', typ: 'payrail-payment+jws' }, { i: 6 }, keys.es256('gone').privateKey);
    expect(await reason(v.verify(retired))).toBe('retired');
    expect(await reason(v.verify(retired))).toBe('retired');
    // many distinct headers (extra members) do not grow it without bound, and known ones keep verifying
    for (let n = 0; n < 100; n++) expect(await reason(v.verify(signer.sign({ n }, { extraProtected: { n } })))).toBe('accepted');
    expect(await reason(v.verify(signer.sign({ i: 7 })))).toBe('accepted');
  });

  it('signs a CanonicalObject as the canonical JSON it is', () => {
    const token = new JwsSigner(ed).sign(CanonicalObject.of({ seal: 's', ...payment }).without('seal').with('signed_at', 'now'));
    expect(token).toBe(new JwsSigner(ed).sign({ ...payment, signed_at: 'now' }));
  });

  it('verifies many tokens concurrently', async () => {
    const signer = new JwsSigner(es);
    const v = new JwsVerifier(es, { algorithms: ['ES256'] });
    const tokens = Array.from({ length: 200 }, (_, i) => signer.sign({ i }));
    const out = await Promise.all(tokens.map((t) => v.verify<{ i: number }>(t)));
    expect(out.map((r) => r.payload.i)).toEqual(tokens.map((_, i) => i));
  });
});

describe('JwsVerifier with offload (signatures checked on the threadpool)', () => {
  it.each([
    ['ES256', () => es],
    ['EdDSA', () => ed],
    ['PS256', () => ps],
  ] as const)('accepts good %s tokens and refuses tampered ones, compact and detached', async (alg, store) => {
    const signer = new JwsSigner(store());
    const v = new JwsVerifier(store(), { algorithms: [alg], offload: true });
    const tokens = Array.from({ length: 50 }, (_, i) => signer.sign({ i }));
    const out = await Promise.all(tokens.map((t) => v.verify<{ i: number }>(t)));
    expect(out.map((r) => r.payload.i)).toEqual(tokens.map((_, i) => i));
    const good = tokens[0] ?? '';
    const [h, p, s = ''] = good.split('.');
    const flipped = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
    expect(await reason(v.verify(flipped))).toBe('signature');
    const body = JSON.stringify({ amount: 1 });
    const detached = signer.signDetached(body);
    expect((await v.verifyDetached(detached, body)).payload).toEqual({ amount: 1 });
    expect(await reason(v.verifyDetached(detached, JSON.stringify({ amount: 2 })))).toBe('signature');
  });
});
