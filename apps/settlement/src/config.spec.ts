import { ConfigError } from '@payrail/config';
import { loadSettlementConfig } from './config';
import { newApiClientToken } from './http/api-clients';

const consoleClient = newApiClientToken('console', ['ledger:read']).client;
const base = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379', SIGNING_JWKS_FILE: '/keys/public.jwks.json', SETTLEMENT_API_CLIENTS: JSON.stringify({ clients: [consoleClient] }), EVENT_SEAL_KEYS_FILE: '/keys/settlement-seal.jwks.json', FRAUD_CHECK_SEAL_JWKS_FILE: '/keys/fraud-check-seal.jwks.json' };

function problems(env: Record<string, string>): string[] {
  try {
    loadSettlementConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.variable);
    throw err;
  }
  return [];
}

describe('settlement configuration', () => {
  it('reads the fee schedule and the batch policy with their defaults', () => {
    const c = loadSettlementConfig(base);
    expect(c.fee).toEqual({ bps: 150, fixedMinor: 10 });
    expect(c.batch).toEqual({ cutoffS: 3600, maxPayments: 1000, graceS: 30, closeIntervalS: 5 });
    expect(c.invariantCheckIntervalS).toBe(300);
  });

  it('reads the failed-authentication throttle of the operators API (1 a second, 60 at once by default), refusing bad values naming the variable', () => {
    expect(loadSettlementConfig(base).authFailureThrottle).toEqual({ perSecond: 1, burst: 60 });
    expect(loadSettlementConfig({ ...base, CLIENT_AUTH_FAILURE_LIMIT_PER_S: '0.5', CLIENT_AUTH_FAILURE_LIMIT_BURST: '10' }).authFailureThrottle).toEqual({ perSecond: 0.5, burst: 10 });
    expect(problems({ ...base, CLIENT_AUTH_FAILURE_LIMIT_PER_S: '0' })).toEqual(['CLIENT_AUTH_FAILURE_LIMIT_PER_S']);
    expect(problems({ ...base, CLIENT_AUTH_FAILURE_LIMIT_BURST: 'many' })).toEqual(['CLIENT_AUTH_FAILURE_LIMIT_BURST']);
  });

  it("refuses to start without its sealing keys or fraud-check's public sealing keys, naming each variable", () => {
    const { EVENT_SEAL_KEYS_FILE: _own, FRAUD_CHECK_SEAL_JWKS_FILE: _peer, ...unsealed } = base;
    expect(() => loadSettlementConfig(unsealed)).toThrow(/EVENT_SEAL_KEYS_FILE[\s\S]*FRAUD_CHECK_SEAL_JWKS_FILE|FRAUD_CHECK_SEAL_JWKS_FILE[\s\S]*EVENT_SEAL_KEYS_FILE/);
  });

  it('refuses to start without API clients, or with a bad clients file, naming the variable', () => {
    expect(loadSettlementConfig(base).apiClients).toEqual([consoleClient]);
    const { SETTLEMENT_API_CLIENTS: _omit, ...withoutClients } = base;
    expect(problems(withoutClients)).toEqual(['SETTLEMENT_API_CLIENTS']);
    expect(problems({ ...base, SETTLEMENT_API_CLIENTS: 'not json' })).toEqual(['SETTLEMENT_API_CLIENTS']);
    expect(problems({ ...base, SETTLEMENT_API_CLIENTS: JSON.stringify({ clients: [{ ...consoleClient, token_sha256: 'plain-token' }] }) })).toEqual(['SETTLEMENT_API_CLIENTS']);
    expect(problems({ ...withoutClients, SETTLEMENT_API_CLIENTS_FILE: '/nonexistent/clients.json' })).toEqual(['SETTLEMENT_API_CLIENTS_FILE']);
    expect(problems({ ...base, BATCH_MAX_PAYMENTS: '20000', BATCH_CUTOFF_S: '10' }).sort()).toEqual(['BATCH_CUTOFF_S', 'BATCH_MAX_PAYMENTS']);
  });

  it("checks SIGNING_JWKS_URL at boot with RemoteJwksClient's rule: plain http to a cluster-internal name only with SIGNING_JWKS_ALLOW_HTTP", () => {
    const { SIGNING_JWKS_FILE: _file, ...withoutKeys } = base;
    const url = 'http://payrail-signing.payrail.svc.cluster.local:8081/.well-known/jwks.json';
    expect(loadSettlementConfig({ ...withoutKeys, SIGNING_JWKS_URL: url, SIGNING_JWKS_ALLOW_HTTP: 'true' }).payrailKeys).toEqual({ url, allowInsecureClusterHttp: true });
    expect(loadSettlementConfig({ ...withoutKeys, SIGNING_JWKS_URL: 'https://signing.payrail.example/.well-known/jwks.json' }).payrailKeys).toEqual({ url: 'https://signing.payrail.example/.well-known/jwks.json', allowInsecureClusterHttp: false });
    expect(problems({ ...withoutKeys, SIGNING_JWKS_URL: url })).toEqual(['SIGNING_JWKS_URL']);
    expect(problems({ ...withoutKeys, SIGNING_JWKS_URL: 'http://203.0.113.7:8081/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual(['SIGNING_JWKS_URL']);
    expect(problems({ ...base, SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual(['SIGNING_JWKS_ALLOW_HTTP']);
  });
});
