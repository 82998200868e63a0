import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PayrailKeyStore } from '../keys/keystore';
import { EventSealVerifier, EventSealer, PeerSealKeys, SealingKeys, sealedBytes, writeSealKeys } from './event-seal';

const TYP = 'payrail-decision-seal+jws';
const decision = () => ({
  payment_id: '0193a2f0-0000-7000-8000-000000000001',
  merchant_id: 'm-1',
  amount: { minor: '1050', currency: 'EUR' },
  decision: 'APPROVE',
  reasons: [{ rule: 'velocity', score: 10 }],
  instruction_jws: 'eyJhbGciOiJFUzI1NiJ9.eyJwIjoxfQ.c2ln',
});

describe('event seals', () => {
  let dir: string;
  let own: Awaited<ReturnType<typeof writeSealKeys>>;
  let other: Awaited<ReturnType<typeof writeSealKeys>>;
  let sealer: EventSealer;
  let verifier: EventSealVerifier;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'payrail-seal-'));
    own = await writeSealKeys(join(dir, 'own'));
    other = await writeSealKeys(join(dir, 'other'));
    sealer = await own.sealer(TYP);
    verifier = new EventSealVerifier(await PayrailKeyStore.fromFile(own.publicFile), TYP);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('seals the canonical event without its seal, as a detached EdDSA JWS of the given typ, and verifies it', async () => {
    const sealed = sealer.seal(decision());
    // deterministic (Ed25519): the same event sealed again carries the same seal
    expect(sealer.seal(decision()).seal).toBe(sealed.seal);
    expect(sealed.seal).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(sealed.seal.split('.')[0] ?? '', 'base64url').toString('utf8'))).toMatchObject({ alg: 'EdDSA', typ: TYP });
    expect(sealedBytes(sealed).toString('utf8')).toBe(sealedBytes(decision()).toString('utf8'));
    await expect(verifier.check(sealed)).resolves.toEqual({ ok: true, kid: expect.any(String) });
  });

  it('checkCovered gives, with a verified seal only, what it covered as canonical JSON (to sign on without writing it again)', async () => {
    const sealed = sealer.seal(decision());
    const check = await verifier.checkCovered(sealed);
    expect(check).toMatchObject({ ok: true, kid: expect.any(String) });
    expect(check.ok && check.covered.json).toBe(sealedBytes(sealed).toString('utf8'));
    expect(check.ok && check.covered.with('signed_at', 'now').json).toBe(sealedBytes({ ...decision(), signed_at: 'now' }).toString('utf8'));
    await expect(verifier.checkCovered({ ...sealed, decision: 'DECLINE' })).resolves.toEqual({ ok: false, reason: 'signature', kid: expect.any(String) });
    await expect(verifier.checkCovered(decision())).resolves.toEqual({ ok: false, reason: 'missing' });
  });

  it('verifies whatever the member order (canonical JSON), and a re-seal replaces the old seal', async () => {
    const sealed = sealer.seal(decision());
    const reordered = Object.fromEntries(Object.entries(sealed).reverse());
    await expect(verifier.check(reordered)).resolves.toMatchObject({ ok: true });
    const resealed = sealer.seal({ ...sealed, decision: 'DECLINE' });
    expect(resealed).not.toHaveProperty('seal', sealed.seal);
    await expect(verifier.check(resealed)).resolves.toMatchObject({ ok: true });
    expect(resealed.seal).not.toBe(sealed.seal);
  });

  it.each([
    ['missing', (e: Record<string, unknown>) => ({ ...e, seal: undefined }), 'missing'],
    ['a changed decision', (e: Record<string, unknown>) => ({ ...e, decision: 'DECLINE' }), 'signature'],
    ['a changed nested amount', (e: Record<string, unknown>) => ({ ...e, amount: { minor: '1051', currency: 'EUR' } }), 'signature'],
    ['an added member', (e: Record<string, unknown>) => ({ ...e, review: { analyst: 'mallory' } }), 'signature'],
    ['a removed member', (e: Record<string, unknown>) => ({ ...e, reasons: undefined }), 'signature'],
    ['a compact (non-detached) JWS', (e: Record<string, unknown>) => ({ ...e, seal: String(e['seal']).replace('..', '.eyJhIjoxfQ.') }), 'format'],
    ['garbage', (e: Record<string, unknown>) => ({ ...e, seal: 'not a jws' }), 'format'],
  ])('refuses a seal that is %s', async (_what, change, reason) => {
    const sealed = sealer.seal(decision()) as unknown as Record<string, unknown>;
    await expect(verifier.check(change(sealed))).resolves.toMatchObject({ ok: false, reason });
  });

  it("refuses another service's key (unknown kid, named for the alert) and another kind of seal (typ)", async () => {
    const byOther = (await other.sealer(TYP)).seal(decision());
    const check = await verifier.check(byOther);
    expect(check).toMatchObject({ ok: false, reason: 'kid' });
    expect(!check.ok && check.kid).toBe(JSON.parse(readFileSync(other.publicFile, 'utf8')).keys[0].kid);
    const otherKind = (await own.sealer('payrail-accepted-seal+jws')).seal(decision());
    await expect(verifier.check(otherKind)).resolves.toMatchObject({ ok: false, reason: 'typ' });
  });

  it("verifies with every kid of a peer's public JWKS (rotation: old and new key side by side)", async () => {
    const jwks = { keys: [...JSON.parse(readFileSync(own.publicFile, 'utf8')).keys, ...JSON.parse(readFileSync(other.publicFile, 'utf8')).keys] };
    const both = join(dir, 'both.jwks.json');
    writeFileSync(both, JSON.stringify(jwks));
    const peer = await PeerSealKeys.open(both);
    try {
      const v = peer.verifier(TYP);
      await expect(v.check(sealer.seal(decision()))).resolves.toMatchObject({ ok: true });
      await expect(v.check((await other.sealer(TYP)).seal(decision()))).resolves.toMatchObject({ ok: true });
    } finally {
      peer.close();
    }
  });

  it('refuses at open a sealing key file without a private key, naming the file', async () => {
    await expect(SealingKeys.open(own.publicFile)).rejects.toThrow(own.publicFile);
    const keys = await SealingKeys.open(own.privateFile);
    try {
      await expect(keys.verifier(TYP).check(keys.sealer(TYP).seal(decision()))).resolves.toMatchObject({ ok: true });
    } finally {
      keys.close();
    }
  });
});
