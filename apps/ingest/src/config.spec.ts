import { randomBytes } from 'node:crypto';
import { ConfigError } from '@payrail/config';
import { loadIngestConfig } from './config';

const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_URL: 'redis://127.0.0.1:6379',
  UPSTREAMS_DIR: '/etc/payrail/upstreams',
  PROTECTION_JWKS_FILE: '/etc/payrail/protection.jwks.json',
  EVENT_SEAL_KEYS_FILE: '/etc/payrail/ingest-seal.jwks.json',
  SIGNING_JWKS_FILE: '/etc/payrail/payrail.jwks.json',
  FRAUD_CHECK_SEAL_JWKS_FILE: '/etc/payrail/fraud-check-seal.jwks.json',
  SETTLEMENT_SEAL_JWKS_FILE: '/etc/payrail/settlement-seal.jwks.json',
  INGEST_INBOUND_JWE_KEYS_FILE: '/etc/payrail/inbound.private.jwks.json',
  FINGERPRINT_KEY: randomBytes(32).toString('base64'),
  ...extra,
});

function refusedVariables(extra: Record<string, string>): string[] {
  try {
    loadIngestConfig(env(extra));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.variable);
    throw err;
  }
  return [];
}

describe('ingest configuration: the per-address throttle before signature checks', () => {
  it('defaults to a generous request budget and a small failed-authentication budget per address', () => {
    expect(loadIngestConfig(env()).clientThrottle).toEqual({ attempts: { perSecond: 20_000, burst: 40_000 }, failures: { perSecond: 50, burst: 100 } });
  });

  it('takes the four variables, rates as decimals too', () => {
    expect(loadIngestConfig(env({ CLIENT_RATE_LIMIT_PER_S: '2.5', CLIENT_AUTH_FAILURE_LIMIT_PER_S: '0.0003' })).clientThrottle).toEqual({ attempts: { perSecond: 2.5, burst: 40_000 }, failures: { perSecond: 0.0003, burst: 100 } });
    const config = loadIngestConfig(env({ CLIENT_RATE_LIMIT_PER_S: '500', CLIENT_RATE_LIMIT_BURST: '1000', CLIENT_AUTH_FAILURE_LIMIT_PER_S: '5', CLIENT_AUTH_FAILURE_LIMIT_BURST: '20' }));
    expect(config.clientThrottle).toEqual({ attempts: { perSecond: 500, burst: 1000 }, failures: { perSecond: 5, burst: 20 } });
  });

  it.each([
    ['CLIENT_RATE_LIMIT_PER_S', '0'],
    ['CLIENT_RATE_LIMIT_BURST', 'lots'],
    ['CLIENT_AUTH_FAILURE_LIMIT_PER_S', '-1'],
    ['CLIENT_AUTH_FAILURE_LIMIT_BURST', '1.5'],
  ])('refuses to start on a bad %s, naming it', (variable, value) => {
    expect(refusedVariables({ [variable]: value })).toEqual([variable]);
  });
});
