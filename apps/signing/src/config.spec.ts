import { ConfigError } from '@payrail/config';
import { loadSigningConfig } from './config';

const seals = { INGEST_SEAL_JWKS_FILE: '/run/secrets/payrail-keys/seals/ingest.jwks.json', SETTLEMENT_SEAL_JWKS_FILE: '/run/secrets/payrail-keys/seals/settlement.jwks.json' };
const base = { KAFKA_BROKERS: '127.0.0.1:9092', SIGNING_KEYS_FILE: '/run/secrets/payrail-keys/signing/private.jwks.json', ...seals };

describe('signing configuration', () => {
  it('reads the key file, the JWKS max-age and development key generation', () => {
    const config = loadSigningConfig({ ...base, JWKS_MAX_AGE_S: '30', SIGNING_GENERATE_DEV_KEYS: 'true' });
    expect(config).toMatchObject({ keysFile: base.SIGNING_KEYS_FILE, jwksMaxAgeS: 30, generateDevKeys: true, http: { port: 8081 } });
  });

  it('refuses a missing SIGNING_KEYS_FILE by name', () => {
    expect(() => loadSigningConfig({ KAFKA_BROKERS: '127.0.0.1:9092', ...seals })).toThrow(expect.objectContaining({ problems: [{ variable: 'SIGNING_KEYS_FILE', reason: 'is required but not set' }] }));
  });

  it("refuses to start without ingest's and settlement's public sealing keys, naming each variable", () => {
    let err: unknown;
    try {
      loadSigningConfig({ KAFKA_BROKERS: '127.0.0.1:9092', SIGNING_KEYS_FILE: base.SIGNING_KEYS_FILE });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['INGEST_SEAL_JWKS_FILE', 'SETTLEMENT_SEAL_JWKS_FILE']);
  });

  it('refuses to generate development keys in production', () => {
    let err: unknown;
    try {
      loadSigningConfig({ ...base, SIGNING_GENERATE_DEV_KEYS: 'true', NODE_ENV: 'production' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([{ variable: 'SIGNING_GENERATE_DEV_KEYS', reason: expect.stringContaining('NODE_ENV=production') }]);
  });
});
