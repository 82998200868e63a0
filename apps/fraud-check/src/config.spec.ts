import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@payrail/config';
import { newOperatorToken } from './admin/operators';
import { loadFraudCheckConfig } from './config';

const BASE = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379', SIGNING_JWKS_FILE: '/keys/jwks.json', RULES_FILE: '/rules/ruleset.json', EVENT_SEAL_KEYS_FILE: '/keys/fraud-check-seal.jwks.json' };

function problems(env: Record<string, string>): { variable: string; reason: string }[] {
  try {
    loadFraudCheckConfig({ ...BASE, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('fraud-check configuration', () => {
  it('starts without operators (every admin call is then refused) and with defaults', () => {
    const config = loadFraudCheckConfig(BASE);
    expect(config).toMatchObject({ http: { port: 8082 }, operators: [], auditMaxEntries: 1_000_000, rulesFile: '/rules/ruleset.json' });
  });

  it('reads the failed-authentication throttle of the admin API (1 a second, 60 at once by default), refusing bad values naming the variable', () => {
    expect(loadFraudCheckConfig(BASE).authFailureThrottle).toEqual({ perSecond: 1, burst: 60 });
    expect(loadFraudCheckConfig({ ...BASE, CLIENT_AUTH_FAILURE_LIMIT_PER_S: '0.0003', CLIENT_AUTH_FAILURE_LIMIT_BURST: '5' }).authFailureThrottle).toEqual({ perSecond: 0.0003, burst: 5 });
    expect(problems({ CLIENT_AUTH_FAILURE_LIMIT_PER_S: '-1' }).map((p) => p.variable)).toEqual(['CLIENT_AUTH_FAILURE_LIMIT_PER_S']);
    expect(problems({ CLIENT_AUTH_FAILURE_LIMIT_BURST: '0' }).map((p) => p.variable)).toEqual(['CLIENT_AUTH_FAILURE_LIMIT_BURST']);
  });

  it('refuses to start without its decision sealing keys, naming EVENT_SEAL_KEYS_FILE', () => {
    const { EVENT_SEAL_KEYS_FILE: _seal, ...withoutSeal } = BASE;
    expect(() => loadFraudCheckConfig(withoutSeal)).toThrow(/EVENT_SEAL_KEYS_FILE/);
  });

  it('reads operators from a mounted file or inline JSON', () => {
    const { operator } = newOperatorToken('a.smith', 'write');
    const file = join(mkdtempSync(join(tmpdir(), 'payrail-ops-')), 'operators.json');
    writeFileSync(file, JSON.stringify({ operators: [operator] }));
    expect(loadFraudCheckConfig({ ...BASE, FRAUD_OPERATORS_FILE: file }).operators).toEqual([operator]);
    expect(loadFraudCheckConfig({ ...BASE, FRAUD_OPERATORS: JSON.stringify({ operators: [operator] }) }).operators).toEqual([operator]);
  });

  it('refuses to start naming the variable when operators are unreadable or invalid', () => {
    expect(problems({ FRAUD_OPERATORS_FILE: '/nonexistent/operators.json' })).toEqual([{ variable: 'FRAUD_OPERATORS_FILE', reason: 'cannot read /nonexistent/operators.json: ENOENT' }]);
    expect(problems({ FRAUD_OPERATORS: 'not json' })[0]?.variable).toBe('FRAUD_OPERATORS');
    expect(problems({ FRAUD_OPERATORS: '{"operators":[{"id":"x","role":"write","token_sha256":"secret"}]}' })[0]?.reason).toMatch(/^operators\.0\.token_sha256/);
    expect(problems({ FRAUD_OPERATORS: '{"operators":[]}', FRAUD_OPERATORS_FILE: '/x' })[0]?.variable).toBe('FRAUD_OPERATORS');
    expect(problems({ FRAUD_AUDIT_MAX_ENTRIES: '10' })[0]).toEqual({ variable: 'FRAUD_AUDIT_MAX_ENTRIES', reason: 'must be >= 1000' });
    expect(problems({ RULES_FILE: '' })[0]?.variable).toBe('RULES_FILE');
  });

  describe("Payrail's public keys: SIGNING_JWKS_URL checked at boot with RemoteJwksClient's own rule", () => {
    const { SIGNING_JWKS_FILE: _file, ...withoutKeys } = BASE;
    const keys = (env: Record<string, string>) => loadFraudCheckConfig({ ...withoutKeys, ...env }).payrailKeys;
    const refused = (env: Record<string, string>) => {
      try {
        loadFraudCheckConfig({ ...withoutKeys, ...env });
      } catch (err) {
        if (err instanceof ConfigError) return [...err.problems];
        throw err;
      }
      return [];
    };

    it('takes https, http to loopback, and http to a cluster-internal name with SIGNING_JWKS_ALLOW_HTTP=true', () => {
      expect(keys({ SIGNING_JWKS_FILE: '/keys/jwks.json' })).toEqual({ file: '/keys/jwks.json' });
      expect(keys({ SIGNING_JWKS_URL: 'https://signing.payrail.example/.well-known/jwks.json' })).toEqual({ url: 'https://signing.payrail.example/.well-known/jwks.json', allowInsecureClusterHttp: false });
      expect(keys({ SIGNING_JWKS_URL: 'http://127.0.0.1:8081/.well-known/jwks.json' })).toEqual({ url: 'http://127.0.0.1:8081/.well-known/jwks.json', allowInsecureClusterHttp: false });
      expect(keys({ SIGNING_JWKS_URL: 'http://payrail-signing:8081/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual({ url: 'http://payrail-signing:8081/.well-known/jwks.json', allowInsecureClusterHttp: true });
    });

    it('refuses to start naming the variable: plain http without the opt-in, to a non-cluster host, or an opt-in that allows nothing', () => {
      const [noOptIn] = refused({ SIGNING_JWKS_URL: 'http://payrail-signing:8081/.well-known/jwks.json' });
      expect(noOptIn?.variable).toBe('SIGNING_JWKS_URL');
      expect(noOptIn?.reason).toMatch(/^http:\/\/payrail-signing:8081 must use https: plain http to a cluster-internal name needs an explicit opt-in \(SIGNING_JWKS_ALLOW_HTTP=true/);
      expect(refused({ SIGNING_JWKS_URL: 'http://10.0.0.12:8081/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual([
        { variable: 'SIGNING_JWKS_URL', reason: 'http://10.0.0.12:8081 must use https: plain http to an IP address other than loopback is refused' },
      ]);
      expect(refused({ SIGNING_JWKS_URL: 'http://signing.payrail.example/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' })[0]?.variable).toBe('SIGNING_JWKS_URL');
      expect(refused({ SIGNING_JWKS_URL: 'https://signing.payrail.example/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' })[0]?.variable).toBe('SIGNING_JWKS_ALLOW_HTTP');
      expect(refused({ SIGNING_JWKS_FILE: '/keys/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' })[0]?.variable).toBe('SIGNING_JWKS_ALLOW_HTTP');
      expect(refused({ SIGNING_JWKS_URL: 'http://payrail-signing:8081/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'yes' })).toEqual([{ variable: 'SIGNING_JWKS_ALLOW_HTTP', reason: 'must be true or false' }]);
    });
  });
});
