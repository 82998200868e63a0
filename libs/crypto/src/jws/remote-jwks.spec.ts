import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyConfigError } from '../lib/errors';
import { forgeEs256, keys, withState, type Jwk, rejectionReason as reason } from '../test/fixtures';
import { RemoteJwksClient, checkJwksUrl, isClusterInternalHost } from './remote-jwks';
import { JwsVerifier } from './verifier';

const URL_ = 'https://signing.payrail.internal/.well-known/jwks.json';

/** A fake JWKS endpoint: serves whatever `jwks` holds and records each request. */
function endpoint(initial: { keys: Jwk[] }): { fetchImpl: typeof fetch; requests: string[]; set: (j: unknown) => void; fail: (status: number) => void } {
  let body: unknown = initial;
  let status = 200;
  const requests: string[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    requests.push(String(input));
    expect(init?.redirect).toBe('error');
    expect(init?.signal).toBeInstanceOf(AbortSignal);
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { fetchImpl, requests, set: (j) => (body = j), fail: (s) => (status = s) };
}


const token = (kid: string, key = keys.es256(kid)): string => forgeEs256({ alg: 'ES256', kid }, { n: 1 }, key.privateKey);

describe('RemoteJwksClient', () => {
  it('fetches on first use, caches, and verifies through JwsVerifier', async () => {
    const ep = endpoint({ keys: [keys.es256('up-1').publicJwk] });
    const client = new RemoteJwksClient({ url: URL_, fetchImpl: ep.fetchImpl });
    const v = new JwsVerifier(client, { algorithms: ['ES256'] });
    expect(await reason(v.verify(token('up-1')))).toBe('accepted');
    expect(await reason(v.verify(token('up-1')))).toBe('accepted');
    expect(ep.requests).toEqual([URL_]);
    expect(client.keys()?.kids()).toEqual(['up-1']);
  });

  it('refreshes at most once per interval for unknown kids (a kid flood is not a request flood)', async () => {
    let now = 0;
    const ep = endpoint({ keys: [keys.es256('up-1').publicJwk] });
    const client = new RemoteJwksClient({ url: URL_, fetchImpl: ep.fetchImpl, now: () => now });
    const v = new JwsVerifier(client, { algorithms: ['ES256'] });
    await client.refresh();
    const flood = await Promise.all(Array.from({ length: 50 }, (_, i) => reason(v.verify(token(`bogus-${i}`)))));
    expect(new Set(flood)).toEqual(new Set(['kid']));
    expect(ep.requests).toHaveLength(1); // within 30 s of the startup fetch: no refresh at all
    // the upstream rotates; after the interval one unknown kid triggers one refresh
    ep.set({ keys: [keys.es256('up-1').publicJwk, keys.es256('up-2').publicJwk] });
    now += 30_000;
    const rotated = await Promise.all([v.verify(token('up-2')), v.verify(token('up-2')), v.verify(token('bogus'))].map((p) => reason(p)));
    expect(rotated).toEqual(['accepted', 'accepted', 'kid']);
    expect(ep.requests).toHaveLength(2);
  });

  it('refreshes stale keys in the background so a revoked key stops verifying', async () => {
    let now = 0;
    const ep = endpoint({ keys: [keys.es256('up-1').publicJwk] });
    const client = new RemoteJwksClient({ url: URL_, fetchImpl: ep.fetchImpl, now: () => now, maxAgeMs: 60_000 });
    const v = new JwsVerifier(client, { algorithms: ['ES256'] });
    expect(await reason(v.verify(token('up-1')))).toBe('accepted');
    ep.set({ keys: [keys.es256('up-2').publicJwk] });
    now += 61_000;
    expect(await reason(v.verify(token('up-1')))).toBe('accepted'); // served from cache while refreshing
    await new Promise((r) => setImmediate(r));
    await client.refresh().catch(() => undefined);
    expect(await reason(v.verify(token('up-1')))).toBe('kid');
  });

  it('keeps cached keys when a refresh fails, and skips unusable keys individually', async () => {
    let now = 0;
    const logs: object[] = [];
    const ep = endpoint({
      keys: [
        keys.es256('up-1').publicJwk,
        { ...keys.es256('with-private').privateJwk },
        { kty: 'RSA', n: 'AQAB', e: 'AQAB', kid: 'tiny' },
        keys.ecEnc('their-enc').publicJwk,
        withState(keys.eddsa('up-ed').publicJwk, 'active'),
      ],
    });
    const client = new RemoteJwksClient({ url: URL_, fetchImpl: ep.fetchImpl, now: () => now, logger: { debug: (o) => logs.push(o) } });
    await client.refresh();
    expect(client.keys()?.kids()).toEqual(['up-1', 'up-ed']);
    expect(logs.filter((l) => (l as { event: string }).event === 'payrail.jwks.key_skipped')).toHaveLength(2);
    ep.fail(503);
    now += 30_000;
    await expect(client.refresh()).rejects.toThrow(/503/);
    ep.fail(200);
    ep.set('{"keys": "nope"}');
    await expect(client.refresh()).rejects.toThrow(/not a JWK set/);
    const v = new JwsVerifier(client, { algorithms: ['ES256'] });
    expect(await reason(v.verify(token('up-1')))).toBe('accepted');
  });

  it('judges a kid unknown only against a key set fetched after the last failed attempt: otherwise unavailable', async () => {
    let now = 0;
    const ep = endpoint({ keys: [keys.es256('up-1').publicJwk] });
    const client = new RemoteJwksClient({ url: URL_, fetchImpl: ep.fetchImpl, now: () => now });
    const v = new JwsVerifier(client, { algorithms: ['ES256'] });
    // never fetched, and the fetch fails (a signing service still starting): no verdict, for every kid
    ep.fail(503);
    expect(await reason(v.verify(token('up-1')))).toBe('unavailable');
    // within the refresh interval after that failure: still no verdict (no refresh allowed yet, nothing fetched)
    now += 1_000;
    expect(await reason(v.verify(token('up-1')))).toBe('unavailable');
    expect(await reason(v.verify(token('bogus')))).toBe('unavailable');
    expect(ep.requests).toHaveLength(1);
    // the endpoint answers again: the next attempt after the interval fetches, and verdicts come back
    ep.fail(200);
    now += 30_000;
    expect(await reason(v.verify(token('up-1')))).toBe('accepted');
    expect(await reason(v.verify(token('bogus')))).toBe('kid');
    // a failed refresh with keys in hand: known kids verify, an unknown kid is not judged until a fetch succeeds
    ep.fail(503);
    now += 30_000;
    expect(await reason(v.verify(token('up-2', keys.es256('up-2'))))).toBe('unavailable');
    now += 1_000;
    expect(await reason(v.verify(token('up-1')))).toBe('accepted');
    expect(await reason(v.verify(token('up-2', keys.es256('up-2'))))).toBe('unavailable');
  });

  it('bounds the response size', async () => {
    const ep = endpoint({ keys: [] });
    ep.set(JSON.stringify({ keys: [], pad: 'x'.repeat(300 * 1024) }));
    const client = new RemoteJwksClient({ url: URL_, fetchImpl: ep.fetchImpl });
    await expect(client.refresh()).rejects.toThrow(/too large/);
  });

  it('only talks to its configured https URL', () => {
    expect(() => new RemoteJwksClient({ url: 'http://signing.payrail.internal/jwks' })).toThrow(KeyConfigError);
    expect(() => new RemoteJwksClient({ url: 'https://user:pw@signing.payrail.internal/jwks' })).toThrow(/credentials/);
    expect(() => new RemoteJwksClient({ url: 'not a url' })).toThrow(KeyConfigError);
    expect(() => new RemoteJwksClient({ url: 'http://127.0.0.1:8080/jwks' })).not.toThrow();
  });

  describe('which URLs it accepts (checkJwksUrl, the same rule the services run at boot)', () => {
    const J = '/.well-known/jwks.json';
    const verdict = (url: string, allowInsecureClusterHttp: boolean): string => {
      const c = checkJwksUrl(url, { allowInsecureClusterHttp });
      return c.ok ? c.transport : c.optInWouldAllow ? 'refused: needs opt-in' : 'refused';
    };
    const client = (url: string, allowInsecureClusterHttp: boolean): string => {
      try {
        new RemoteJwksClient({ url, allowInsecureClusterHttp });
        return 'built';
      } catch (e) {
        expect(e).toBeInstanceOf(KeyConfigError);
        return 'refused';
      }
    };

    // [url, without the opt-in, with the opt-in]
    it.each([
      // https: always, whatever the host
      [`https://signing.payrail.internal${J}`, 'https', 'https'],
      [`https://203.0.113.7${J}`, 'https', 'https'],
      [`https://payrail-signing:8443${J}`, 'https', 'https'],
      // http to loopback: as before, opt-in or not
      [`http://localhost:8081${J}`, 'loopback-http', 'loopback-http'],
      [`http://127.0.0.1:8081${J}`, 'loopback-http', 'loopback-http'],
      [`http://[::1]:8081${J}`, 'loopback-http', 'loopback-http'],
      [`http://127.1:8081${J}`, 'loopback-http', 'loopback-http'], // WHATWG URL normalises it to 127.0.0.1
      // http to a cluster-internal name: only with the opt-in
      [`http://signing:8081${J}`, 'refused: needs opt-in', 'cluster-http'], // compose service
      [`http://payrail-signing:8081${J}`, 'refused: needs opt-in', 'cluster-http'], // Service, same namespace
      [`http://PAYRAIL-SIGNING:8081${J}`, 'refused: needs opt-in', 'cluster-http'], // URL lower-cases hosts
      [`http://payrail-signing.payrail.svc:8081${J}`, 'refused: needs opt-in', 'cluster-http'],
      [`http://payrail-signing.payrail.svc.cluster.local:8081${J}`, 'refused: needs opt-in', 'cluster-http'],
      // a name that merely contains svc is a public name: refused even with the opt-in
      [`http://payrail-signing.payrail.svc.k8s.example:8081${J}`, 'refused', 'refused'], // use name.namespace.svc there
      [`http://signing-0.payrail-signing.payrail.svc.cluster.local${J}`, 'refused', 'refused'], // headless pod names
      [`http://jwks.svc.example.com${J}`, 'refused', 'refused'],
      [`http://payrail-signing.payrail.svc.cluster.local.attacker.net${J}`, 'refused', 'refused'],
      [`http://x.svc${J}`, 'refused', 'refused'], // two labels
      // http to anything else: refused even with the opt-in
      [`http://signing.payrail.internal${J}`, 'refused', 'refused'],
      [`http://jwks.example.com${J}`, 'refused', 'refused'],
      [`http://payrail-signing.payrail${J}`, 'refused', 'refused'], // two labels, no .svc
      [`http://svc.example.com${J}`, 'refused', 'refused'], // svc as the first label is not name.svc
      [`http://payrail-svc.example.com${J}`, 'refused', 'refused'],
      [`http://payrail-signing.svcs.example${J}`, 'refused', 'refused'],
      [`http://signing.${J}`, 'refused', 'refused'], // trailing dot: a top-level domain, not a search-list name
      [`http://10.0.0.12:8081${J}`, 'refused', 'refused'],
      [`http://192.168.1.20${J}`, 'refused', 'refused'],
      [`http://203.0.113.7${J}`, 'refused', 'refused'],
      [`http://167772172${J}`, 'refused', 'refused'], // 10.0.0.12 written as one number
      [`http://0x0a.0.0.12${J}`, 'refused', 'refused'],
      [`http://127.0.0.2${J}`, 'refused', 'refused'], // loopback means the three names above, as before
      [`http://[fd00::12]:8081${J}`, 'refused', 'refused'],
      [`http://[::ffff:10.0.0.12]${J}`, 'refused', 'refused'],
      [`http://sign_ing:8081${J}`, 'refused', 'refused'], // not a DNS label
      // never: credentials, other schemes, garbage
      [`http://user:pw@signing:8081${J}`, 'refused', 'refused'],
      [`https://user:pw@signing.payrail.internal${J}`, 'refused', 'refused'],
      [`ftp://signing${J}`, 'refused', 'refused'],
      ['file:///etc/payrail/jwks.json', 'refused', 'refused'],
      ['not a url', 'refused', 'refused'],
    ])('%s: %s; with allowInsecureClusterHttp: %s', (url, without, withOptIn) => {
      expect(verdict(url, false)).toBe(without);
      expect(verdict(url, true)).toBe(withOptIn);
      // the client applies exactly that rule
      expect(client(url, false)).toBe(without.startsWith('refused') ? 'refused' : 'built');
      expect(client(url, true)).toBe(withOptIn.startsWith('refused') ? 'refused' : 'built');
    });

    it('says why, naming the origin and never the credentials', () => {
      expect(checkJwksUrl('http://signing:8081/jwks')).toEqual({ ok: false, optInWouldAllow: true, reason: 'http://signing:8081 must use https: plain http to a cluster-internal name needs an explicit opt-in' });
      expect(checkJwksUrl('http://10.0.0.12:8081/jwks', { allowInsecureClusterHttp: true })).toEqual({ ok: false, optInWouldAllow: false, reason: 'http://10.0.0.12:8081 must use https: plain http to an IP address other than loopback is refused' });
      expect(checkJwksUrl('http://jwks.example.com/jwks', { allowInsecureClusterHttp: true })).toMatchObject({ ok: false, reason: expect.stringMatching(/^http:\/\/jwks\.example\.com must use https: plain http to a name that is not cluster-internal/) });
      expect(JSON.stringify(checkJwksUrl('http://user:s3cret@signing:8081/jwks'))).not.toContain('s3cret');
      expect(checkJwksUrl('http://payrail-signing.payrail.svc.cluster.local:8081/jwks', { allowInsecureClusterHttp: true })).toEqual({ ok: true, transport: 'cluster-http', origin: 'http://payrail-signing.payrail.svc.cluster.local:8081' });
      expect(() => new RemoteJwksClient({ url: 'http://signing:8081/jwks' })).toThrow('RemoteJwksClient: http://signing:8081 must use https: plain http to a cluster-internal name needs an explicit opt-in (allowInsecureClusterHttp)');
    });

    it('isClusterInternalHost: single-label names and service.namespace.svc[.cluster.local], never an IP literal', () => {
      expect(['signing', 'payrail-signing', 'a', 'payrail-signing.payrail.svc', 'payrail-signing.payrail.svc.cluster.local'].filter((h) => !isClusterInternalHost(h))).toEqual([]);
      expect(['name.svc', 'a.b.svc.example', 'jwks.svc.example.com', 'a.b.svc.cluster.local.evil'].filter((h) => isClusterInternalHost(h))).toEqual([]);
      expect(['10.0.0.1', '[fd00::1]', 'svc.example.com', 'signing.example.com', 'signing.', '', '-signing', 'signing-', `${'a'.repeat(64)}`].filter((h) => isClusterInternalHost(h))).toEqual([]);
    });

    it('fetches over plain http from a cluster-internal name once opted in (the name resolved by the fetch it is given)', async () => {
      const ep = endpoint({ keys: [keys.es256('up-1').publicJwk] });
      const c = new RemoteJwksClient({ url: 'http://payrail-signing:8081/.well-known/jwks.json', allowInsecureClusterHttp: true, fetchImpl: ep.fetchImpl });
      expect(await reason(new JwsVerifier(c, { algorithms: ['ES256'] }).verify(token('up-1')))).toBe('accepted');
      expect(ep.requests).toEqual(['http://payrail-signing:8081/.well-known/jwks.json']);
    });
  });

  describe('over real HTTP (loopback)', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/slow') return void setTimeout(() => res.end('{"keys":[]}'), 2000).unref();
        if (req.url === '/redirect') {
          res.writeHead(302, { location: '/jwks' });
          return void res.end();
        }
        res.setHeader('content-type', 'application/jwk-set+json');
        res.end(JSON.stringify({ keys: [keys.es256('up-1').publicJwk] }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('fetches with the global fetch', async () => {
      const client = new RemoteJwksClient({ url: `${base}/jwks` });
      await client.refresh();
      expect(client.keys()?.has('up-1')).toBe(true);
    });

    it('times out (AbortSignal.timeout) and refuses redirects', async () => {
      const t0 = Date.now();
      await expect(new RemoteJwksClient({ url: `${base}/slow`, timeoutMs: 100 }).refresh()).rejects.toThrow();
      expect(Date.now() - t0).toBeLessThan(1500);
      await expect(new RemoteJwksClient({ url: `${base}/redirect` }).refresh()).rejects.toThrow();
      // an endpoint that cannot be read gives no verdict on the kid: unavailable (retried), never "no such key"
      const v = new JwsVerifier(new RemoteJwksClient({ url: `${base}/slow`, timeoutMs: 100 }), { algorithms: ['ES256'] });
      expect(await reason(v.verify(token('up-1')))).toBe('unavailable');
    });
  });
});
