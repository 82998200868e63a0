import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@payrail/config';
import { loadConsoleConfig } from './config';

const dir = mkdtempSync(join(tmpdir(), 'console-config-'));
const usersFile = join(dir, 'users.json');
writeFileSync(usersFile, JSON.stringify({ users: [{ username: 'a', role: 'viewer', password_scrypt: `scrypt$15$8$1$${'A'.repeat(22)}$${'B'.repeat(43)}` }] }));
const keyFile = join(dir, 'session.key');
writeFileSync(keyFile, randomBytes(32).toString('base64'));

const base = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379', CONSOLE_USERS_FILE: usersFile, CONSOLE_SESSION_KEY_FILE: keyFile };

function problems(env: Record<string, string>): string[] {
  try {
    loadConsoleConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.variable}: ${p.reason}`);
    throw err;
  }
  return [];
}

describe('console configuration', () => {
  it('reads the minimal configuration with safe defaults', () => {
    const config = loadConsoleConfig(base);
    expect(config).toMatchObject({ http: { host: '0.0.0.0', port: 8084 }, sessionTtlS: 900, sessionMaxAgeS: 28_800, cookieSecure: true, publicOrigin: undefined, healthUrls: {}, fraudAdmin: undefined, settlement: undefined });
    expect(config.users.map((u) => u.username)).toEqual(['a']);
    expect(config.sessionKey.length).toBe(32);
  });

  it('parses the service health list and the integrations with their secrets', () => {
    const tokenFile = join(dir, 'fraud.token');
    writeFileSync(tokenFile, 'pfo_token\n');
    const config = loadConsoleConfig({ ...base, CONSOLE_HEALTH_URLS: 'ingest=http://127.0.0.1:8080/, signing=http://127.0.0.1:8081', FRAUD_ADMIN_URL: 'http://127.0.0.1:8082/', FRAUD_ADMIN_TOKEN_FILE: tokenFile, SETTLEMENT_URL: 'http://127.0.0.1:8083', SETTLEMENT_API_TOKEN: 's'.repeat(32) });
    expect(config.healthUrls).toEqual({ ingest: 'http://127.0.0.1:8080', signing: 'http://127.0.0.1:8081' });
    expect(config.fraudAdmin).toEqual({ url: 'http://127.0.0.1:8082', token: 'pfo_token' });
    expect(config.settlement).toEqual({ url: 'http://127.0.0.1:8083', token: 's'.repeat(32) });
  });

  it('refuses to start naming the variable: no session key, a short one, a token-less fraud admin or settlement URL, an unreadable token file, a bad health list', () => {
    const { CONSOLE_SESSION_KEY_FILE: _, ...withoutKey } = base;
    expect(problems(withoutKey)).toEqual(['CONSOLE_SESSION_KEY: set CONSOLE_SESSION_KEY or CONSOLE_SESSION_KEY_FILE to base64 of at least 32 random bytes']);
    expect(problems({ ...withoutKey, CONSOLE_SESSION_KEY: randomBytes(16).toString('base64') })).toHaveLength(1);
    expect(problems({ ...base, FRAUD_ADMIN_URL: 'http://127.0.0.1:8082' })).toEqual(['FRAUD_ADMIN_TOKEN: is required (or FRAUD_ADMIN_TOKEN_FILE) when FRAUD_ADMIN_URL is set']);
    expect(problems({ ...base, SETTLEMENT_URL: 'http://127.0.0.1:8083' })).toEqual(['SETTLEMENT_API_TOKEN: is required (or SETTLEMENT_API_TOKEN_FILE) when SETTLEMENT_URL is set']);
    expect(problems({ ...base, FRAUD_ADMIN_URL: 'http://127.0.0.1:8082', FRAUD_ADMIN_TOKEN_FILE: join(dir, 'no.token') })).toEqual([`FRAUD_ADMIN_TOKEN_FILE: cannot read ${join(dir, 'no.token')}: ENOENT`]);
    expect(problems({ ...base, CONSOLE_HEALTH_URLS: 'ingest' })).toEqual(['CONSOLE_HEALTH_URLS: "ingest" is not name=http(s)://host:port']);
    expect(problems({ ...base, CONSOLE_USERS_FILE: join(dir, 'missing.json') })).toEqual([`CONSOLE_USERS_FILE: cannot read ${join(dir, 'missing.json')}: ENOENT`]);
    expect(problems({ ...base, CONSOLE_SESSION_TTL_S: '10' })).toEqual(['CONSOLE_SESSION_TTL_S: must be >= 60']);
    expect(problems({ ...base, CONSOLE_SESSION_TTL_S: '28800' })).toEqual(['CONSOLE_SESSION_TTL_S: must be <= 3600']);
    expect(problems({ ...base, CONSOLE_SESSION_TTL_S: '3600', CONSOLE_SESSION_MAX_AGE_S: '1800' })).toEqual(['CONSOLE_SESSION_MAX_AGE_S: must be >= CONSOLE_SESSION_TTL_S (3600)']);
    expect(problems({ ...base, CONSOLE_PUBLIC_URL: 'http://console.example.com' })).toEqual([expect.stringMatching(/^CONSOLE_PUBLIC_URL: is plain http while CONSOLE_COOKIE_SECURE is true/)]);
    expect(loadConsoleConfig({ ...base, CONSOLE_PUBLIC_URL: 'https://console.example.com/ops/' }).publicOrigin).toBe('https://console.example.com');
  });

  it("checks SIGNING_JWKS_URL with the crypto library's rule: plain http to a cluster-internal name only with SIGNING_JWKS_ALLOW_HTTP", () => {
    expect(loadConsoleConfig(base).signingJwks).toBeUndefined();
    expect(loadConsoleConfig({ ...base, SIGNING_JWKS_URL: 'http://127.0.0.1:8081/.well-known/jwks.json' }).signingJwks).toEqual({ url: 'http://127.0.0.1:8081/.well-known/jwks.json', allowInsecureClusterHttp: false });
    expect(loadConsoleConfig({ ...base, SIGNING_JWKS_URL: 'https://signing.example/.well-known/jwks.json' }).signingJwks?.allowInsecureClusterHttp).toBe(false);
    expect(loadConsoleConfig({ ...base, SIGNING_JWKS_URL: 'http://payrail-signing:8081/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' }).signingJwks).toEqual({ url: 'http://payrail-signing:8081/.well-known/jwks.json', allowInsecureClusterHttp: true });
    expect(problems({ ...base, SIGNING_JWKS_URL: 'http://payrail-signing:8081/.well-known/jwks.json' })).toEqual([expect.stringMatching(/^SIGNING_JWKS_URL: http:\/\/payrail-signing:8081 must use https: .*SIGNING_JWKS_ALLOW_HTTP=true/)]);
    expect(problems({ ...base, SIGNING_JWKS_URL: 'http://jwks.example.com/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual([expect.stringMatching(/^SIGNING_JWKS_URL: http:\/\/jwks\.example\.com must use https/)]);
    expect(problems({ ...base, SIGNING_JWKS_ALLOW_HTTP: 'true' })).toEqual([expect.stringMatching(/^SIGNING_JWKS_ALLOW_HTTP: applies only to SIGNING_JWKS_URL/)]);
  });
});
