import { ConfigError } from '@payrail/config';
import { keysWithRetries, runSettlementCommand } from './settlement';

// nothing listens there: a command that got as far as connecting would fail differently
const ENV = { REDIS_URL: 'redis://127.0.0.1:1', KAFKA_BROKERS: '127.0.0.1:1', FRAUD_CHECK_SEAL_JWKS_FILE: '/keys/fraud-check-seal.jwks.json', SETTLEMENT_SEAL_JWKS_FILE: '/keys/settlement-seal.jwks.json' };

async function refusal(env: Record<string, string>): Promise<{ variable: string; reason: string }[]> {
  const err: unknown = await runSettlementCommand('reconcile', { ...ENV, ...env }, { out: () => undefined, err: () => undefined }).catch((e: unknown) => e);
  if (!(err instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(err)}`);
  return [...err.problems];
}

describe('payrail settlement: the signing JWKS settings, checked before anything connects', () => {
  it('refuses plain http to a cluster-internal name without SIGNING_JWKS_ALLOW_HTTP, naming SIGNING_JWKS_URL and the opt-in', async () => {
    const [problem, ...rest] = await refusal({ SIGNING_JWKS_URL: 'http://payrail-signing:8081/.well-known/jwks.json' });
    expect(rest).toEqual([]);
    expect(problem?.variable).toBe('SIGNING_JWKS_URL');
    expect(problem?.reason).toMatch(/^http:\/\/payrail-signing:8081 must use https: .*SIGNING_JWKS_ALLOW_HTTP=true/);
  });

  it('refuses plain http to any other host even with the opt-in, and an opt-in that allows nothing', async () => {
    expect((await refusal({ SIGNING_JWKS_URL: 'http://jwks.example.com/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' }))[0]?.variable).toBe('SIGNING_JWKS_URL');
    expect((await refusal({ SIGNING_JWKS_URL: 'http://10.0.0.12:8081/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' }))[0]?.variable).toBe('SIGNING_JWKS_URL');
    expect((await refusal({ SIGNING_JWKS_FILE: '/keys/public.jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'true' }))[0]?.variable).toBe('SIGNING_JWKS_ALLOW_HTTP');
    expect((await refusal({ SIGNING_JWKS_URL: 'http://payrail-signing:8081/.well-known/jwks.json', SIGNING_JWKS_ALLOW_HTTP: 'maybe' }))[0]?.variable).toBe('SIGNING_JWKS_ALLOW_HTTP');
  });
});

describe('payrail settlement: the keys are fetched before any verdict', () => {
  it('retries a JWKS that does not answer yet, saying so, and goes on once it does', async () => {
    let calls = 0;
    const said: string[] = [];
    await keysWithRetries({ ready: async () => { if (++calls < 2) throw new Error('fetch failed'); } }, { err: (s) => said.push(s) }, 3);
    expect(calls).toBe(2);
    expect(said).toEqual(["payrail's public keys not fetched (fetch failed); retrying in 1 s\n"]);
  });

  it('gives up after its attempts with an error naming SIGNING_JWKS_URL and the cause, instead of judging signatures without keys', async () => {
    await expect(keysWithRetries({ ready: () => Promise.reject(new Error('connect ECONNREFUSED')) }, { err: () => undefined }, 2)).rejects.toThrow(
      "cannot fetch Payrail's public keys (SIGNING_JWKS_URL) after 2 attempts: connect ECONNREFUSED",
    );
  });
});
