import { generateDevKeys } from '@payrail/crypto';
import { SigningKeysView } from './signing-keys.view';

type Jwks = { keys: Record<string, unknown>[] };

/** Serves a JWKS the way signing does; `current` can be swapped to simulate a rotation. */
function jwksServer(initial: Jwks): { fetchImpl: typeof fetch; set(jwks: Jwks | number): void } {
  let current: Jwks | number = initial;
  return {
    fetchImpl: (async () => (typeof current === 'number' ? new Response('down', { status: current }) : new Response(JSON.stringify(current), { status: 200, headers: { 'content-type': 'application/jwk-set+json' } }))) as typeof fetch,
    set: (jwks) => (current = jwks),
  };
}

async function publicKey(): Promise<Record<string, unknown>> {
  const keys = await generateDevKeys({ alg: 'ES256' });
  const sig = keys.publicJwks.keys.find((k) => k['use'] === 'sig');
  if (!sig) throw new Error('no signing key');
  return sig;
}

const at = (s: number) => new Date(Date.UTC(2025, 2, 1, 10, 0, s)).toISOString();

describe('SigningKeysView', () => {
  it('marks the published key that signed the latest instruction active, other published keys verify-only, unpublished ones retired', async () => {
    const [k1, k2] = await Promise.all([publicKey(), publicKey()]);
    const kid1 = String(k1['kid']);
    const kid2 = String(k2['kid']);
    const server = jwksServer({ keys: [k1, k2] });
    const view = new SigningKeysView('http://signing/.well-known/jwks.json', server.fetchImpl);

    // before anything was fetched or seen
    expect(view.view([]).keys).toEqual([]);
    await view.refresh();
    expect(view.view([]).keys.map((k) => [k.kid, k.state])).toEqual([[kid1, 'published'], [kid2, 'published']]);

    // rotation in progress: k2 took over from k1
    const inUse = [
      { kid: kid1, signs: 'payment instructions' as const, count: 10, last_seen: at(1) },
      { kid: kid2, signs: 'payment instructions' as const, count: 3, last_seen: at(5) },
    ];
    const during = view.view(inUse);
    expect(during.keys.map((k) => [k.kid, k.state, k.uses])).toEqual([[kid1, 'verify-only', 10], [kid2, 'active', 3]]);
    expect(during.keys[0]).toMatchObject({ published: true, use: 'sig', alg: 'ES256', crv: 'P-256', thumbprint: kid1 });

    // k1 retired from the JWKS, still seen on older messages
    server.set({ keys: [k2] });
    await view.refresh();
    expect(view.view(inUse).keys.map((k) => [k.kid, k.state, k.published])).toEqual([[kid2, 'active', true], [kid1, 'retired', false]]);
  });

  it('keeps the last keys when signing cannot be reached, and says why', async () => {
    const k1 = await publicKey();
    const server = jwksServer({ keys: [k1] });
    const view = new SigningKeysView('http://signing/.well-known/jwks.json', server.fetchImpl);
    await view.refresh();
    server.set(503);
    await expect(view.refresh()).rejects.toThrow('answered 503');
    const shown = view.view([]);
    expect(shown.error).toBe('JWKS unavailable: answered 503');
    expect(shown.keys.map((k) => k.kid)).toEqual([k1['kid']]);
  });

  it('refuses a published set with private key material', async () => {
    const keys = await generateDevKeys({ alg: 'ES256' });
    const server = jwksServer(keys.privateJwks as Jwks);
    const view = new SigningKeysView('http://signing/.well-known/jwks.json', server.fetchImpl);
    await expect(view.refresh()).rejects.toThrow('private key material');
    expect(view.view([])).toMatchObject({ keys: [], error: 'JWKS unavailable: the published JWKS carries private key material: rotate those keys' });
  });
});
