import { z } from 'zod';
import { ConfigError, JwksUrlRule, authFailureThrottle, authFailureThrottleEnvFragment, envBool, envInt, envList, parseEnv, serviceEnvFragment, serviceSettings, signingJwksEnvFragment, signingJwksPlainHttpWarning, signingJwksSource, signingJwksUrl } from './env';

const Schema = z.object({ ...serviceEnvFragment, KAFKA_BROKERS: envList, ENABLED: envBool.default(false), WORKERS: envInt(1, 8).default(2) });

describe('TRUSTED_PROXIES', () => {
  it('is empty unless set, and takes addresses and CIDRs of either family', () => {
    expect(serviceSettings(parseEnv(Schema, { HTTP_PORT: '8080', KAFKA_BROKERS: 'a:1' })).http.trustedProxies).toEqual([]);
    expect(serviceSettings(parseEnv(Schema, { HTTP_PORT: '8080', KAFKA_BROKERS: 'a:1', TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7,fd00::/8' })).http.trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
  });

  it('refuses to start on anything else, naming the variable and the entry', () => {
    for (const bad of ['10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/1', 'fd00::/129', '*']) {
      let error: unknown;
      try {
        parseEnv(Schema, { HTTP_PORT: '8080', KAFKA_BROKERS: 'a:1', TRUSTED_PROXIES: bad });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([{ variable: 'TRUSTED_PROXIES', reason: expect.stringContaining(`"${bad}" is not an IP address or CIDR`) }]);
    }
  });
});

describe('parseEnv', () => {
  it('coerces and defaults variables', () => {
    const c = parseEnv(Schema, { HTTP_PORT: '8080', KAFKA_BROKERS: 'a:1, b:2', ENABLED: 'true' });
    expect(c).toEqual({ HTTP_HOST: '0.0.0.0', HTTP_PORT: 8080, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_S: 25, KAFKA_BROKERS: ['a:1', 'b:2'], ENABLED: true, WORKERS: 2 });
  });

  it('names every missing or bad variable with the reason', () => {
    let error: unknown;
    try {
      parseEnv(Schema, { HTTP_PORT: '70000', WORKERS: 'two', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.variable).sort()).toEqual(['HTTP_PORT', 'KAFKA_BROKERS', 'LOG_LEVEL', 'WORKERS']);
    expect(problems.find((p) => p.variable === 'KAFKA_BROKERS')?.reason).toBe('is required but not set');
    expect(problems.find((p) => p.variable === 'HTTP_PORT')?.reason).toContain('65535');
  });
});

describe('the failed-authentication throttle (CLIENT_AUTH_FAILURE_LIMIT_PER_S, CLIENT_AUTH_FAILURE_LIMIT_BURST)', () => {
  const Throttle = z.object(authFailureThrottleEnvFragment({ perSecond: 2, burst: 30 }));

  it("takes each service's defaults, whole numbers and decimals below one a second", () => {
    expect(authFailureThrottle(parseEnv(Throttle, {}))).toEqual({ perSecond: 2, burst: 30 });
    expect(authFailureThrottle(parseEnv(Throttle, { CLIENT_AUTH_FAILURE_LIMIT_PER_S: '0.0003', CLIENT_AUTH_FAILURE_LIMIT_BURST: '5' }))).toEqual({ perSecond: 0.0003, burst: 5 });
  });

  it.each([
    ['CLIENT_AUTH_FAILURE_LIMIT_PER_S', '0'],
    ['CLIENT_AUTH_FAILURE_LIMIT_PER_S', '-1'],
    ['CLIENT_AUTH_FAILURE_LIMIT_PER_S', '1e3'],
    ['CLIENT_AUTH_FAILURE_LIMIT_PER_S', 'fast'],
    ['CLIENT_AUTH_FAILURE_LIMIT_BURST', '0'],
    ['CLIENT_AUTH_FAILURE_LIMIT_BURST', '1.5'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    let error: unknown;
    try {
      parseEnv(Throttle, { [variable]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual([variable]);
  });
});

describe('signing JWKS source (SIGNING_JWKS_URL, SIGNING_JWKS_FILE, SIGNING_JWKS_ALLOW_HTTP)', () => {
  const Jwks = z.object(signingJwksEnvFragment);
  /** Stands in for @payrail/crypto's checkJwksUrl (tested there): https ok, http://signing a cluster name, other http refused. */
  const rule: JwksUrlRule = (url, { allowInsecureClusterHttp }) => {
    const u = new URL(url);
    if (u.protocol === 'https:') return { ok: true, origin: u.origin, transport: 'https' };
    if (u.hostname === '127.0.0.1') return { ok: true, origin: u.origin, transport: 'loopback-http' };
    if (u.hostname !== 'signing') return { ok: false, reason: `${u.origin} must use https`, optInWouldAllow: false };
    return allowInsecureClusterHttp ? { ok: true, origin: u.origin, transport: 'cluster-http' } : { ok: false, reason: `${u.origin} must use https: needs an opt-in`, optInWouldAllow: true };
  };
  const load = (env: Record<string, string>) => signingJwksSource(parseEnv(Jwks, env), rule);
  const problems = (env: Record<string, string>): { variable: string; reason: string }[] => {
    try {
      load(env);
    } catch (err) {
      if (err instanceof ConfigError) return [...err.problems];
      throw err;
    }
    return [];
  };

  it('parses SIGNING_JWKS_ALLOW_HTTP as a boolean, default false, and names it when it is not one', () => {
    expect(parseEnv(Jwks, {}).SIGNING_JWKS_ALLOW_HTTP).toBe(false);
    expect(parseEnv(Jwks, { SIGNING_JWKS_ALLOW_HTTP: 'true' }).SIGNING_JWKS_ALLOW_HTTP).toBe(true);
    expect(parseEnv(Jwks, { SIGNING_JWKS_ALLOW_HTTP: '1' }).SIGNING_JWKS_ALLOW_HTTP).toBe(true);
    expect(parseEnv(Jwks, { SIGNING_JWKS_ALLOW_HTTP: 'false' }).SIGNING_JWKS_ALLOW_HTTP).toBe(false);
    for (const bad of ['yes', 'TRUE', 'on', '']) {
      expect(problems({ SIGNING_JWKS_FILE: '/keys/jwks.json', SIGNING_JWKS_ALLOW_HTTP: bad })).toEqual([{ variable: 'SIGNING_JWKS_ALLOW_HTTP', reason: 'must be true or false' }]);
    }
  });

  it('gives the URL with the opt-in the client needs, or the file', () => {
    expect(load({ SIGNING_JWKS_URL: 'https://signing.example/jwks' })).toEqual({ url: 'https://signing.example/jwks', allowInsecureClusterHttp: false });
    expect(load({ SIGNING_JWKS_URL: 'http://127.0.0.1:8081/jwks' })).toEqual({ url: 'http://127.0.0.1:8081/jwks', allowInsecureClusterHttp: false });
    expect(load({ SIGNING_JWKS_URL: 'http://signing:8081/jwks', SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual({ url: 'http://signing:8081/jwks', allowInsecureClusterHttp: true });
    expect(load({ SIGNING_JWKS_FILE: '/keys/jwks.json' })).toEqual({ file: '/keys/jwks.json' });
    expect(load({ SIGNING_JWKS_FILE: '/keys/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'false' })).toEqual({ file: '/keys/jwks.json' });
  });

  it('refuses naming SIGNING_JWKS_URL what the client would refuse, pointing at the opt-in only where it would help', () => {
    expect(problems({ SIGNING_JWKS_URL: 'http://signing:8081/jwks' })).toEqual([
      { variable: 'SIGNING_JWKS_URL', reason: 'http://signing:8081 must use https: needs an opt-in (SIGNING_JWKS_ALLOW_HTTP=true; only where a network policy restricts who answers on that name: see docs/operations.md)' },
    ]);
    expect(problems({ SIGNING_JWKS_URL: 'http://jwks.example.com/jwks', SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual([{ variable: 'SIGNING_JWKS_URL', reason: 'http://jwks.example.com must use https' }]);
    expect(problems({})).toEqual([{ variable: 'SIGNING_JWKS_URL', reason: 'set SIGNING_JWKS_URL or SIGNING_JWKS_FILE to verify Payrail signatures' }]);
  });

  it('refuses an opt-in that allows nothing, naming SIGNING_JWKS_ALLOW_HTTP', () => {
    expect(problems({ SIGNING_JWKS_URL: 'https://signing.example/jwks', SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual([
      { variable: 'SIGNING_JWKS_ALLOW_HTTP', reason: 'is true but SIGNING_JWKS_URL (https://signing.example) is not plain http to a cluster-internal name: remove it' },
    ]);
    expect(problems({ SIGNING_JWKS_URL: 'http://127.0.0.1:8081/jwks', SIGNING_JWKS_ALLOW_HTTP: 'true' })[0]?.variable).toBe('SIGNING_JWKS_ALLOW_HTTP');
    expect(problems({ SIGNING_JWKS_FILE: '/keys/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual([
      { variable: 'SIGNING_JWKS_ALLOW_HTTP', reason: 'applies only to SIGNING_JWKS_URL (plain http to a cluster-internal name), which is not set: remove it' },
    ]);
    expect(signingJwksUrl({ SIGNING_JWKS_ALLOW_HTTP: false }, rule)).toBeUndefined();
  });

  it('words the boot warning only when the opt-in is in use: origin, variable, why', () => {
    expect(signingJwksPlainHttpWarning({ file: '/keys/jwks.json' })).toBeUndefined();
    expect(signingJwksPlainHttpWarning(undefined)).toBeUndefined();
    expect(signingJwksPlainHttpWarning({ url: 'https://signing.example/jwks', allowInsecureClusterHttp: false })).toBeUndefined();
    const w = signingJwksPlainHttpWarning(load({ SIGNING_JWKS_URL: 'http://signing:8081/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' }));
    expect(w).toMatchObject({ origin: 'http://signing:8081', variable: 'SIGNING_JWKS_ALLOW_HTTP' });
    expect(w?.message).toContain('http://signing:8081 (SIGNING_JWKS_ALLOW_HTTP=true)');
    expect(w?.message).toMatch(/public keys only.*payrail-ingress-signing-jwks.*https SIGNING_JWKS_URL or SIGNING_JWKS_FILE/s);
  });
});
